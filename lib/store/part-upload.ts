// Where a part becomes a request: UploadPart (and the PutObject of a short stream), each attempt a fresh body.
import { createHash } from 'node:crypto'
import { PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3'
import { checksumMember } from '../checksum/checksum.js'
import { S3SinkError } from '../core/errors.js'
import type { ChecksumAlgorithm, Part } from '../core/types.js'
import { pickFields, REQUEST_FIELDS, type S3SinkParams } from './params.js'
import { PartBody } from './part-body.js'
import type { RequestPath, Sent } from './request.js'
import { templateFor } from './shared-template.js'
import { ignoredEncryption } from './store-limits.js'
import { sendOnWire, type WireAnswer, type WireTemplate } from './wire.js'

/** What a request with a part's bytes as its body needs besides the part. */
export interface BodyRequest {
  path: RequestPath
  params: S3SinkParams
  checksum: ChecksumAlgorithm | false
  /**
   * Called as the HTTP client takes the part's bytes, with how many; negative when a failed attempt's are undone.
   * Of those, `queuedBytes()` are still waiting for the kernel.
   */
  onSent: (bytes: number) => void
}

/**
 * Sends a sink's parts (and the single PutObject of a short stream) on the lean wire path: each attempt is one
 * request made from a template the SDK built once (for every sink of the client with the same params but the
 * key), signed and sent with the client's own signer and handler.
 */
export class PartSender {
  readonly #req: BodyRequest
  /** The UploadPart request of this upload, as the SDK builds it (made once, again after a failure). */
  #partTemplate: Promise<WireTemplate> | undefined
  /** The bodies of the attempts in flight. */
  readonly #bodies = new Set<PartBody>()

  constructor(req: BodyRequest) {
    this.#req = req
  }

  /**
   * Bytes handed to the requests in flight that the kernel has not taken yet: what `onSent` counted too early.
   * A part's block is handed in one write and taken by the kernel as the network drains it.
   */
  queuedBytes(): number {
    let queued = 0
    for (const body of this.#bodies) queued += body.queued()
    return queued
  }

  /** UploadPart, each attempt with the part's blocks as a fresh body, its checksum and its length. */
  uploadPart(uploadId: string, part: Part): Promise<Sent<PartOutput>> {
    const { params, checksum } = this.#req
    const input = withChecksumPlaceholder(checksum, {
      ...pickFields(params, REQUEST_FIELDS),
      Bucket: params.Bucket,
      Key: params.Key,
      UploadId: uploadId,
      PartNumber: part.partNumber,
      ContentLength: 0,
      Body: EMPTY,
    })
    const template = (signal: AbortSignal) => {
      this.#partTemplate ??= this.#capture(
        `UploadPart ${shapeOf(input)}`,
        (Key) => new UploadPartCommand({ ...input, Key } as never),
        signal,
      )
      return this.#partTemplate
    }
    return this.#send('UploadPart', part, input, template, { partNumber: String(part.partNumber), uploadId })
  }

  /**
   * PutObject, for a stream that ended before its first part was full. A store that took encryption headers
   * without confirming them stored the object all the same, unencrypted: that fails, and the message says so.
   */
  async putObject(part: Part): Promise<Sent<PartOutput>> {
    const { ChecksumType: _, ...params } = this.#req.params
    const input = withChecksumPlaceholder(this.#req.checksum, { ...params, ContentLength: 0, Body: EMPTY })
    let template: Promise<WireTemplate> | undefined
    const shape = `PutObject ${shapeOf(input)}`
    const sent = await this.#send(
      'PutObject',
      part,
      input,
      (signal) => {
        template ??= templateFor(
          this.#req.path.client,
          shape,
          (Key) => new PutObjectCommand({ ...input, Key } as never),
          params.Key,
          signal,
        )
        template.catch(() => {
          template = undefined
        })
        return template
      },
      {},
    )
    const ignored = ignoredEncryption(params, sent.value)
    if (ignored) {
      throw new S3SinkError(
        'ERR_S3_SINK_NOT_SUPPORTED',
        `PutObject: ${ignored}; the object was stored (ETag ${sent.value.ETag}), most likely unencrypted`,
        { bucket: params.Bucket, key: params.Key, attempts: sent.attempts },
      )
    }
    return sent
  }

  #capture(shape: string, command: (key: string) => object, signal: AbortSignal): Promise<WireTemplate> {
    const captured = templateFor(this.#req.path.client, shape, command, this.#req.params.Key, signal)
    captured.catch(() => {
      this.#partTemplate = undefined
    })
    return captured
  }

  async #send(
    operation: 'UploadPart' | 'PutObject',
    part: Part,
    input: object,
    template: (signal: AbortSignal) => Promise<WireTemplate>,
    query: Record<string, string>,
  ): Promise<Sent<PartOutput>> {
    const { path, checksum: algorithm, onSent } = this.#req
    const checksum = algorithm !== false && part.checksum ? { algorithm, value: await part.checksum } : undefined
    let sentByAttempt = 0
    return path.run(
      operation,
      async ({ signal, progress, watch }) => {
        const request = await template(signal)
        // A retry sends the bytes of the failed attempt again: count each byte once in bytesSent.
        onSent(-sentByAttempt)
        sentByAttempt = 0
        const body = new PartBody(part.chunks, (bytes) => {
          progress()
          sentByAttempt += bytes
          onSent(bytes)
        })
        // The watchdog also sees the kernel take bytes while one large block is being written.
        watch(() => body.sent())
        this.#bodies.add(body)
        try {
          const answer = await sendOnWire(path.client, request, { query, length: part.size, checksum, body }, signal)
          return outputOf(answer, algorithm)
        } catch (err) {
          body.abandon()
          throw err
        } finally {
          this.#bodies.delete(body)
          body.destroy()
        }
      },
      { ...(operation === 'UploadPart' ? { partNumber: part.partNumber } : {}), input: () => input, bytes: part.size },
    )
  }
}

