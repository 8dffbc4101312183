// `s3-sink roll --file PATH [--follow]`: the file's bytes as one stream, read from a stream offset, across the
// file's rotations (renamed, a new one created at PATH) and truncations (copytruncate), like `tail -F`.
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * A file the stream went through: its identity and the stream offset of its first byte. The stream is the
 * segments' bytes one after another: a rotation or a truncation begins a new segment.
 */
export interface FileSegment {
  dev: number
  ino: number
  start: number
}

/** How often a followed file is looked at once its end is reached. */
const POLL_MS = 100
const READ_SIZE = 256 * 1024
/**
 * Reads go into slabs of this size, each read into the slab's unused rest, and what a read brought is handed on
 * as a slice: no allocation per read (a followed file at its end is read every 100 ms for nothing), and a slab's
 * bytes once handed on are never read into again.
 */
const SLAB_SIZE = 4 * READ_SIZE

export interface FileSourceOptions {
  path: string
  /** The stream offset to start at. */
  offset: number
  /** The segments a checkpoint recorded (the last one is the file being read), or none. */
  segments: readonly FileSegment[]
  follow: boolean
  /** In follow mode, bytes after the last delimiter wait for the rest of their record. */
  delimiter: Buffer | null
  /** Whether bytes from `offset` on are needed again (objects in flight): they must still be there. */
  replayNeeded: boolean
  /** Told what the source does that the user should know (a file replaced while the command was not running). */
  warn: (message: string) => void
}

interface Current {
  fd: number
  dev: number
  ino: number
  /** Stream offset of the file's byte 0. */
  start: number
  /** Read position in the file. */
  position: number
  /** Stream offset where this segment ends, when a later one is known. */
  limit: number | undefined
  /** Whether this is the file at PATH, or one rotated away (read to its end, then PATH follows). */
  atPath: boolean
}

/** Why the file cannot be read from the checkpoint's offset. */
export class FileGoneError extends Error {}

/**
 * The file as a stream from a stream offset. Without `follow`, ends at the end of the file; with it, waits for
 * more, follows a rotation (the rest of the old file first, then the new one from its first byte) and a
 * truncation (the file again from byte 0), and ends on `stop()` with what it has read.
 */
export class FileSource extends Readable {
  readonly #options: FileSourceOptions
  readonly #segments: FileSegment[]
  #current: Current | undefined
  /** Stream offset of the next byte read. */
  #offset: number
  /** Bytes read and not yet pushed: the start of a record still being written. */
  #pending: Buffer[] = []
  #pendingBytes = 0
  #stopping = false
  #reading = false
  #slab = Buffer.alloc(0)
  #slabUsed = 0
  #readAgain = false

