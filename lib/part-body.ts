import { Readable } from 'node:stream'

/**
 * The body of one attempt at a part: a Readable over the part's Buffers, pushed as they are (no copy,
 * no concatenation). A new one is made for every attempt, since a stream can be read only once — which is
 * also why the SDK will not retry a streamed request itself.
 */
export class PartBody extends Readable {
  readonly #chunks: readonly Buffer[]
  readonly #onRead: (bytes: number) => void
  #next = 0
  /** Where the SDK pipes the body: the HTTP request. */
  #dest: NodeJS.WritableStream | undefined

  constructor(chunks: readonly Buffer[], onRead: (bytes: number) => void) {
    // Up to 1 MiB of the part's chunks (references, not copies) queued ahead of the socket, so that the HTTP
    // request gets them in bursts it can send with one writev; `onRead` then runs at most 1 MiB ahead of the
    // socket. Measured on the null endpoint (2 GiB, 8 MiB × 4): 1.7 → 1.3 CPU-s/GiB against one chunk at a time.
    super({ highWaterMark: 1024 * 1024 })
    this.#chunks = chunks
    this.#onRead = onRead
  }

  override pipe<T extends NodeJS.WritableStream>(dest: T, options?: { end?: boolean }): T {
    this.#dest = dest
    return super.pipe(dest, options)
  }

  override _read(): void {
    // Corked while a burst of chunks is written, the request's socket sends them with one writev instead of
    // one write each: a further 7 % less CPU in the same measurement.
    const dest = this.#dest as (NodeJS.WritableStream & { cork?: () => void; uncork?: () => void }) | undefined
    if (dest?.cork && dest.uncork) {
      dest.cork()
      process.nextTick(() => dest.uncork?.())
    }
    for (;;) {
      const chunk = this.#chunks[this.#next++]
      if (chunk === undefined) {
        this.push(null)
        return
      }
      if (chunk.length === 0) continue
      this.#onRead(chunk.length)
      if (!this.push(chunk)) return
    }
  }
}
