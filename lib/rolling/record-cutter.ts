/** In what {@link RecordCutter.push} returns: finish the current object here; the bytes after go to the next one. */
export const CUT = null

/** Bytes for the current object, or {@link CUT}. */
export type Cut = Buffer | typeof CUT

/** What {@link RecordCutter.requestCut} did. */
export type CutRequest = 'now' | 'at-record-end' | 'empty'

/**
 * Cuts a stream of bytes into objects of whole records: an object ends only right after a delimiter, and holds
 * at most `maxObjectBytes` unless its first record alone is longer (that record is never split).
 *
 * Bytes are handed on as soon as they are known to belong to the current object. The start of a record that
 * might not fit is held back until its end shows whether it does; the bytes held never exceed the room left in
 * the object. Each byte is scanned once: a delimiter is searched for only in the new bytes (and across the
 * boundary with the bytes before them, for a delimiter of several bytes).
 */
export class RecordCutter {
  readonly #max: number
  readonly #delimiter: Buffer | null
  /** Bytes handed on into the current object. */
  #objectBytes = 0
  /** The current object's first record has not ended yet: the bytes up to its end go to this object. */
  #open = false
  /** A record that may not fit in the current object, held until its end or the object's end. */
  #held: Buffer[] = []
  #heldBytes = 0
  /** The last bytes before the ones being scanned, where a delimiter of several bytes may have begun. */
  #tail: Buffer = Buffer.alloc(0)
  /** The object is to end at the end of its first record. */
  #cutPending = false

  constructor(maxObjectBytes: number, delimiter: Buffer | null) {
    this.#max = maxObjectBytes
    this.#delimiter = delimiter && delimiter.length > 0 ? delimiter : null
  }

  /** Bytes handed on into the current object. */
  get objectBytes(): number {
    return this.#objectBytes
  }

  /** Bytes held back: the start of a record that may belong to the next object. */
  get heldBytes(): number {
    return this.#heldBytes
  }

  /** Cuts `chunk`: its bytes in order, for the current object, with a {@link CUT} wherever an object ends. */
  push(chunk: Buffer): Cut[] {
    const out: Cut[] = []
    let rest = chunk
    while (rest.length > 0) rest = this.#step(rest, out)
    return out
  }

  /**
   * Asks for the current object to end now (`rotate()`, or its age): at once when it ends on a record boundary
   * (`'now'`; the held start of a record goes to the next object), at the end of its first record when that
   * has not ended yet (`'at-record-end'`: a later {@link push} returns the cut), or not at all when the object
   * is empty.
   */
  requestCut(): CutRequest {
    if (this.#objectBytes === 0) return 'empty'
    if (this.#open) {
      this.#cutPending = true
      return 'at-record-end'
    }
    this.#objectBytes = 0
    return 'now'
  }

  /** The end of the stream: the held bytes (a last record without a delimiter) go to the current object. */
  flush(): Buffer[] {
    const held = this.#held
    this.#objectBytes += this.#heldBytes
    this.#held = []
    this.#heldBytes = 0
    this.#cutPending = false
    return held
  }

  /** Takes what it can of `chunk` into `out`; returns the rest. */
  #step(chunk: Buffer, out: Cut[]): Buffer {
    const delimiter = this.#delimiter
    if (delimiter === null) return this.#fill(chunk, out)
    if (this.#objectBytes === 0 || this.#open) return this.#firstRecord(chunk, out)
    // On a record boundary: whole records join the object while they fit.
    const room = this.#max - this.#objectBytes - this.#heldBytes
    const end = room > 0 ? this.#lastRecordEnd(chunk, room) : -1
    if (end > 0) {
      this.#handOn(out)
      out.push(chunk.subarray(0, end))
      this.#objectBytes += end
      return this.#advance(chunk, end)
    }
    if (chunk.length <= room) {
      // No record ends in `chunk` (one ending within the room would have been found): the record goes on.
      this.#held.push(chunk)
      this.#heldBytes += chunk.length
      this.#keepTail(chunk)
      return chunk.subarray(chunk.length)
    }
    // The record under way does not fit: the object ends before it, and the record begins the next one.
    out.push(CUT)
    this.#objectBytes = 0
    return chunk
  }

  /** With no delimiter: objects of exactly `maxObjectBytes`, cut anywhere. */
  #fill(chunk: Buffer, out: Cut[]): Buffer {
    if (this.#objectBytes >= this.#max) {
      out.push(CUT)
      this.#objectBytes = 0
    }
    const take = Math.min(this.#max - this.#objectBytes, chunk.length)
    out.push(take === chunk.length ? chunk : chunk.subarray(0, take))
    this.#objectBytes += take
    return chunk.subarray(take)
  }

  /** The object's first record goes into it whatever its length, up to and with its delimiter. */
  #firstRecord(chunk: Buffer, out: Cut[]): Buffer {
    this.#handOn(out)
    const end = this.#firstRecordEnd(chunk)
    if (end < 0) {
      out.push(chunk)
      this.#objectBytes += chunk.length
      this.#open = true
      this.#keepTail(chunk)
      return chunk.subarray(chunk.length)
    }
    out.push(chunk.subarray(0, end))
    this.#objectBytes += end
    this.#open = false
    if (this.#cutPending) {
      this.#cutPending = false
      out.push(CUT)
      this.#objectBytes = 0
    }
    return this.#advance(chunk, end)
  }

