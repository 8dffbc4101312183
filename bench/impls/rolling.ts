import { pipeline } from 'node:stream/promises'
import { S3RollingSink } from 's3-sink'
import type { Impl } from './types.js'

/** Objects of at most this many input bytes: a 512 MiB run makes 8 of them. */
export const MAX_OBJECT_BYTES = 64 * 2 ** 20

/**
 * S3RollingSink over the same stream, cut into objects after a `delimiter` (the source's bytes are random, so
 * `\n` ends a record every 256 bytes on average: a stream of small records), or anywhere with `null`.
 */
export function rolling(delimiter: string | null): Impl {
  return {
    async upload(client, target, c, source) {
      const sink = new S3RollingSink({
        client,
        params: { Bucket: target.bucket },
        key: `${c.key}/{index}`,
        maxObjectBytes: MAX_OBJECT_BYTES,
        delimiter,
        partSize: c.partSize,
        concurrency: c.concurrency,
      })
      await pipeline(source, sink)
      return { objects: sink.objects.length, peakBufferedBytes: sink.progress.peakBufferedBytes }
    },
  }
}

export const impl = rolling('\n')
