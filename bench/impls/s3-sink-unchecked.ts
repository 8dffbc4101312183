// s3-sink with `checksum: false`: the same wire path without the part checksum, which raw HTTP does not compute
// either. Set beside s3-sink, it shows what the checksum costs; set beside raw HTTP, what the rest of the sink does.
import { pipeline } from 'node:stream/promises'
import { S3Sink } from 's3-sink'
import type { Impl } from './types.js'

export const impl: Impl = {
  async upload(client, target, c, source) {
    const sink = new S3Sink({
      client,
      params: { Bucket: target.bucket, Key: c.key },
      partSize: c.partSize,
      concurrency: c.concurrency,
      checksum: false,
    })
    await pipeline(source, sink)
    return { peakBufferedBytes: sink.progress.peakBufferedBytes, parts: sink.result?.parts ?? 0 }
  },
}
