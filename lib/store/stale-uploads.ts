import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListPartsCommand,
  type ListPartsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3'
import { S3SinkError } from '../core/errors.js'
import { RequestPath } from './request.js'
import { DEFAULT_REQUEST_POLICY } from './retry.js'
import { unknownUpload } from './store-limits.js'

/** An incomplete multipart upload: neither completed nor aborted, its parts billed until someone aborts it. */
export interface IncompleteUpload {
  /** The bucket it is in. */
  Bucket: string
  /** The key the upload would store. */
  Key: string
  /** The upload's id, as AbortMultipartUpload takes it. */
  UploadId: string
  /** When the store says it was created (to the second; moto gives every upload the same fixed time). */
  Initiated: Date | undefined
  /** Milliseconds since the upload was created. */
  ageMs: number
  /** Parts stored so far. */
  parts: number
  /** Bytes in those parts. */
  size: number
}

/** The options of {@link listIncompleteUploads}. */
export interface ListIncompleteOptions {
  /** The bucket to list. Required. */
  Bucket: string
  /** Only uploads whose key starts with this. @default every key */
  Prefix?: string
  /** Aborts the listing requests. */
  signal?: AbortSignal
  /** Attempts per request, as `S3SinkOptions.maxAttempts`. @default 20 */
  maxAttempts?: number
  /** Time budget of one request's retries in ms, as `S3SinkOptions.retryTimeout`. @default 120000 */
  retryTimeout?: number
  /** Base of the backoff between attempts in ms, as `S3SinkOptions.retryBaseDelay`. @default 200 */
  retryBaseDelay?: number
  /** Longest wait between two attempts in ms, as `S3SinkOptions.retryMaxDelay`. @default 20000 */
  retryMaxDelay?: number
  /** An attempt silent for this many ms is retried, as `S3SinkOptions.stallTimeout`. @default 60000 */
  stallTimeout?: number
}

/**
 * Lists the incomplete multipart uploads of a bucket (under a prefix), with their age and stored size. Every
 * request has the sink's default retry policy and stall watchdog; a listing that fails for good rejects with
 * `ERR_S3_SINK_LIST_FAILED`.
 *
 * @example What is left under a prefix, and what it costs
 * ```ts
 * for (const u of await listIncompleteUploads(client, { Bucket: 'backups', Prefix: 'db/' })) {
 *   console.log(`${u.Key}: ${u.parts} parts, ${u.size} bytes, ${Math.round(u.ageMs / 3_600_000)} h old`)
 * }
 * ```
 */
export async function listIncompleteUploads(
  client: S3Client,
  options: ListIncompleteOptions,
): Promise<IncompleteUpload[]> {
  const path = pathFor(client, options)
  const found: IncompleteUpload[] = []
  for (const upload of await listUploads(path, options)) {
    const { parts, size } = await measure(path, options.Bucket, upload.Key, upload.UploadId)
    found.push({
      Bucket: options.Bucket,
      ...upload,
      // Stores give Initiated to the second, and their clock is not ours: never a negative age.
      ageMs: upload.Initiated ? Math.max(0, Date.now() - upload.Initiated.getTime()) : 0,
      parts,
      size,
    })
  }
  return found
}

function pathFor(client: S3Client, options: ListIncompleteOptions): RequestPath {
  const d = DEFAULT_REQUEST_POLICY
  const policy = {
    maxAttempts: options.maxAttempts ?? d.maxAttempts,
    retryTimeout: options.retryTimeout ?? d.retryTimeout,
    baseDelay: options.retryBaseDelay ?? d.baseDelay,
    maxDelay: options.retryMaxDelay ?? d.maxDelay,
    stallTimeout: options.stallTimeout ?? d.stallTimeout,
  }
  return new RequestPath(client, policy, options.signal ?? new AbortController().signal)
}

