// The SDK's own PutObjectCommand with a Buffer body (the stream read into one Buffer first): the reference for
// what one small object costs. It computes its default CRC32 and signs as the client is configured.
import { PutObjectCommand } from '@aws-sdk/client-s3'
import type { Impl } from './types.js'

export const impl: Impl = {
  async upload(client, target, c, source) {
    const chunks: Buffer[] = []
    for await (const chunk of source) chunks.push(chunk as Buffer)
    await client.send(new PutObjectCommand({ Bucket: target.bucket, Key: c.key, Body: Buffer.concat(chunks) }))
    return {}
  },
}
