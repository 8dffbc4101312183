import { Writable } from 'node:stream'

/**
 * A Writable of bytes that closes when handed something else. Node throws at once on a chunk that is not bytes
 * (an object, a number, `null`) and leaves the stream open; a sink also closes, so that its uploads are aborted
 * rather than left behind. The throw is the report: no `'error'` event follows it (one nobody listens to would
 * end the process).
 */
export class ByteWritable extends Writable {
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
