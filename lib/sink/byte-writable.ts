import { Writable, type WritableOptions } from 'node:stream'
import type { S3SinkError } from '../core/errors.js'
import type { EventMap, TypedWritable } from './typed-events.js'
import { writableStreamOf } from './web.js'

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

  toWeb(): WritableStream<Uint8Array | string> {
    return writableStreamOf(this)
  }
}

/** What the sinks add to a Writable of bytes. */
export interface ByteSink {
  /**
   * This sink as a WHATWG `WritableStream`, for `fetch()` bodies, `Blob.stream()`, `CompressionStream`,
   * `TextDecoderStream` and whatever else hands out a `ReadableStream`: `await response.body.pipeTo(sink.toWeb())`.
   * It takes what the sink's `write()` takes: `Uint8Array`s (a `Buffer` is one), and strings, stored as UTF-8.
   *
   * - Each write resolves once the sink has taken its chunk, so the sink's backpressure (its window of parts in
   *   flight) holds the writer; `pipeTo()` reads no further ahead than the sink's `highWaterMark` in bytes.
   * - `close()`, and so `pipeTo()`, resolves only once the sink has finished: its object (a rolling sink: every
   *   object) is stored, and `result` is set.
   * - `abort(reason)`, a source that errors, and an aborted `pipeTo(…, { signal })` destroy the sink with that
   *   reason; the returned promise (and `pipeTo()`'s) settles once the multipart upload is aborted.
   * - A sink that fails errors the stream with its own {@link S3SinkError}, once its clean-up is done: the write
   *   or close in flight rejects with it, and so does `pipeTo()`.
   *
   * Take one WritableStream per sink, and write to the sink through it only.
   */
  toWeb(): WritableStream<Uint8Array | string>
}

/** The base of the sinks: a Writable of bytes (see above), its events typed by `Events` (see `TypedWritable`). */
export const ByteWritable = ClosingWritable as unknown as new <Events extends EventMap<Events>>(
  options?: WritableOptions,
) => TypedWritable<Events> & ByteSink
