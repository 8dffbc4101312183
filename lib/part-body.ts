import { Readable } from 'node:stream'

/** Most bytes handed to the HTTP request at once: the granularity of progress and of the stall watchdog. */
const SLICE = 1024 * 1024

/**
 * The body of one attempt at a part: a Readable over the part's blocks, pushed as views of at most 1 MiB (no
 * copy). A new one is made for every attempt, since a stream can be read only once — which is also why the SDK
 * will not retry a streamed request itself.
 */
export class PartBody extends Readable {
  readonly #chunks: readonly Buffer[]
  readonly #onRead: (bytes: number) => void
  #next = 0
  #offset = 0
  /** Where the SDK pipes the body: the HTTP request. */
  #dest: NodeJS.WritableStream | undefined

  constructor(chunks: readonly Buffer[], onRead: (bytes: number) => void) {
    // One slice queued ahead of the socket: `onRead` runs at most 1 MiB ahead of what the socket took.
    super({ highWaterMark: SLICE })
    this.#chunks = chunks
    this.#onRead = onRead
  }

  override pipe<T extends NodeJS.WritableStream>(dest: T, options?: { end?: boolean }): T {
    this.#dest = dest
    return super.pipe(dest, options)
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

  override _read(): void {
    for (;;) {
      const chunk = this.#chunks[this.#next]
      if (chunk === undefined) {
        this.push(null)
        return
      }
      if (this.#offset >= chunk.length) {
        this.#next++
        this.#offset = 0
        continue
      }
      const slice = chunk.subarray(this.#offset, this.#offset + SLICE)
      this.#offset += slice.length
      this.#onRead(slice.length)
      if (!this.push(slice)) return
    }
  }
}
