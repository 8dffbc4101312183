import { Readable } from 'node:stream'

/** A libuv stream handle: the bytes it holds that the kernel has not taken yet. */
type QueueOf = { writeQueueSize?: unknown }

/** What `sent()` reads of the request's socket. */
type SocketState = {
  _handle?: (QueueOf & { _parent?: QueueOf | null }) | null
  connecting?: boolean
  encrypted?: boolean
  _secureEstablished?: boolean
}

/** Bytes a part body hands to its request before it waits for `'drain'`. */
export const WRITE_BATCH = 1024 * 1024

/**
 * The body of one attempt at a part: the part's blocks, each handed to the HTTP request whole (no copy), so that
 * the request writes a block in one call. A new one is made for every attempt, since a stream can be read only
 * once. Measured: 1 MiB slices cost a socket write each and 39 % of the sink's CPU.
 *
 * It is a Readable, so that any request handler can read it; but piped (as Node's HTTP handlers send a stream
 * body) it writes its blocks to the request itself, the last one with `end()`: a part of one block goes out as
 * `request.end(block)`, one write, as a raw PUT does, without the Readable's flow machinery in between (measured:
 * about 10 % of what the sink's per-part work costs above a raw PUT). Blocks handed over together are corked, so
 * that they go to the socket in one write; it waits for `'drain'` once {@link WRITE_BATCH} bytes are handed over
 * since the last wait, so that about that much at most is queued ahead of the socket. An upload's first part comes
 * in small blocks (64 KiB, 256 KiB, then 1 MiB), and a short upload's PutObject is one write, not a wait per block
 * (measured, 256 KiB objects: a wait per block cost 14 % more CPU per object).
 */
export class PartBody extends Readable {
  readonly #chunks: readonly Buffer[]
  readonly #onRead: (bytes: number) => void
  #next = 0
  /** Bytes handed to the request so far. */
  #handed = 0
  /** Bytes the kernel has taken, as last seen. */
  #sent = 0
  /** Where the SDK pipes the body: the HTTP request. */
  #dest: NodeJS.WritableStream | undefined

  constructor(chunks: readonly Buffer[], onRead: (bytes: number) => void) {
    // Read as a stream: one block queued ahead of the reader at most.
    super({ highWaterMark: 1 })
    this.#chunks = chunks
    this.#onRead = onRead
  }

  override pipe<T extends NodeJS.WritableStream>(dest: T, options?: { end?: boolean }): T {
    this.#dest = dest
    this.#writeTo(dest, options?.end !== false)
    return dest
  }

  /**
   * Writes the blocks not yet handed over to `dest`, corked, until it asks to wait and WRITE_BATCH bytes went since
   * the last wait; ends it with the last one.
   */
  #writeTo(dest: NodeJS.WritableStream, end: boolean): void {
    // Node's Writables (an HTTP request among them) cork; NodeJS.WritableStream does not say so.
    const corkable = dest as NodeJS.WritableStream & { cork?: () => void; uncork?: () => void }
    const corked = this.#chunks.length - this.#next > 1 && corkable.cork !== undefined
    if (corked) corkable.cork?.()
    let batch = 0
    try {
      while (!this.destroyed) {
        const chunk = this.#next < this.#chunks.length ? this.#take() : undefined
        if (chunk === undefined) {
          if (end) dest.end()
          return
        }
        if (chunk.length === 0) continue
        if (end && this.#next === this.#chunks.length) {
          dest.end(chunk)
          return
        }
        batch += chunk.length
        if (!dest.write(chunk) && batch >= WRITE_BATCH) {
          dest.once('drain', () => this.#writeTo(dest, end))
          return
        }
      }
    } finally {
      if (corked) corkable.uncork?.()
    }
  }

  /** The next block, counted as handed over. */
  #take(): Buffer {
    const chunk = this.#chunks[this.#next++] as Buffer
    if (chunk.length > 0) {
      this.#handed += chunk.length
      this.#onRead(chunk.length)
    }
    return chunk
  }

  /**
   * Ends a failed attempt for good: a request that has not sent all of its body is destroyed with its socket, so
   * that nothing reads the part's blocks once they are given back — the store may answer an error before the
   * body is all sent, and the blocks may then hold another part, of this sink or another.
   */
  abandon(): void {
    const dest = this.#dest as
      | (NodeJS.WritableStream & { writableFinished?: boolean; destroy?: () => void })
      | undefined
    if (dest && dest.writableFinished !== true) dest.destroy?.()
    this.destroy()
  }

  /**
   * Bytes of this body handed over that the kernel has not taken yet. A block goes to the socket in one write,
   * which the socket counts as written at once; what still waits is what this stream holds for the request, what
   * the request holds for its socket (`outputSize`; all of it before the request has a socket), and libuv's write
   * queue (`writeQueueSize` of the socket's handle, or under TLS of the TCP handle beneath it). A socket still
   * connecting, or still in its TLS handshake, holds what it was given in its own buffer: none of it is taken.
   * Once the request has flushed everything (`writableFinished`), nothing waits. Where a handle does not tell its
   * queue (a socket of another kind), a block counts as taken when the socket is given it.
   */
  queued(): number {
    return this.#handed - this.sent()
  }

  /**
   * Bytes of this body the kernel has taken: progress within a block, for the stall watchdog and `bytesSent`.
   * Never less than it said before.
   */
  sent(): number {
    const dest = this.#dest as
      | (NodeJS.WritableStream & {
          writableFinished?: boolean
          outputSize?: number
          socket?: SocketState | null
        })
      | undefined
    if (!dest || dest.writableFinished === true) {
      this.#sent = this.#handed
      return this.#sent
    }
    let waiting = this.readableLength + (dest.outputSize ?? 0)
    const socket = dest.socket
    if (socket && !socket.connecting && !(socket.encrypted === true && socket._secureEstablished === false)) {
      // Under TLS the socket's handle encrypts into the TCP handle beneath it, whose queue is the one that drains.
      const handle = socket._handle
      const queue = (handle?._parent ?? handle)?.writeQueueSize
      if (typeof queue === 'number') waiting += queue
    } else {
      waiting = this.#handed
    }
    this.#sent = Math.max(this.#sent, this.#handed - Math.min(this.#handed, waiting))
    return this.#sent
  }

  override _read(): void {
    for (;;) {
      if (this.#next >= this.#chunks.length) {
        this.push(null)
        return
      }
      const chunk = this.#take()
      if (chunk.length > 0 && !this.push(chunk)) return
    }
  }
}
