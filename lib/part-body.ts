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

  constructor(chunks: readonly Buffer[], onRead: (bytes: number) => void) {
    // The chunks are already in memory: a high-water mark of one chunk keeps the body from
    // queuing references ahead of the socket, so `onRead` reports what was really taken.
    super({ highWaterMark: 1 })
    this.#chunks = chunks
    this.#onRead = onRead
  }

  override _read(): void {
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