/** What the sink reads of an UploadPart or PutObject answer. */
export type PartOutput = {
  ETag?: string
  VersionId?: string
  ServerSideEncryption?: string
  SSECustomerAlgorithm?: string
} & Record<string, string | undefined>

const EMPTY = Buffer.alloc(0)

/**
 * What a request's template depends on besides the key: the input's other fields (the upload id and part number
 * go in the query, which every request sets for itself).
 */
function shapeOf(input: Record<string, unknown>): string {
  const { Key: _key, Body: _body, UploadId: _id, PartNumber: _n, ...rest } = input
  // Hashed: the params may hold an SSE-C key, which a map key should not keep in the clear.
  return createHash('sha256').update(JSON.stringify(rest)).digest('base64')
}

/**
 * The template is built with an empty body: a checksum member with a placeholder keeps the SDK from computing
 * one (the wire path sets the real value); without a checksum the SDK may add its own, which the wire path drops.
 */
function withChecksumPlaceholder(
  checksum: ChecksumAlgorithm | false,
  input: Record<string, unknown>,
): Record<string, unknown> {
  if (checksum === false) return input
  return { ...input, ChecksumAlgorithm: checksum, [checksumMember(checksum)]: 'AAAAAA==' }
}

function outputOf(answer: WireAnswer, algorithm: ChecksumAlgorithm | false): PartOutput {
  const { headers } = answer
  const encryption = headers['x-amz-server-side-encryption']
  const customerKey = headers['x-amz-server-side-encryption-customer-algorithm']
  return {
    ETag: headers.etag,
    ...(headers['x-amz-version-id'] ? { VersionId: headers['x-amz-version-id'] } : {}),
    ...(encryption ? { ServerSideEncryption: encryption } : {}),
    ...(customerKey ? { SSECustomerAlgorithm: customerKey } : {}),
    ...(algorithm === false
      ? {}
      : { [checksumMember(algorithm)]: headers[`x-amz-checksum-${algorithm.toLowerCase()}`] }),
  }
}