  constructor(options: FileSourceOptions) {
    super({ highWaterMark: READ_SIZE })
    this.#options = options
    this.#offset = options.offset
    this.#segments = options.segments.filter(
      (_segment, i) => (options.segments[i + 1]?.start ?? Number.POSITIVE_INFINITY) > options.offset,
    )
  }

  /** The segments from the one holding `offset` on: what a checkpoint written now needs. */
  segmentsFrom(offset: number): FileSegment[] {
    return this.#segments.filter((_segment, i) => (this.#segments[i + 1]?.start ?? Number.POSITIVE_INFINITY) > offset)
  }

  /** Stops following: the stream ends once the read under way is pushed (a record still open is not). */
  stop(): void {
    this.#stopping = true
    if (!this.#reading) this.#end()
  }

  override _construct(callback: (err?: Error | null) => void): void {
    try {
      this.#open()
      callback()
    } catch (err) {
      callback(err as Error)
    }
  }

  override _read(): void {
    if (this.#reading) {
      // Asked again while a read is under way (a push can do that): once it is done.
      this.#readAgain = true
      return
    }
    this.#reading = true
    this.#next().then(
      () => {
        this.#reading = false
        if (this.#stopping) this.#end()
        else if (this.#readAgain) {
          this.#readAgain = false
          this._read()
        }
      },
      (err: unknown) => {
        this.#reading = false
        this.destroy(err as Error)
      },
    )
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#close()
    callback(err)
  }

  #end(): void {
    if (this.readableEnded || this.destroyed) return
    // Without follow the file is whole: its last record is pushed even without a delimiter.
    if (!this.#options.follow) this.#flushPending()
    this.#close()
    this.push(null)
  }

  /** Opens the file that holds the start offset: the one at PATH, or the rotated one with its identity. */
  #open(): void {
    const { path, replayNeeded, warn } = this.#options
    const segment = this.#segments[0]
    if (!segment) {
      this.#openAtPath()
      return
    }
    const later = this.#segments[1]
    const position = this.#offset - segment.start
    if (this.#segments.some((s) => s !== segment && s.dev === segment.dev && s.ino === segment.ino)) {
      // Truncated since (copytruncate): the bytes the checkpoint needs were overwritten.
      throw new FileGoneError(
        `${path} was truncated after input offset ${this.#offset}, which the checkpoint still needs: its bytes ` +
          'are gone, the checkpoint cannot be continued',
      )
    }
    const found = this.#find(segment)
    if (found) {
      const size = fstatSync(found.fd).size
      if (size < position) {
        closeSync(found.fd)
        if (replayNeeded) {
          throw new FileGoneError(
            `${path} was truncated to ${size} bytes while the command was not running: the bytes from ` +
              `input offset ${this.#offset} (byte ${position} of the file) that the checkpoint needs are gone`,
          )
        }
        warn(`${path} was truncated while the command was not running: reading it again from its first byte`)
        this.#openAtPath()
        return
      }
      this.#current = { ...found, start: segment.start, position, limit: later?.start }
      return
    }
    if (replayNeeded || later) {
      throw new FileGoneError(
        `the file that held input offset ${this.#offset} (device ${segment.dev}, inode ${segment.ino}) is no ` +
          `longer ${path} nor beside it: the checkpoint cannot be continued`,
      )
    }
    warn(`${path} was replaced while the command was not running: reading the new file from its first byte`)
    this.#openAtPath()
  }

  /** Opens the file at PATH from its first byte, as a new segment beginning at the current stream offset. */
  #openAtPath(): void {
    const fd = openSync(this.#options.path, 'r')
    const { dev, ino } = fstatSync(fd)
    const start = this.#offset
    while ((this.#segments.at(-1)?.start ?? -1) >= start) this.#segments.pop()
    this.#segments.push({ dev, ino, start })
    this.#current = { fd, dev, ino, start, position: 0, limit: undefined, atPath: true }
  }

  /** The file of `segment`: PATH if it is still that file, else one beside it with its identity (rotated). */
  #find(segment: FileSegment): { fd: number; dev: number; ino: number; atPath: boolean } | undefined {
    const { path } = this.#options
    const candidates = [path]
    try {
      for (const name of readdirSync(dirname(path))) candidates.push(join(dirname(path), name))
    } catch {}
    for (const [i, candidate] of candidates.entries()) {
      let fd: number
      try {
        const stat = statSync(candidate)
        if (!stat.isFile() || stat.dev !== segment.dev || stat.ino !== segment.ino) continue
        fd = openSync(candidate, 'r')
      } catch {
        continue
      }
      const { dev, ino } = fstatSync(fd)
      if (dev === segment.dev && ino === segment.ino) return { fd, dev, ino, atPath: i === 0 }
      closeSync(fd)
    }
    return undefined
  }

  /** Reads and pushes the next bytes, waiting for them when following. */
  async #next(): Promise<void> {
    for (;;) {
      const current = this.#current as Current
      const room = current.limit === undefined ? READ_SIZE : Math.min(READ_SIZE, current.limit - this.#offset)
      if (room > 0) {
        if (this.#slab.length - this.#slabUsed < room) {
          this.#slab = Buffer.allocUnsafe(SLAB_SIZE)
          this.#slabUsed = 0
        }
        const at = this.#slabUsed
        const n = readSync(current.fd, this.#slab, at, room, current.position)
        if (n > 0) {
          this.#slabUsed += n
          current.position += n
          this.#offset += n
          if (this.#give(this.#slab.subarray(at, at + n))) return
          continue
        }
      }
      if (current.limit !== undefined && this.#offset < current.limit) {
        throw new FileGoneError(
          `the file that held input offsets ${this.#offset}..${current.limit} ends early: the checkpoint ` +
            'cannot be continued',
        )
      }
      // At the end of this file: a later segment, the file now at PATH, more bytes, or (without follow) the end.
      if (this.#switchFile()) continue
      if (!this.#options.follow || this.#stopping) {
        this.#end()
        return
      }
      await sleep(POLL_MS)
      if (this.#stopping) return
    }
  }

  /** After the end of the current file: moves to the next one if there is one; false when there is none yet. */
  #switchFile(): boolean {
    const current = this.#current as Current
    const { path } = this.#options
    if (current.limit !== undefined) {
      // A later segment the checkpoint recorded.
      const next = this.#segments.find((s) => s.start === current.limit) as FileSegment
      const found = this.#find(next)
      if (!found) {
        throw new FileGoneError(
          `the file that held input offset ${current.limit} (device ${next.dev}, inode ${next.ino}) is no longer ` +
            `${path} nor beside it: the checkpoint cannot be continued`,
        )
      }
      this.#flushPending()
      closeSync(current.fd)
      const later = this.#segments.find((s) => s.start > next.start)
      this.#current = { ...found, start: next.start, position: 0, limit: later?.start }
      return true
    }
    let stat: { dev: number; ino: number; size: number }
    try {
      stat = statSync(path)
    } catch {
      // Renamed away and not created again yet: the old file may still grow (a writer that has it open).
      return false
    }
    if (stat.dev !== current.dev || stat.ino !== current.ino) {
      // Rotated: the old file is read to its end (done: this is its end), then the new one from its first byte.
      this.#flushPending()
      closeSync(current.fd)
      this.#openAtPath()
      return true
    }
    if (fstatSync(current.fd).size < current.position) {
      // Truncated: what was read stays read; the file is read again from its first byte.
      this.#flushPending()
      this.#segments.push({ dev: current.dev, ino: current.ino, start: this.#offset })
      current.start = this.#offset
      current.position = 0
      return true
    }
    return false
  }

  /**
   * Pushes `bytes` (in follow mode, up to the last delimiter: the rest waits for its record's end). Returns
   * whether anything was pushed.
   */
  #give(bytes: Buffer): boolean {
    const { follow, delimiter } = this.#options
    if (!follow || !delimiter) return this.#pushAll(bytes)
    this.#pending.push(bytes)
    this.#pendingBytes += bytes.length
    const joined = this.#pending.length === 1 ? bytes : Buffer.concat(this.#pending, this.#pendingBytes)
    const at = joined.lastIndexOf(delimiter)
    if (at < 0) {
      this.#pending = [joined]
      return false
    }
    const end = at + delimiter.length
    const rest = joined.subarray(end)
    this.#pending = rest.length > 0 ? [rest] : []
    this.#pendingBytes = rest.length
    this.push(joined.subarray(0, end))
    return true
  }

  #pushAll(bytes: Buffer): boolean {
    this.push(bytes)
    return true
  }

  /** The end of a file: its last bytes are a record, whatever follows. */
  #flushPending(): void {
    if (this.#pendingBytes === 0) return
    const bytes = Buffer.concat(this.#pending, this.#pendingBytes)
    this.#pending = []
    this.#pendingBytes = 0
    this.push(bytes)
  }

  #close(): void {
    if (this.#current) {
      try {
        closeSync(this.#current.fd)
      } catch {}
      this.#current = undefined
    }
  }

  /** The stream offset of the first byte not pushed (bytes of a record still open are not). */
  get pushedOffset(): number {
    return this.#offset - this.#pendingBytes
  }
}
