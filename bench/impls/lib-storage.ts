import { Upload } from '@aws-sdk/lib-storage'
import type { Impl } from './types.js'

/**
 * @aws-sdk/lib-storage's Upload with the same part size and concurrency (its queueSize), or its defaults (5 MiB
 * parts, 4 at once) when the case asks for them.
 */
export const impl: Impl = {
  async upload(client, target, c, source) {
    const upload = new Upload({
      client,
      params: { Bucket: target.bucket, Key: c.key, Body: source },
      ...(c.defaults ? {} : { partSize: c.partSize, queueSize: c.concurrency }),
    })
    await upload.done()
    return {}
  },
}