  /** Hands the held bytes on into the current object. */
  #handOn(out: Cut[]): void {
    if (this.#heldBytes === 0) return
    for (const held of this.#held) out.push(held)
    this.#objectBytes += this.#heldBytes
    this.#held = []
    this.#heldBytes = 0
  }

  /** The rest of `chunk` after `end`, with the tail its scan needs. */
  #advance(chunk: Buffer, end: number): Buffer {
    this.#keepTail(chunk.subarray(0, end))
    return chunk.subarray(end)
  }

  /** The end of the first delimiter in `chunk` (counting one that began in the bytes before), or -1. */
  #firstRecordEnd(chunk: Buffer): number {
    const delimiter = this.#delimiter as Buffer
    for (let end = 1; end < delimiter.length && end <= chunk.length; end++) {
      if (this.#endsAcross(chunk, end)) return end
    }
    const at = chunk.indexOf(delimiter)
    return at < 0 ? -1 : at + delimiter.length
  }

  /** The end of the last delimiter in `chunk` that ends within its first `limit` bytes, or -1. */
  #lastRecordEnd(chunk: Buffer, limit: number): number {
    const delimiter = this.#delimiter as Buffer
    const last = Math.min(limit, chunk.length) - delimiter.length
    if (last >= 0) {
      const at = chunk.lastIndexOf(delimiter, last)
      if (at >= 0) return at + delimiter.length
    }
    for (let end = Math.min(delimiter.length - 1, limit, chunk.length); end >= 1; end--) {
      if (this.#endsAcross(chunk, end)) return end
    }
    return -1
  }

  /** Whether a delimiter that began in the bytes before `chunk` ends at `end` in it. */
  #endsAcross(chunk: Buffer, end: number): boolean {
    const delimiter = this.#delimiter as Buffer
    const before = delimiter.length - end
    if (this.#tail.length < before) return false
    return (
      this.#tail.compare(delimiter, 0, before, this.#tail.length - before) === 0 &&
      chunk.compare(delimiter, before, delimiter.length, 0, end) === 0
    )
  }

  /** Keeps the last bytes seen, as many as a delimiter across two chunks may need. */
  #keepTail(seen: Buffer): void {
    const need = (this.#delimiter?.length ?? 1) - 1
    if (need === 0 || seen.length === 0) return
    this.#tail =
      seen.length >= need
        ? Buffer.from(seen.subarray(seen.length - need))
        : Buffer.concat([this.#tail, seen]).subarray(-need)
  }
}
