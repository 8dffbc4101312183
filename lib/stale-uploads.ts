import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  type S3Client,
} from '@aws-sdk/client-s3'

/** An incomplete multipart upload: neither completed nor aborted, its parts billed until someone aborts it. */
export interface IncompleteUpload {
  Bucket: string
  Key: string
  UploadId: string
  Initiated: Date | undefined
  /** Milliseconds since the upload was created. */
  ageMs: number
  /** Parts stored so far, and their bytes. */
  parts: number
  size: number
}

export interface ListIncompleteOptions {
  Bucket: string
  /** Only uploads whose key starts with this. */
  Prefix?: string
  /** Aborts the listing requests. */
  signal?: AbortSignal
}

/** Lists the incomplete multipart uploads of a bucket (under a prefix), with their age and stored size. */
export async function listIncompleteUploads(
  client: S3Client,
  options: ListIncompleteOptions,
): Promise<IncompleteUpload[]> {
  const { Bucket, Prefix, signal } = options
  const found: IncompleteUpload[] = []
  let KeyMarker: string | undefined
  let UploadIdMarker: string | undefined
  for (;;) {
    const page = await client.send(
      new ListMultipartUploadsCommand({
        Bucket,
        ...(Prefix ? { Prefix } : {}),
        ...(KeyMarker ? { KeyMarker } : {}),
        ...(UploadIdMarker ? { UploadIdMarker } : {}),
      }),
      { abortSignal: signal },
    )
    for (const upload of page.Uploads ?? []) {
      if (!upload.Key || !upload.UploadId) continue
      const { parts, size } = await measure(client, Bucket, upload.Key, upload.UploadId, signal)
      found.push({
        Bucket,
        Key: upload.Key,
        UploadId: upload.UploadId,
        Initiated: upload.Initiated,
        // Stores give Initiated to the second, and their clock is not ours: never a negative age.
        ageMs: upload.Initiated ? Math.max(0, Date.now() - upload.Initiated.getTime()) : 0,
        parts,
        size,
      })
    }
    if (!page.IsTruncated) return found
    KeyMarker = page.NextKeyMarker
    UploadIdMarker = page.NextUploadIdMarker
    if (!KeyMarker && !UploadIdMarker) return found
  }
}

async function measure(client: S3Client, Bucket: string, Key: string, UploadId: string, signal?: AbortSignal) {
  let parts = 0
  let size = 0
  let PartNumberMarker: string | undefined
  for (;;) {
    const page = await client
      .send(new ListPartsCommand({ Bucket, Key, UploadId, ...(PartNumberMarker ? { PartNumberMarker } : {}) }), {
        abortSignal: signal,
      })
      // Aborted or completed while we listed: nothing stored any more.
      .catch((err: unknown) => {
        if ((err as { name?: string }).name === 'NoSuchUpload') return { Parts: [], IsTruncated: false }
        throw err
      })
    for (const part of page.Parts ?? []) {
      parts++
      size += part.Size ?? 0
    }
    if (!page.IsTruncated || !('NextPartNumberMarker' in page) || !page.NextPartNumberMarker) return { parts, size }
    PartNumberMarker = String(page.NextPartNumberMarker)
  }
}

export interface AbortIncompleteOptions extends ListIncompleteOptions {
  /** Abort only uploads created more than this many milliseconds ago. */
  olderThan: number
  /** List what would be aborted, abort nothing. */
  dryRun?: boolean
}

/**
 * Aborts the incomplete multipart uploads of a bucket (under a prefix) older than `olderThan` ms, so that
 * their parts stop being billed. Returns the uploads it aborted (or, with `dryRun`, would abort).
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
  for (const upload of stale) {
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: upload.Bucket, Key: upload.Key, UploadId: upload.UploadId }),
      { abortSignal: options.signal },
    )
  }
  return stale
}
