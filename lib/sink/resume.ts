// Resuming an upload: which parts the store still holds, where the new source starts, and the check of a source
// replayed from byte 0.
import { ListPartsCommand, type ListPartsCommandOutput, type S3Client } from '@aws-sdk/client-s3'
import { checksumMember } from '../checksum/checksum.js'
import { S3SinkError, type S3SinkErrorCode, type S3SinkErrorContext } from '../core/errors.js'
import type { Part, ResumeState, StoredPart } from '../core/types.js'
import { pickFields, REQUEST_FIELDS } from '../store/params.js'
import { RequestPath } from '../store/request.js'
import { DEFAULT_REQUEST_POLICY } from '../store/retry.js'
import { unknownUpload } from '../store/store-limits.js'
import type { ResolvedOptions } from './options.js'

type ListedPart = { etag: string; size: number; checksum: string | undefined }
type MakeError = (code: S3SinkErrorCode, message: string, context?: S3SinkErrorContext) => S3SinkError

/** Parts the store still holds of an upload, by part number: ETag, size and the checksum it stored, if any. */
export async function listStoredParts(
  path: RequestPath,
  state: Pick<ResumeState, 'bucket' | 'key' | 'uploadId' | 'checksum'>,
  extra: Record<string, unknown> = {},
): Promise<Map<number, ListedPart>> {
  const stored = new Map<number, ListedPart>()
  const member = state.checksum === false ? undefined : checksumMember(state.checksum)
  const context = { bucket: state.bucket, key: state.key, uploadId: state.uploadId }
  let marker: string | undefined
  for (;;) {
    let page: ListPartsCommandOutput
    try {
      const from = marker
      const sent = await path.send<ListPartsCommandOutput>(
        'ListParts',
        () =>
          new ListPartsCommand({
            ...extra,
            Bucket: state.bucket,
            Key: state.key,
            UploadId: state.uploadId,
            ...(from ? { PartNumberMarker: from } : {}),
          } as never),
        { code: 'ERR_S3_SINK_RESUME_FAILED', context },
      )
      page = sent.value
    } catch (err) {
      if (err instanceof S3SinkError && unknownUpload(err.cause)) {
        throw new S3SinkError(
          'ERR_S3_SINK_UPLOAD_NOT_FOUND',
          `the store no longer knows upload ${state.uploadId} of ${state.bucket}/${state.key}: ` +
            'it was completed or aborted; start a new upload',
          { ...context, cause: err.cause, statusCode: err.statusCode },
        )
      }
      throw err
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
export function contiguousPrefix(state: ResumeState, stored: Map<number, ListedPart>): StoredPart[] {
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
 * Rejects with an `S3SinkError` (`ERR_S3_SINK_UPLOAD_NOT_FOUND`, `ERR_S3_SINK_RESUME_FAILED`) when the
 * upload's parts cannot be listed.
 *
 * @example Resume a file's upload from a saved checkpoint
 * ```ts
 * const state = JSON.parse(await readFile('upload.checkpoint.json', 'utf8')) // saved on 'checkpoint'
 * const offset = await resumeOffset(client, state)
 * const sink = new S3Sink({ client, params: { Bucket: state.bucket, Key: state.key }, resume: state, sourceOffset: offset })
 * await pipeline(createReadStream('big.bin', { start: offset }), sink)
 * ```
 */
export async function resumeOffset(client: S3Client, state: ResumeState, signal?: AbortSignal): Promise<number> {
  const path = new RequestPath(client, DEFAULT_REQUEST_POLICY, signal ?? new AbortController().signal)
  const prefix = contiguousPrefix(state, await listStoredParts(path, state))
  return prefix.reduce((sum, p) => sum + p.size, 0)
}

/** How a sink takes up the upload of its `resume` option. */
export interface TakenUp {
  /** Parts stored already that this sink's source does not carry again (it starts at `sourceOffset`). */
  kept: StoredPart[]
  /** The number of the first part this sink's source fills. */
  firstPartNumber: number
  /** When the source is replayed from byte 0: the stored parts it meets again, to check rather than send. */
  replay: ReplayCheck | undefined
}

/**
 * Finds the parts the store still holds of the upload to resume (from part 1 on, without a gap) and decides
 * what the new source carries: from byte 0, those parts are met again and checked; from `sourceOffset` (which
 * must fall at the end of a stored part), they are kept as they are.
 */
export async function takeUp(path: RequestPath, options: ResolvedOptions, error: MakeError): Promise<TakenUp> {
  const { params, sourceOffset } = options
  const resume = options.resume as ResumeState
  const prefix = contiguousPrefix(resume, await listStoredParts(path, resume, pickFields(params, REQUEST_FIELDS)))
  if (sourceOffset === 0) return { kept: prefix, firstPartNumber: 1, replay: new ReplayCheck(prefix, error) }
  let end = 0
  const kept: StoredPart[] = []
  for (const part of prefix) {
    if (end === sourceOffset) break
    kept.push(part)
    end += part.size
  }
  if (end !== sourceOffset) {
    throw error(
      'ERR_S3_SINK_RESUME_FAILED',
      `sourceOffset ${sourceOffset} is not the end of a stored part (the store holds ${end} bytes ` +
        'from part 1 on): start the source at `await resumeOffset(client, state)`',
      { uploadId: resume.uploadId },
    )
  }
  return { kept, firstPartNumber: kept.length + 1, replay: undefined }
}

/**
 * The parts a source replayed from byte 0 meets again: each is checked against the stored one (size, and the
 * checksum when the store or the state has one), never sent. A difference means it is not the source the upload
 * began with: `ERR_S3_SINK_SOURCE_CHANGED`, and the upload is kept for the right source.
 */
export class ReplayCheck {
  readonly #stored: Map<number, StoredPart>
  readonly #storedBytes: number
  readonly #error: MakeError
  /** Checks of checksums still running. */
  readonly #checks: Promise<void>[] = []

  constructor(stored: readonly StoredPart[], error: MakeError) {
    this.#stored = new Map(stored.map((p) => [p.partNumber, p]))
    this.#storedBytes = stored.reduce((sum, p) => sum + p.size, 0)
    this.#error = error
  }

  /** Whether `partNumber` is stored already (the source's part is checked, not sent). */
  covers(partNumber: number): boolean {
    return this.#stored.has(partNumber)
  }

  /** Checks a part met again; `onChanged` gets the error when it differs from the stored part. */
  check(part: Part, onChanged: (err: S3SinkError) => void): void {
    // Its checksum is already running on its own: the bytes are not needed any more.
    part.release()
    const stored = this.#stored.get(part.partNumber) as StoredPart
    const changed = () =>
      onChanged(
        this.#error(
          'ERR_S3_SINK_SOURCE_CHANGED',
          `part ${part.partNumber} of the source differs from the part stored by the upload being resumed ` +
            '(size or checksum): it is not the source the upload began with',
          { partNumber: part.partNumber },
        ),
      )
    if (part.size !== stored.size) {
      changed()
      return
    }
    if (stored.checksum === undefined || part.checksum === undefined) return
    this.#checks.push(
      part.checksum.then((sum) => {
        if (sum !== stored.checksum) changed()
      }),
    )
  }

  /** The error of a source that ended before the parts already stored, if it did (`nextPartNumber` unfilled). */
  endedEarly(nextPartNumber: number, bytesWritten: number): S3SinkError | undefined {
    if (!this.covers(nextPartNumber)) return undefined
    return this.#error(
      'ERR_S3_SINK_SOURCE_CHANGED',
      `the source ended after ${bytesWritten} bytes, before the ${this.#storedBytes} bytes already stored ` +
        'for this upload: it is not the source the upload began with',
    )
  }

  /** Resolves once every checksum check has run. */
  async settled(): Promise<void> {
    await Promise.all(this.#checks)
  }
}
