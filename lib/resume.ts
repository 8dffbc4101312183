import { ListPartsCommand, type ListPartsCommandOutput, type S3Client } from '@aws-sdk/client-s3'
import { checksumMember } from './checksum.js'
import { errorCode, httpStatus, S3SinkError } from './errors.js'
import type { ResumeState, StoredPart } from './types.js'

/** Parts the store still holds of an upload, by part number: ETag, size and the checksum it stored, if any. */
export async function listStoredParts(
  client: S3Client,
  state: Pick<ResumeState, 'bucket' | 'key' | 'uploadId' | 'checksum'>,
  extra: Record<string, unknown> = {},
): Promise<Map<number, { etag: string; size: number; checksum: string | undefined }>> {
  const stored = new Map<number, { etag: string; size: number; checksum: string | undefined }>()
  const member = state.checksum === false ? undefined : checksumMember(state.checksum)
  let marker: string | undefined
  for (;;) {
    let page: ListPartsCommandOutput
    try {
      page = await client.send(
        new ListPartsCommand({
          ...extra,
          Bucket: state.bucket,
          Key: state.key,
          UploadId: state.uploadId,
          ...(marker ? { PartNumberMarker: marker } : {}),
        } as never),
      )
    } catch (err) {
      if (errorCode(err) === 'NoSuchUpload') {
        throw new S3SinkError(
          'ERR_S3_SINK_UPLOAD_NOT_FOUND',
          `the store no longer knows upload ${state.uploadId} of ${state.bucket}/${state.key}: ` +
            'it was completed or aborted; start a new upload',
          { cause: err, bucket: state.bucket, key: state.key, uploadId: state.uploadId, statusCode: httpStatus(err) },
        )
      }
      throw new S3SinkError('ERR_S3_SINK_RESUME_FAILED', `ListParts failed: ${(err as Error).message}`, {
        cause: err,
        bucket: state.bucket,
        key: state.key,
        uploadId: state.uploadId,
        statusCode: httpStatus(err),
      })
    }
    for (const part of page.Parts ?? []) {
      if (part.PartNumber === undefined) continue
      const checksum = member ? (part as Record<string, unknown>)[member] : undefined
      stored.set(part.PartNumber, {
        etag: part.ETag ?? '',
        size: part.Size ?? -1,
        checksum: typeof checksum === 'string' ? checksum : undefined,
      })
    }
    if (!page.IsTruncated || !page.NextPartNumberMarker) return stored
    marker = String(page.NextPartNumberMarker)
  }
}

/**
 * The parts of `state` the store still holds, from part 1 on without a gap, with the same ETag and size.
 * Parts past the first gap are uploaded again.
 */
export function contiguousPrefix(
  state: ResumeState,
  stored: Map<number, { etag: string; size: number; checksum: string | undefined }>,
): StoredPart[] {
  const byNumber = new Map(state.parts.map((p) => [p.partNumber, p]))
  const prefix: StoredPart[] = []
  for (let n = 1; ; n++) {
    const mine = byNumber.get(n)
    const theirs = stored.get(n)
    if (!mine || !theirs || theirs.etag !== mine.etag || theirs.size !== mine.size) return prefix
    prefix.push({ ...mine, checksumAcknowledged: theirs.checksum !== undefined && theirs.checksum === mine.checksum })
  }
}

/**
 * Where a source that can seek (a file) should start to resume the upload of `state`: the bytes of the parts
 * the store still holds from part 1 on. Pass the same number as `sourceOffset` with `resume: state`.
 */
export async function resumeOffset(client: S3Client, state: ResumeState): Promise<number> {
  const prefix = contiguousPrefix(state, await listStoredParts(client, state))
  return prefix.reduce((sum, p) => sum + p.size, 0)
}
