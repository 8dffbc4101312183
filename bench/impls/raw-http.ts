// Raw HTTP, the limit here: each part copied once from the stream into a reused part-sized Buffer and sent as one
// PUT with node:http, one write per part, signed with UNSIGNED-PAYLOAD. No checksum, no retries, no stream
// machinery. CreateMultipartUpload and Complete go through the SDK (two small requests per upload).
// `rawUploader({ copy: false })` is the bare network path: the stream is read but not copied, and the same
// part buffers go out again (./raw-network.ts).
import { Agent, request } from 'node:http'
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand } from '@aws-sdk/client-s3'
import { Hash } from '@smithy/hash-node'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'
import type { Impl } from './types.js'

export const impl: Impl = rawUploader({ copy: true })

export function rawUploader({ copy }: { copy: boolean }): Impl {
  return {
    async upload(client, target, c, source) {
      const url = new URL(target.endpoint)
      const signer = new SignatureV4({
        service: 's3',
        region: target.region,
        credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
        sha256: Hash.bind(null, 'sha256'),
        uriEscapePath: false,
        applyChecksum: false,
      })
      const agent = new Agent({ keepAlive: true, maxSockets: c.concurrency })
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: target.bucket, Key: c.key }))
      const path = `/${target.bucket}/${c.key}`
      const etags: string[] = []
      // Part buffers kept across uploads of the process, so the warm-up upload has touched them (fresh memory
      // would charge page faults to the measured run).
      const free = poolFor(c.partSize, c.concurrency + 1)
      const inFlight = new Set<Promise<void>>()

      const put = async (partNumber: number, body: Buffer): Promise<void> => {
        const signed = await signer.sign(
          new HttpRequest({
            method: 'PUT',
            protocol: url.protocol,
            hostname: url.hostname,
            port: Number(url.port),
            path,
            query: { partNumber: String(partNumber), uploadId: UploadId as string },
            headers: {
              host: url.host,
              'content-length': String(body.length),
              'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
            },
          }),
        )
        const query = new URLSearchParams(signed.query as Record<string, string>).toString()
        await new Promise<void>((resolve, reject) => {
          const req = request(
            {
              agent,
              host: url.hostname,
              port: url.port,
              method: 'PUT',
              path: `${path}?${query}`,
              headers: signed.headers,
            },
            (res) => {
              etags[partNumber - 1] = String(res.headers.etag)
              res.resume()
              res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))))
            },
          )
          req.on('error', reject)
          req.end(body)
        })
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
      agent.destroy()
      pools.set(c.partSize, free)
      return {}
    },
  }
}

const pools = new Map<number, Buffer[]>()

function poolFor(partSize: number, count: number): Buffer[] {
  const pool = pools.get(partSize) ?? []
  pools.delete(partSize)
  while (pool.length < count) pool.push(Buffer.allocUnsafe(partSize))
  return pool
}
