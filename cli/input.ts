// The command's input: stdin, a pipe or a file, read in large reads straight into the memory the bytes go to (an
// S3Sink's parts), with no Buffer made per read and no copy between the read and the part.
import { fstat, open, read, type Stats } from 'node:fs'
import { Socket } from 'node:net'
import type { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { isatty, ReadStream as TtyReadStream } from 'node:tty'

/**
 * Where the bytes read go: lends memory to read into (`room()`), takes in what a read wrote there (`fill(n)`,
 * false when it takes no more for now) and says when it takes more again (`ready()`). An S3Sink is one; a
 * {@link WriteTarget} makes one of any Writable.
 */
export interface Target {
  room(): Buffer
  fill(n: number): boolean
  ready(): Promise<void>
}

/** The most a read of a file asks for: a few threadpool round trips per part, each read hashed while in cache. */
const FILE_READ = 4 * 2 ** 20
/** How long a read that found nothing on a non-blocking descriptor (EAGAIN) waits before it tries again. */
const AGAIN_MS = 5

/**
 * An input, open: a regular file is read with positioned reads from `start`; a pipe, a socket or a terminal, on
 * Node.js, through the event loop into the target's memory (a socket's `onread`: no thread per read, no Buffer
 * per read); anything else (character devices, and every input on runtimes without `onread`) with `fs.read`.
 */
export class Input {
  /** The file was given as --file (else stdin). */
  readonly path: string | undefined
  readonly fd: number
  /** Bytes from `start` to the end of a regular file; undefined for a pipe, a socket or a terminal. */
  readonly size: number | undefined
  /** Whether reading can start past byte 0: a regular file. */
  readonly seekable: boolean
  readonly #stat: Stats
  #position: number
  #socket: Socket | undefined
  #stopped = false

  private constructor(path: string | undefined, fd: number, stat: Stats) {
    this.path = path
    this.fd = fd
    this.#stat = stat
    this.seekable = stat.isFile()
    this.size = stat.isFile() ? stat.size : undefined
    this.#position = 0
  }

  /**
   * Stdin, or the file at `path` (opened without blocking the event loop: a named pipe waits for its writer
   * there). Throws with the system's code (ENOENT, EACCES, EISDIR) when it cannot be opened.
   */
  static async open(path: string | undefined): Promise<Input> {
    const fd =
      path === undefined
        ? 0
        : await new Promise<number>((resolve, reject) => {
            open(path, 'r', (err, fd) => (err ? reject(err) : resolve(fd)))
          })
    const stat = await new Promise<Stats>((resolve, reject) => {
      fstat(fd, (err, stat) => (err ? reject(err) : resolve(stat)))
    })
    if (stat.isDirectory()) throw Object.assign(new Error(`${path ?? 'stdin'} is a directory`), { code: 'EISDIR' })
    return new Input(path, fd, stat)
  }

  /** Starts a seekable input at byte `offset` (a resumed upload skips the bytes its stored parts hold). */
  seek(offset: number): void {
    if (!this.seekable) throw new Error('seek() on an input that is not a regular file')
    this.#position = offset
  }

  /** Reads the input to its end into `target`; rejects with the read's error, or the target's. */
  readInto(target: Target): Promise<void> {
    const stat = this.#stat
    const streamed = (stat.isFIFO() || stat.isSocket() || isTerminal(this.fd, stat)) && hasOnread()
    return streamed ? this.#stream(target) : this.#pull(target)
  }

  /**
   * Stops reading: the promise of `readInto()` resolves once the read under way is taken in (a read blocked on
   * a pipe or a terminal, on runtimes without `onread`, stays blocked: the process ends without it).
   */
  stop(): void {
    this.#stopped = true
    this.#socket?.destroy()
  }

  /** Reads with `fs.read` into the target's room: positioned in a regular file, from where it stands otherwise. */
  async #pull(target: Target): Promise<void> {
    await target.ready()
    const positioned = this.seekable && this.path !== undefined
    for (;;) {
      if (this.#stopped) return
      const into = target.room()
      let n: number
      try {
        n = await readFd(this.fd, into, Math.min(into.length, FILE_READ), positioned ? this.#position : null)
      } catch (err) {
        target.fill(0)
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err
        await sleep(AGAIN_MS)
        continue
      }
      if (this.#stopped) {
        // Stopped while the read was under way: its bytes are not taken (the target may have ended).
        target.fill(0)
        return
      }
      this.#position += n
      const more = target.fill(n)
      if (n === 0) return
      if (!more) await target.ready()
    }
  }

  /**
   * Reads a pipe, a socket or a terminal as the event loop finds bytes in it, into the target's room (a socket's
   * `onread`); pauses while the target takes no more.
   */
  async #stream(target: Target): Promise<void> {
    await target.ready()
    if (this.#stopped) return
    await new Promise<void>((resolve, reject) => {
      let room: Buffer | undefined
      const onread = {
        // Asked for once at the start and again after each read: the room lent stays lent until a read fills it.
        buffer: (): Buffer | undefined => {
          try {
            room ??= target.room()
            return room
          } catch (err) {
            // The target failed meanwhile: nothing more is read; its failure is reported where it is awaited.
            socket.destroy()
            reject(err)
            return undefined
          }
        },
        callback: (n: number): boolean => {
          room = undefined
          if (target.fill(n)) return true
          target.ready().then(
            () => socket.read(0),
            (err: unknown) => {
              socket.destroy()
              reject(err)
            },
          )
          return false
        },
      }
      const options = { readable: true, writable: false, manualStart: true, onread }
      const socket: Socket = isTerminal(this.fd, this.#stat)
        ? new TtyReadStream(this.fd, options)
        : new Socket({ fd: this.fd, ...options })
      this.#socket = socket
      socket.once('end', () => {
        if (room) target.fill(0)
        room = undefined
        resolve()
      })
      socket.once('close', () => {
        // Destroyed by stop(): what was read is taken in.
        if (room) target.fill(0)
        room = undefined
        resolve()
      })
      socket.once('error', reject)
      socket.read(0)
    })
  }
}

/**
 * A Target over any Writable: reads land in slabs of fresh memory, one after another in a slab until it is full,
 * and each read is written as it is. Never reused: a Writable may keep what it was written past its callback.
 */
export class WriteTarget implements Target {
  static readonly SLAB = 2 ** 20
  readonly #writable: Writable
  #slab = Buffer.alloc(0)
  #used = 0

  constructor(writable: Writable) {
    this.#writable = writable
  }

  room(): Buffer {
    // A read into a nearly full slab would be a short one: a new slab, and the rest of the old one unused.
    if (this.#slab.length - this.#used < 64 * 1024) {
      this.#slab = Buffer.allocUnsafeSlow(WriteTarget.SLAB)
      this.#used = 0
    }
    return this.#slab.subarray(this.#used)
  }

  fill(n: number): boolean {
    if (n === 0) return !this.#writable.writableNeedDrain
    const chunk = this.#slab.subarray(this.#used, this.#used + n)
    this.#used += n
    return this.#writable.write(chunk)
  }

  ready(): Promise<void> {
    const writable = this.#writable
    if (writable.destroyed) return Promise.reject(writable.errored ?? new Error('the destination was destroyed'))
    if (!writable.writableNeedDrain) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        writable.off('drain', done)
        writable.off('close', closed)
        if (err) reject(err)
        else resolve()
      }
      const closed = () => done(writable.errored ?? new Error('the destination was destroyed'))
      writable.once('drain', done)
      writable.once('close', closed)
    })
  }
}

function readFd(fd: number, into: Buffer, length: number, position: number | null): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, into, 0, length, position, (err, n) => (err ? reject(err) : resolve(n)))
  })
}

/** A terminal: stdin typed at, or --file /dev/tty. (Not process.stdin.isTTY: that would open stdin's own stream.) */
function isTerminal(fd: number, stat: Stats): boolean {
  return stat.isCharacterDevice() && isatty(fd)
}

/**
 * Whether sockets read into memory they are given: Node.js's `onread` option (since Node.js 12). Bun and Deno
 * implement node:net without a promise of it, so there every input is read with `fs.read`, which both have.
 */
function hasOnread(): boolean {
  const versions = process.versions as Record<string, string | undefined>
  return versions.bun === undefined && versions.deno === undefined && !('Deno' in globalThis)
}