/** Every incomplete upload of a bucket under a prefix, as ListMultipartUploads gives them, page after page. */
export async function listUploads(
  path: RequestPath,
  { Bucket, Prefix }: { Bucket: string; Prefix?: string | undefined },
): Promise<{ Key: string; UploadId: string; Initiated: Date | undefined }[]> {
  const found: { Key: string; UploadId: string; Initiated: Date | undefined }[] = []
  let KeyMarker: string | undefined
  let UploadIdMarker: string | undefined
  for (;;) {
    const { value: page } = await path.send<ListMultipartUploadsCommandOutput>(
      'ListMultipartUploads',
      () =>
        new ListMultipartUploadsCommand({
          Bucket,
          ...(Prefix ? { Prefix } : {}),
          ...(KeyMarker ? { KeyMarker } : {}),
          ...(UploadIdMarker ? { UploadIdMarker } : {}),
        }),
      { context: { bucket: Bucket } },
    )
    for (const upload of page.Uploads ?? []) {
      if (upload.Key && upload.UploadId) {
        found.push({ Key: upload.Key, UploadId: upload.UploadId, Initiated: upload.Initiated })
      }
    }
    if (!page.IsTruncated) return found
    KeyMarker = page.NextKeyMarker
    UploadIdMarker = page.NextUploadIdMarker
    if (!KeyMarker && !UploadIdMarker) return found
  }
}

async function measure(path: RequestPath, Bucket: string, Key: string, UploadId: string) {
  let parts = 0
  let size = 0
  let PartNumberMarker: string | undefined
  for (;;) {
    let page: ListPartsCommandOutput
    try {
      const marker = PartNumberMarker
      page = (
        await path.send<ListPartsCommandOutput>(
          'ListParts',
          () => new ListPartsCommand({ Bucket, Key, UploadId, ...(marker ? { PartNumberMarker: marker } : {}) }),
          { context: { bucket: Bucket, key: Key, uploadId: UploadId } },
        )
      ).value
    } catch (err) {
      // Aborted or completed while we listed: nothing stored any more.
      if (err instanceof S3SinkError && unknownUpload(err.cause)) return { parts: 0, size: 0 }
      throw err
    }
    for (const part of page.Parts ?? []) {
      parts++
      size += part.Size ?? 0
    }
    if (!page.IsTruncated || !page.NextPartNumberMarker) return { parts, size }
    PartNumberMarker = String(page.NextPartNumberMarker)
  }
}

/** The options of {@link abortIncompleteUploads}: those of {@link listIncompleteUploads} and these. */
export interface AbortIncompleteOptions extends ListIncompleteOptions {
  /**
   * Abort only uploads created at least this many milliseconds ago. Required: an upload still being written
   * is incomplete too, and aborting it fails that upload (a day, `86_400_000`, is a safe choice).
   */
  olderThan: number
  /** List what would be aborted, abort nothing. @default false */
  dryRun?: boolean
}

/**
 * Aborts the incomplete multipart uploads of a bucket (under a prefix) older than `olderThan` ms, so that
 * their parts stop being billed. Returns the uploads it aborted (or, with `dryRun`, would abort). An upload
 * completed or aborted by someone else meanwhile counts as aborted.
 *
 * @throws RangeError (`ERR_OUT_OF_RANGE`) when `olderThan` is not a number ≥ 0, before any request.
 * @example Abort what was left more than a day ago
 * ```ts
 * const aborted = await abortIncompleteUploads(client, { Bucket: 'backups', olderThan: 86_400_000 })
 * console.log(`aborted ${aborted.length} uploads`)
 * ```
 */
export async function abortIncompleteUploads(
  client: S3Client,
  options: AbortIncompleteOptions,
): Promise<IncompleteUpload[]> {
  if (typeof options.olderThan !== 'number' || !(options.olderThan >= 0)) {
    throw Object.assign(new RangeError(`olderThan must be a number of ms ≥ 0, got ${String(options.olderThan)}`), {
      code: 'ERR_OUT_OF_RANGE',
    })
  }
  const stale = (await listIncompleteUploads(client, options)).filter((u) => u.ageMs >= options.olderThan)
  if (options.dryRun) return stale
  const path = pathFor(client, options)
  for (const { Bucket, Key, UploadId } of stale) {
    await path
      .send('AbortMultipartUpload', () => new AbortMultipartUploadCommand({ Bucket, Key, UploadId }), {
        context: { bucket: Bucket, key: Key, uploadId: UploadId },
      })
      // Completed or aborted by someone else meanwhile: gone, as wanted.
      .catch((err: unknown) => {
        if (!(err instanceof S3SinkError && unknownUpload(err.cause))) throw err
      })
  }
  return stale
}
