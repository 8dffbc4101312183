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

  constructor(chunks: readonly Buffer[], onRead: (bytes: number) => void) {
    // One slice queued ahead of the socket: `onRead` runs at most 1 MiB ahead of what the socket took.
    super({ highWaterMark: SLICE })
    this.#chunks = chunks
    this.#onRead = onRead
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
