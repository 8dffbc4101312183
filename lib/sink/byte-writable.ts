import { Writable, type WritableOptions } from 'node:stream'
import type { EventMap, TypedWritable } from './typed-events.js'

/**
 * A Writable of bytes that closes when handed something else. Node throws at once on a chunk that is not bytes
 * (an object, a number, `null`) and leaves the stream open; a sink also closes, so that its uploads are aborted
 * rather than left behind. The throw is the report: no `'error'` event follows it (one nobody listens to would
 * end the process).
 */
class ClosingWritable extends Writable {
  override write(chunk: unknown, callback?: (error: Error | null | undefined) => void): boolean
  override write(
    chunk: unknown,
    encoding: BufferEncoding,
    callback?: (error: Error | null | undefined) => void,
  ): boolean
  override write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    try {
      return super.write(chunk, encoding as BufferEncoding, callback as (err?: Error | null) => void)
    } catch (err) {
      this.destroy()
      throw err
    }
  }
}

/** The base of the sinks: a Writable of bytes (see above), its events typed by `Events` (see `TypedWritable`). */
export const ByteWritable = ClosingWritable as unknown as new <Events extends EventMap<Events>>(
  options?: WritableOptions,
) => TypedWritable<Events>
