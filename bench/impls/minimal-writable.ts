// The least a Writable uploader must do for the same work, the reference for s3-sink's cost: the same stream through
// `pipeline()` into a Writable that copies each write once into reused part buffers, sends each full part as one
// PUT with one write (./put.ts), holds the write callback while `concurrency` parts are in flight, and with `crc32`
// computes a CRC32 (@node-rs/crc32) over every byte as it is copied and sends it as the part's checksum header. No
// retries, no watchdog, no events, no resume: what s3-sink does on top of this is what it costs beyond the work.
// CreateMultipartUpload and Complete go through the SDK, as s3-sink's do.
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand } from '@aws-sdk/client-s3'
import { crc32 } from '@node-rs/crc32'
import { givePool, putter, takePool } from './put.js'
import type { Impl } from './types.js'

export const impl: Impl = minimalUploader({ crc32: false })

/**
 * `copy: false` is the zero-copy variant (./minimal-writable-held.ts): the written Buffers are held, not copied,
 * and a part goes out as their list in one corked write.
 */
export function minimalUploader({ crc32: withCrc, copy = true }: { crc32: boolean; copy?: boolean }): Impl {
  return {
    async upload(client, target, c, source) {
      const wire = putter(target, c.concurrency)
      const path = `/${target.bucket}/${c.key}`
      const free = takePool(c.partSize, c.concurrency + 1)
      const etags: string[] = []
      const checksums: string[] = []
      let uploadId: string | undefined
      let inFlight = 0
      let failure: Error | undefined
      let heldCallback: ((err?: Error | null) => void) | undefined
      let idle: (() => void) | undefined
      let part = free.pop() as Buffer
      let held: Buffer[] = []
      let filled = 0
      let crc = 0
      let partNumber = 0

      const release = () => {
        const callback = heldCallback
        heldCallback = undefined
        callback?.(failure)
      }
      const send = (buffer: Buffer, length: number, checksum: number) => {
        const number = ++partNumber
        inFlight++
        const header = withCrc ? crcHeader(checksum) : undefined
        const body = copy ? buffer.subarray(0, length) : held
        held = []
        wire
          .put(path, { partNumber: String(number), uploadId: uploadId as string }, body, header)
          .then(
            (etag) => {
              etags[number - 1] = etag
              if (header) checksums[number - 1] = header
            },
            (err: Error) => {
              failure ??= err
            },
          )
          .finally(() => {
            inFlight--
            free.push(buffer)
            if (inFlight < c.concurrency) release()
            if (inFlight === 0) idle?.()
          })
      }

      const sink = new Writable({
        highWaterMark: 16 * 1024,
        write(chunk: Buffer, _encoding, callback) {
          let offset = 0
          while (offset < chunk.length) {
            const n = Math.min(chunk.length - offset, c.partSize - filled)
            if (copy) {
              chunk.copy(part, filled, offset, offset + n)
              if (withCrc) crc = crc32(part.subarray(filled, filled + n), crc)
            } else {
              const piece = offset === 0 && n === chunk.length ? chunk : chunk.subarray(offset, offset + n)
              held.push(piece)
              if (withCrc) crc = crc32(piece, crc)
            }
            filled += n
            offset += n
            if (filled === c.partSize) {
              send(part, filled, crc)
              part = free.pop() as Buffer
              filled = 0
              crc = 0
            }
          }
          if (failure) callback(failure)
          else if (inFlight >= c.concurrency) heldCallback = callback
          else callback()
        },
        construct(callback) {
          client.send(new CreateMultipartUploadCommand({ Bucket: target.bucket, Key: c.key })).then(
            (out) => {
              uploadId = out.UploadId
              callback()
            },
            (err: Error) => callback(err),
          )
        },
        final(callback) {
          if (filled > 0) send(part, filled, crc)
          const done = () => {
            if (failure) return callback(failure)
            client
              .send(
                new CompleteMultipartUploadCommand({
                  Bucket: target.bucket,
                  Key: c.key,
                  UploadId: uploadId,
                  MultipartUpload: {
                    Parts: etags.map((ETag, i) => ({
                      ETag,
                      PartNumber: i + 1,
                      ...(withCrc ? { ChecksumCRC32: checksums[i] } : {}),
                    })),
                  },
                }),
              )
              .then(
                () => callback(),
                (err: Error) => callback(err),
              )
          }
          if (inFlight === 0) done()
          else idle = done
        },
      })
      await pipeline(source, sink)
      wire.close()
      givePool(c.partSize, free)
      return {}
    },
  }
}

function crcHeader(value: number): string {
  const out = Buffer.allocUnsafe(4)
  out.writeUInt32BE(value >>> 0)
  return out.toString('base64')
}
