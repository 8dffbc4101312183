/** In what {@link RecordCutter.push} returns: finish the current object here; the bytes after go to the next one. */
export const CUT = null

const EMPTY = Buffer.alloc(0)

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
  #tail: Buffer = EMPTY
  /** The object is to end at the end of its first record. */
  #cutPending = false
  /** The delimiter's end can begin another one (`aa`): records must be found from the left. */
  readonly #overlaps: boolean

  constructor(maxObjectBytes: number, delimiter: Buffer | null) {
    this.#max = maxObjectBytes
    this.#delimiter = delimiter && delimiter.length > 0 ? delimiter : null
    this.#overlaps = this.#delimiter !== null && overlapsItself(this.#delimiter)
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
      // No record ends in `chunk` (one ending within the room would have been found): the record goes on. Held as
      // a copy: the write is acknowledged before the record ends, and its writer may then reuse its Buffer.
      this.#held.push(Buffer.from(chunk))
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

  /**
   * The rest of `chunk` after the record that ends at `end`. A delimiter ended there, so the next one begins in
   * the rest: no tail is kept, and a delimiter that overlaps itself (`aa` in `aaa`) is found where a scan of one
   * chunk finds it — the cuts do not depend on how the stream was split into writes, and a cutter started at an
   * object's first byte (a resumed sink) cuts as the first one did.
   */
  #advance(chunk: Buffer, end: number): Buffer {
    this.#tail = EMPTY
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
    if (this.#overlaps) return this.#lastRecordEndScanning(chunk, limit)
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

  /**
   * {@link #lastRecordEnd} for a delimiter that overlaps itself (`aa`, `\n\n`): records are found from the
   * left, each delimiter after the one before, as a scan of one chunk finds them — searching from the right
   * (`aaa` ends a record at 3, not 2) would cut elsewhere when the same bytes come in other writes.
   */
  #lastRecordEndScanning(chunk: Buffer, limit: number): number {
    const delimiter = this.#delimiter as Buffer
    let last = -1
    let from = 0
    for (let end = 1; end < delimiter.length && end <= chunk.length; end++) {
      if (!this.#endsAcross(chunk, end)) continue
      if (end > limit) return -1
      last = end
      from = end
      break
    }
    for (;;) {
      const at = chunk.indexOf(delimiter, from)
      if (at < 0 || at + delimiter.length > limit) return last
      last = at + delimiter.length
      from = last
    }
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

/** Whether a proper prefix of `delimiter` is also its suffix, so that two of them can overlap. */
function overlapsItself(delimiter: Buffer): boolean {
  for (let n = 1; n < delimiter.length; n++) {
    if (delimiter.compare(delimiter, delimiter.length - n, delimiter.length, 0, n) === 0) return true
  }
  return false
}
