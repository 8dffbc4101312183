import {
  PutObjectCommand,
  type PutObjectCommandOutput,
  UploadPartCommand,
  type UploadPartCommandOutput,
} from '@aws-sdk/client-s3'
import { checksumMember } from './checksum.js'
import { type ChecksumAlgorithm, pickFields, REQUEST_FIELDS, type S3SinkParams } from './options.js'
import { PartBody } from './part-body.js'
import type { Part } from './part-buffer.js'
import type { RequestPath, Sent } from './request.js'

/** What a request with a part's bytes as its body needs besides the part. */
export interface BodyRequest {
  path: RequestPath
  params: S3SinkParams
  checksum: ChecksumAlgorithm | false
  /** Called as the HTTP client takes the part's bytes, with how many; negative when a failed attempt's are undone. */
  onSent: (bytes: number) => void
}

/** UploadPart, each attempt with the part's Buffers as a fresh stream, its checksum and its length. */
export function uploadPart(req: BodyRequest, uploadId: string, part: Part): Promise<Sent<UploadPartCommandOutput>> {
  const input: Record<string, unknown> = {
    ...pickFields(req.params, REQUEST_FIELDS),
    Bucket: req.params.Bucket,
    Key: req.params.Key,
    UploadId: uploadId,
    PartNumber: part.partNumber,
    ContentLength: part.size,
  }
  return sendBody(req, 'UploadPart', part, input, (body) => {
    const command = new UploadPartCommand({ ...input, Body: body } as never)
    command.middlewareStack.add(withoutExpectContinue as never, WITHOUT_EXPECT_CONTINUE)
    return command
  })
}

/**
 * The S3 client sends `Expect: 100-continue` with every body of 2 MB or more, and its Node handler sends such a
 * request on a connection of its own, outside its keep-alive pool: a new TCP (and TLS) connection and a wait for
 * the 100 answer for every part. The upload exists by the time a part is sent (credentials, bucket and region
 * have answered CreateMultipartUpload), so parts go without the header, over the client's kept-alive
 * connections. Measured on the null endpoint: 132 connections for 134 requests, then 8. The header is not signed.
 */
const withoutExpectContinue =
  (next: (args: { request: unknown }) => Promise<unknown>) => (args: { request: unknown }) => {
    const request = args.request as { headers?: Record<string, string> }
    if (request?.headers) {
      delete request.headers.Expect
      delete request.headers.expect
    }
    return next(args)
  }
const WITHOUT_EXPECT_CONTINUE = { step: 'build', priority: 'low', name: 's3SinkWithoutExpectContinue' } as const

/** PutObject, for a stream that ended before its first part was full. */
export function putObject(req: BodyRequest, part: Part): Promise<Sent<PutObjectCommandOutput>> {
  const { ChecksumType: _, ...params } = req.params
  const input: Record<string, unknown> = { ...params, ContentLength: part.size }
  return sendBody(req, 'PutObject', part, input, (body) => new PutObjectCommand({ ...input, Body: body } as never))
}

async function sendBody<T>(
  req: BodyRequest,
  operation: 'UploadPart' | 'PutObject',
  part: Part,
  input: Record<string, unknown>,
  command: (body: PartBody) => UploadPartCommand | PutObjectCommand,
): Promise<Sent<T>> {
  if (req.checksum !== false && part.checksum) {
    // With the checksum given, the SDK sends a plain UNSIGNED-PAYLOAD request with a Content-Length:
    // no SHA-256 pass over the body and no aws-chunked framing (which Swift and Ceph reject).
    input.ChecksumAlgorithm = req.checksum
    input[checksumMember(req.checksum)] = await part.checksum
  }
  let sentByAttempt = 0
  return req.path.run<T>(
    operation,
    async ({ signal, progress }) => {
      // A retry sends the bytes of the failed attempt again: count each byte once in bytesSent.
      req.onSent(-sentByAttempt)
      sentByAttempt = 0
      const body = new PartBody(part.chunks, (bytes) => {
        progress()
        sentByAttempt += bytes
        req.onSent(bytes)
      })
      try {
        return await req.path.sendOnce<T>(command(body), signal)
      } catch (err) {
        body.abandon()
        throw err
      } finally {
        body.destroy()
      }
    },
    operation === 'UploadPart' ? { partNumber: part.partNumber } : {},
  )
}
