import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  type CompleteMultipartUploadCommandOutput,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { checksumMember } from './checksum.js'
import { type ChecksumAlgorithm, pickFields, REQUEST_FIELDS, type S3SinkParams } from './options.js'
import type { StoredPart } from './types.js'

/** Fields of PutObject's input that CreateMultipartUpload has no place for; they go to Complete or nowhere. */
const NOT_FOR_CREATE = ['IfMatch', 'IfNoneMatch', 'WriteOffsetBytes'] as const
/** Fields Complete must repeat: conditional writes, and what every request repeats. */
const FOR_COMPLETE = ['IfMatch', 'IfNoneMatch', ...REQUEST_FIELDS] as const
const FOR_ABORT = ['RequestPayer', 'ExpectedBucketOwner'] as const

/**
 * Where the upload begins, completes or aborts. CreateMultipartUpload is sent when the first part is ready
 * (a stream shorter than one part never creates one) and, unlike the parts, is not cancelled by the sink's
 * signal: once it has been sent, the sink must learn the upload id so that it can abort the upload.
 * The SDK retries these small requests itself; the sink retries the streamed parts.
 */
export class MultipartUpload {
  readonly #client: S3Client
  readonly #params: S3SinkParams
  readonly #checksum: ChecksumAlgorithm | false
  readonly #created: Promise<string>
  #uploadId: string | undefined

  /** Creates a multipart upload, or takes up `existingUploadId` (when resuming). */
  constructor(client: S3Client, params: S3SinkParams, checksum: ChecksumAlgorithm | false, existingUploadId?: string) {
    this.#client = client
    this.#params = params
    this.#checksum = checksum
    this.#uploadId = existingUploadId
    this.#created = existingUploadId === undefined ? this.#create() : Promise.resolve(existingUploadId)
    // A failed Create is reported by the parts that wait for it; this keeps it from being unhandled meanwhile.
    this.#created.catch(() => {})
  }

  get uploadId(): string | undefined {
    return this.#uploadId
  }

  /** The upload id, once CreateMultipartUpload has answered. */
  id(): Promise<string> {
    return this.#created
  }

  async #create(): Promise<string> {
    const input: Record<string, unknown> = { ...this.#params }
    for (const field of NOT_FOR_CREATE) delete input[field]
    if (this.#checksum !== false) input.ChecksumAlgorithm = this.#checksum
    const output = await this.#client.send(new CreateMultipartUploadCommand(input as never))
    if (!output.UploadId) throw new Error('CreateMultipartUpload answered without an UploadId')
    this.#uploadId = output.UploadId
    return output.UploadId
  }

  async complete(parts: readonly StoredPart[], signal: AbortSignal): Promise<CompleteMultipartUploadCommandOutput> {
    const uploadId = await this.#created
    const member = this.#checksum === false ? undefined : checksumMember(this.#checksum)
    const completed: CompletedPart[] = parts.map((p) => ({
      PartNumber: p.partNumber,
      ETag: p.etag,
      ...(member && p.checksum !== undefined && p.checksumAcknowledged ? { [member]: p.checksum } : {}),
    }))
    const output = await this.#client.send(
      new CompleteMultipartUploadCommand({
        ...pickFields(this.#params, FOR_COMPLETE),
        Bucket: this.#params.Bucket,
        Key: this.#params.Key,
        UploadId: uploadId,
        MultipartUpload: { Parts: completed },
      } as never),
      { abortSignal: signal },
    )
    if (!output.ETag) {
      // Ceph RGW answers Complete with an empty ETag (a known bug); HeadObject has the right one.
      const head = await this.#client.send(
        new HeadObjectCommand({
          ...pickFields(this.#params, REQUEST_FIELDS),
          Bucket: this.#params.Bucket,
          Key: this.#params.Key,
          ...(output.VersionId ? { VersionId: output.VersionId } : {}),
        } as never),
        { abortSignal: signal },
      )
      output.ETag = head.ETag
    }
    return output
  }

  /** Aborts the upload so its parts are deleted and no longer billed. */
  async abort(): Promise<void> {
    let uploadId: string
    try {
      uploadId = await this.#created
    } catch {
      return // no upload was created: nothing to abort
    }
    await this.#client.send(
      new AbortMultipartUploadCommand({
        ...pickFields(this.#params, FOR_ABORT),
        Bucket: this.#params.Bucket,
        Key: this.#params.Key,
        UploadId: uploadId,
      } as never),
    )
  }
}
