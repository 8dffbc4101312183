// Raw HTTP, the limit here: each part copied once from the stream into a reused part-sized Buffer and sent as one
// PUT with node:http, one write per part, signed with UNSIGNED-PAYLOAD. No checksum, no retries, no stream
// machinery. CreateMultipartUpload and Complete go through the SDK (two small requests per upload).
// `rawUploader({ copy: false })` is the bare network path: the stream is read but not copied, and the same
// part buffers go out again (./raw-network.ts).
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand } from '@aws-sdk/client-s3'
import { givePool, putter, takePool } from './put.js'
import type { Impl } from './types.js'

export const impl: Impl = rawUploader({ copy: true })

export function rawUploader({ copy }: { copy: boolean }): Impl {
  return {
    async upload(client, target, c, source) {
      const wire = putter(target, c.concurrency)
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: target.bucket, Key: c.key }))
      const path = `/${target.bucket}/${c.key}`
      const etags: string[] = []
      // Part buffers kept across uploads of the process, so the warm-up upload has touched them (fresh memory
      // would charge page faults to the measured run).
      const free = takePool(c.partSize, c.concurrency + 1)
      const inFlight = new Set<Promise<void>>()

      const put = async (partNumber: number, body: Buffer): Promise<void> => {
        etags[partNumber - 1] = await wire.put(
          path,
          { partNumber: String(partNumber), uploadId: UploadId as string },
          body,
        )
      }

      let part = free.pop() as Buffer
      let filled = 0
      let partNumber = 0
      const send = async (buffer: Buffer, length: number) => {
        partNumber++
        const task = put(partNumber, buffer.subarray(0, length)).finally(() => {
          inFlight.delete(task)
          free.push(buffer)
        })
        inFlight.add(task)
        while (inFlight.size >= c.concurrency) await Promise.race(inFlight)
      }
      for await (const chunk of source as AsyncIterable<Buffer>) {
        let offset = 0
        while (offset < chunk.length) {
          const n = Math.min(chunk.length - offset, c.partSize - filled)
          if (copy) chunk.copy(part, filled, offset, offset + n)
          filled += n
          offset += n
          if (filled === c.partSize) {
            await send(part, filled)
            part = free.pop() as Buffer
            filled = 0
          }
        }
      }
      if (filled > 0) await send(part, filled)
      await Promise.all(inFlight)
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: target.bucket,
          Key: c.key,
          UploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      )
      wire.close()
      givePool(c.partSize, free)
      return {}
    },
  }
}
