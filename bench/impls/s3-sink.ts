import { pipeline } from 'node:stream/promises'
import { S3Sink, type S3SinkOptions } from 's3-sink'
import type { Impl } from './types.js'

export const impl: Impl = sinkUploader({})

/**
 * s3-sink at the case's part size and concurrency (its defaults when the case asks for them), with `options` on
 * top (./s3-sink-unchecked.ts).
 */
export function sinkUploader(options: Partial<S3SinkOptions>): Impl {
  return {
    async upload(client, target, c, source) {
      const sink = new S3Sink({
        client,
        params: { Bucket: target.bucket, Key: c.key },
        ...(c.defaults ? {} : { partSize: c.partSize, concurrency: c.concurrency }),
        ...options,
      })
      await pipeline(source, sink)
      return { peakBufferedBytes: sink.progress.peakBufferedBytes, parts: sink.result?.parts ?? 0 }
    },
  }
}
