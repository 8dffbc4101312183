// The upload's lifecycle: create (and sweep up what lost Create answers made), complete (and find the truth after
// lost answers), abort, abandon after a failure.
import { createHash } from 'node:crypto'
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  type CompleteMultipartUploadCommandOutput,
  CreateMultipartUploadCommand,
  type CreateMultipartUploadCommandOutput,
  ListPartsCommand,
} from '@aws-sdk/client-s3'
import { checksumMember } from '../checksum/checksum.js'
import { errorCode, httpStatus, S3SinkError } from '../core/errors.js'
import type { ChecksumAlgorithm, StoredPart } from '../core/types.js'
import { Deadline } from './deadline.js'
import { completeAnswer, headObject, type StoredAnswer } from './head-object.js'
import { pickFields, REQUEST_FIELDS, type S3SinkParams } from './params.js'
import type { RequestPath } from './request.js'
import { listUploads } from './stale-uploads.js'
import { ignoredEncryption, unknownUpload } from './store-limits.js'

/** Fields of PutObject's input that CreateMultipartUpload has no place for; they go to Complete or nowhere. */
const NOT_FOR_CREATE = ['IfMatch', 'IfNoneMatch', 'WriteOffsetBytes'] as const
/** Fields Complete must repeat: conditional writes, the checksum type, and what every request repeats. */
const FOR_COMPLETE = ['IfMatch', 'IfNoneMatch', 'ChecksumType', ...REQUEST_FIELDS] as const
const FOR_ABORT = ['RequestPayer', 'ExpectedBucketOwner'] as const
/** Stores give `Initiated` to the second: the slack of a comparison between it and our clock. */
const SECOND = 1000
/**
 * How long after a Create attempt ended without an answer the store may still make its upload: the request may
 * have reached the store, which goes on with it whether or not anyone waits for the answer (S3 documents no
 * bound; a local Swift made the upload about a second after the client had cut the request off). Orphans are
 * looked for again once this has passed.
 */
const LATE_CREATE = 2 * SECOND
/**
 * How long the clean-up waits for the answer of a Create in flight before it cuts it off (within its deadline and
 * the stall watchdog's): a store that is up answers within milliseconds, and a failed sink must not wait on one
 * that hangs. An answer that does not come in time is treated as lost: the upload is looked for by list.
 */
const CREATE_GRACE = SECOND

/** A Create attempt that failed without a 4xx answer: its upload, if the store made one, was initiated in it. */
interface LostCreate {
  /** When the attempt began (local ms). */
  start: number
  /** When the store can no longer be making its upload: the attempt's end after a 5xx answer, later without one. */
  settled: number
}

/** What CompleteMultipartUpload (or the HeadObject that stands in for its lost answer) tells of the object. */
export interface Completed extends StoredAnswer {
  Location?: string | undefined
}

/** How an abort ended: the upload is aborted, or the store no longer knows it (aborted or completed before). */
export type AbortOutcome = 'aborted' | 'gone' | 'never-created'

export interface UploadOptions {
  checksum: ChecksumAlgorithm | false
  /** Ms the clean-up after a failure may take, all its requests together; `0`: no deadline, `retryTimeout` only. */
  cleanupTimeout: number
  /** The upload to take up (when resuming) instead of creating one. */
  uploadId?: string | undefined
}

/**
 * Where the upload begins, completes or aborts; every request goes through the sink's {@link RequestPath}.
 *
 * CreateMultipartUpload is sent when the first part is ready (a stream shorter than one part never creates one).
 * Each attempt whose answer was lost may have created an upload all the same (S3 makes a new one per request),
 * so the time of each such attempt is kept, and once the upload id is known — or the upload is given up —
 * the uploads of this exact key initiated within those times are found and aborted; never another's. A failure
 * of the sink gives a Create in flight a moment to answer: the upload its answer names is aborted by id.
 *
 * Once the upload is known to have failed, its clean-up — aborts, the checks after lost answers, the sweep of
 * orphans — has one deadline, `cleanupTimeout` from that moment, shared by every request it sends: the failure is
 * reported within it, with `abortError` when the clean-up could not be done by then.
 */
export class MultipartUpload {
  readonly #path: RequestPath
  readonly #params: S3SinkParams
  readonly #checksum: ChecksumAlgorithm | false
  readonly #cleanupTimeout: number
  readonly #created: Promise<string>
  #uploadId: string | undefined
  /** Create attempts that failed without a 4xx answer, not yet swept for the upload each may have made. */
  readonly #lostCreates: LostCreate[] = []
  /** Local times of the Create attempt that answered. */
  #answeredCreate: [number, number] | undefined
  /** Cuts off a Create in flight: the sink's abort does not at once (see #create). */
  readonly #createCutOff = new AbortController()

  /** Creates a multipart upload, or takes up `options.uploadId` (when resuming). */
  constructor(path: RequestPath, params: S3SinkParams, options: UploadOptions) {
    const existingUploadId = options.uploadId
    this.#path = path
    this.#params = params
    this.#checksum = options.checksum
    this.#cleanupTimeout = options.cleanupTimeout
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
    const failed = this.#path.signal
    let grace: NodeJS.Timeout | undefined
    // The clean-up's deadline (from the failure too) bounds the grace when it is shorter.
    const onFailure = () => {
      const ms = Math.min(CREATE_GRACE, this.#cleanupTimeout || Number.POSITIVE_INFINITY)
      grace = setTimeout(() => this.#createCutOff.abort(failed.reason), ms).unref()
    }
    failed.addEventListener('abort', onFailure, { once: true })
    const { value } = await this.#path
      .run(
        'CreateMultipartUpload',
        async ({ signal }) => {
          const start = Date.now()
          try {
            const output = await this.#path.sendOnce<CreateMultipartUploadCommandOutput>(
              new CreateMultipartUploadCommand(input as never),
              signal,
            )
            this.#answeredCreate = [start, Date.now()]
            return output
          } catch (err) {
            if (answerLost(err)) {
              const end = Date.now()
              // A store that answered (5xx) is done with the request; after no answer it may still be at it.
              this.#lostCreates.push({ start, settled: httpStatus(err) === undefined ? end + LATE_CREATE : end })
            }
            throw err
          }
        },
        // Cut off in flight, a Create may still make its upload, after any listing could show it: S3 goes on with
        // a request whose connection broke (and so did a local Swift, about a second later). So a failure of the
        // sink does not cut it off at once: its answer is awaited for CREATE_GRACE (within the stall watchdog and
        // the clean-up's deadline), and the upload it names is aborted by id. Only an answer lost for good is
        // looked for by list, again once the store can no longer be acting on it (LATE_CREATE).
        { input: () => input, cutOff: this.#createCutOff.signal },
      )
      .finally(() => {
        failed.removeEventListener('abort', onFailure)
        clearTimeout(grace)
      })
    if (!value.UploadId) {
      throw new S3SinkError('ERR_S3_SINK_CREATE_FAILED', 'CreateMultipartUpload answered without an UploadId', {
        bucket: this.#params.Bucket,
        key: this.#params.Key,
      })
    }
    this.#uploadId = value.UploadId
    const ignored = ignoredEncryption(this.#params, value)
    if (ignored) {
      // Caught before any byte is sent: the upload is aborted, nothing is stored unencrypted.
      const deadline = this.#deadline()
      await this.#abortUpload(this.#path.forCleanUp(deadline), value.UploadId)
        .catch(() => {})
        .finally(() => deadline?.end())
      throw new S3SinkError('ERR_S3_SINK_NOT_SUPPORTED', `CreateMultipartUpload: ${ignored}; nothing was stored`, {
        bucket: this.#params.Bucket,
        key: this.#params.Key,
        uploadId: value.UploadId,
      })
    }
    // Not fatal: the upload goes on; an orphan the sweep could not reach shows in `listIncompleteUploads`. Swept
    // now, and once more at completion (or abort) for a lost attempt the store may still be acting on: the parts
    // need not wait for that.
    if (this.#lostCreates.length > 0 && !this.#path.signal.aborted) {
      await this.#sweepOrphans(this.#path, false).catch(() => {})
    }
    return value.UploadId
  }

  /**
   * Aborts the uploads of this key that a Create attempt whose answer was lost may have made. Their `Initiated`
   * is the store's clock; the upload that did answer maps it onto ours: it was initiated between that attempt's
   * start and end. Without it (no Create answered), our clock is taken as the store's, within two seconds.
   *
   * An attempt the store may still be acting on ({@link LATE_CREATE}) is looked for again once it has surely
   * settled — after a wait (`wait`), or at a later sweep: it is forgotten only by a listing made after that.
   */
  async #sweepOrphans(path: RequestPath, wait = true): Promise<void> {
    for (;;) {
      const windows = [...this.#lostCreates]
      const settled = Math.max(...windows.map((w) => w.settled))
      const final = Date.now() >= settled
      await this.#sweepOnce(path, windows)
      if (final) {
        this.#lostCreates.splice(0, windows.length)
        return
      }
      if (!wait) return
      await path.pause(settled - Date.now())
    }
  }

  async #sweepOnce(path: RequestPath, windows: readonly LostCreate[]): Promise<void> {
    const { Bucket, Key } = this.#params
    const uploads = (await listUploads(path, { Bucket, Prefix: Key })).filter((u) => u.Key === Key)
    const own = uploads.find((u) => u.UploadId === this.#uploadId)?.Initiated?.getTime()
    // store time − our time lies within [low, high]
    let low = -2 * SECOND
    let high = 2 * SECOND
    if (own !== undefined && this.#answeredCreate) {
      const [start, end] = this.#answeredCreate
      low = own - end - SECOND
      high = own - start + SECOND
    }
    for (const upload of uploads) {
      const initiated = upload.Initiated?.getTime()
      if (upload.UploadId === this.#uploadId || !upload.UploadId || initiated === undefined) continue
      if (!windows.some(({ start, settled }) => initiated >= start + low && initiated <= settled + high)) continue
      await this.#abortUpload(path, upload.UploadId)
    }
  }

  /**
   * Completes the upload, with the whole object's checksum when the upload's type is `FULL_OBJECT` (`objectChecksum`)
   * for the store to check. A Complete whose answer was lost (every attempt's, or the first one's and the retry
   * meets `NoSuchUpload`) may have gone through: the object is then looked up, and if it is this upload's (its
   * multipart ETag and size), the upload has succeeded. An answer without the ETag or the object's checksum is
   * completed by one HeadObject ({@link completeAnswer}).
   */
  async complete(parts: readonly StoredPart[], objectChecksum?: string): Promise<Completed> {
    const uploadId = await this.#created
    if (this.#lostCreates.length > 0) await this.#sweepOrphans(this.#path).catch(() => {})
    const member = this.#checksum === false ? undefined : checksumMember(this.#checksum)
    const completed: CompletedPart[] = parts.map((p) => ({
      PartNumber: p.partNumber,
      ETag: p.etag,
      ...(member && p.checksum !== undefined && p.checksumAcknowledged ? { [member]: p.checksum } : {}),
    }))
    let output: CompleteMultipartUploadCommandOutput
    try {
      const sent = await this.#path.send<CompleteMultipartUploadCommandOutput>(
        'CompleteMultipartUpload',
        () =>
          new CompleteMultipartUploadCommand({
            ...this.#uploadInput(uploadId, FOR_COMPLETE),
            MultipartUpload: { Parts: completed },
            ...(member && objectChecksum !== undefined ? { [member]: objectChecksum } : {}),
          } as never),
      )
      output = sent.value
    } catch (err) {
      if (!(err instanceof S3SinkError)) throw err
      if (member && objectChecksum !== undefined && errorCode(err.cause) === 'BadDigest') {
        const { code: _, ...context } = err
        throw new S3SinkError(
          'ERR_S3_SINK_CHECKSUM_MISMATCH',
          `the store refused the object: its ${this.#checksum} is not ${objectChecksum}, the value the sink ` +
            'computed over the bytes written (BadDigest)',
          { ...context, cause: err.cause },
        )
      }
      if (!(answerLost(err.cause) || unknownUpload(err.cause))) throw err
      let stored: Completed | undefined
      try {
        stored = await this.stored(parts, this.#path)
      } catch {
        throw new S3SinkError(
          err.code,
          `${err.message}; the object could not be looked up afterwards, so it may have been stored`,
          { ...err, cause: err.cause },
        )
      }
      if (!stored) throw err
      return stored
    }
    return completeAnswer(this.#path, this.#params, this.#checksum, {
      ETag: output.ETag,
      VersionId: output.VersionId,
      Location: output.Location,
      ...(member ? { checksum: output[member] } : {}),
    })
  }

  /**
   * The object as the store holds it, if it is the one these parts make: its ETag is the multipart ETag of
   * `parts` (the MD5 of their binary MD5s, `-N`) and its size their sum. Undefined when there is no such object.
   */
  async stored(parts: readonly StoredPart[], path: RequestPath): Promise<Completed | undefined> {
    const expected = multipartETag(parts.map((p) => p.etag))
    if (expected === undefined) return undefined
    const head = await headObject(path, this.#params, this.#checksum)
    const size = parts.reduce((sum, p) => sum + p.size, 0)
    if (!head || unquote(head.ETag) !== expected || head.ContentLength !== size) return undefined
    return {
      ETag: head.ETag,
      ...(head.VersionId ? { VersionId: head.VersionId } : {}),
      ...(head.checksum ? { checksum: head.checksum } : {}),
    }
  }

  /**
   * After a failure — call it at the moment the failure is known: its deadline starts then. Aborts the upload at
   * once, while the requests in flight are being cancelled — `pipeline()` rejects as soon as a source fails,
   * without waiting for the sink's clean-up, so the sooner the abort reaches the store the better — and, when
   * requests were in flight (`raced`), once more after they have ended (`idle`): a part may land after an abort
   * (S3 documents this race). Clean-up runs on a path of its own, since the sink's signal has fired, and every
   * request on it shares one deadline, `cleanupTimeout` from now.
   *
   * When the sink was completing (`completedParts` given) and the store no longer knows the upload, a Complete
   * cut short may have gone through: resolves with the object then, if it is this upload's. Rejects with the
   * abort's error when the upload could not be aborted (within the deadline).
   */
  async abandon(
    idle: Promise<void>,
    raced: boolean,
    completedParts?: () => readonly StoredPart[],
  ): Promise<Completed | undefined> {
    const deadline = this.#deadline()
    const path = this.#path.forCleanUp(deadline)
    try {
      const first = this.abort(path).catch((e: unknown) => e as Error)
      await idle
      let outcome = await first
      // A first abort that failed for lack of time is the one to report: another could not even be sent.
      if (outcome instanceof Error ? !deadline?.expired : raced) {
        const again = await this.abort(path).catch((e: unknown) => e as Error)
        // Gone after a first abort that went through: aborted, as wanted.
        outcome = outcome === 'aborted' && again === 'gone' ? outcome : again
      }
      if (outcome instanceof Error) throw outcome
      if (outcome !== 'gone' || !completedParts) return undefined
      return await this.stored(completedParts(), path).catch(() => undefined)
    } finally {
      deadline?.end()
    }
  }

  /** The clean-up's deadline, from now; none with `cleanupTimeout: 0`. */
  #deadline(): Deadline | undefined {
    const ms = this.#cleanupTimeout
    if (ms === 0) return undefined
    return new Deadline(
      ms,
      () =>
        new S3SinkError(
          'ERR_S3_SINK_CLEANUP_TIMEOUT',
          `the clean-up after the failure ran out of cleanupTimeout (${ms} ms)`,
          { bucket: this.#params.Bucket, key: this.#params.Key, uploadId: this.#uploadId },
        ),
    )
  }

  /**
   * Aborts the upload so its parts are deleted and no longer billed, through `path` (clean-up runs on a path of
   * its own once the sink's signal has fired). `NoSuchUpload` means the upload is gone already: aborted by an
   * attempt whose answer was lost, or completed.
   */
  async abort(path: RequestPath): Promise<AbortOutcome> {
    let uploadId: string
    try {
      uploadId = await this.#created
    } catch {
      // No upload was created — unless an attempt whose answer was lost made one.
      if (this.#lostCreates.length > 0) await this.#sweepOrphans(path)
      return 'never-created'
    }
    const outcome = await this.#abortUpload(path, uploadId)
    // Lost attempts before the one that answered, not yet swept for good (the sink failed meanwhile).
    if (this.#lostCreates.length > 0) await this.#sweepOrphans(path)
    return outcome
  }

  async #abortUpload(path: RequestPath, UploadId: string): Promise<AbortOutcome> {
    try {
      await path.send('AbortMultipartUpload', () => new AbortMultipartUploadCommand(this.#uploadInput(UploadId)))
      return 'aborted'
    } catch (err) {
      if (!(err instanceof S3SinkError)) throw err
      if (unknownUpload(err.cause)) return 'gone'
      // Every answer lost: an attempt may have aborted it all the same. The store says whether it still knows it.
      if (answerLost(err.cause) && !(await this.#known(path, UploadId).catch(() => true))) return 'gone'
      throw err
    }
  }

  /** What every request about upload `UploadId` sends: its bucket, key and id, and `fields` of the params. */
  #uploadInput(
    UploadId: string,
    fields: readonly (keyof S3SinkParams)[] = FOR_ABORT,
  ): { Bucket: string; Key: string; UploadId: string } {
    return { ...pickFields(this.#params, fields), Bucket: this.#params.Bucket, Key: this.#params.Key, UploadId }
  }

  /** Whether the store still knows upload `UploadId` (ListParts of one part answers, or says NoSuchUpload). */
  async #known(path: RequestPath, UploadId: string): Promise<boolean> {
    try {
      await path.send('ListParts', () => new ListPartsCommand({ ...this.#uploadInput(UploadId), MaxParts: 1 }))
      return true
    } catch (err) {
      if (err instanceof S3SinkError && unknownUpload(err.cause)) return false
      throw err
    }
  }
}

/** The ETag S3 gives an object made of parts with these ETags, or undefined when one is not an MD5. */
function multipartETag(etags: readonly string[]): string | undefined {
  const md5 = createHash('md5')
  for (const etag of etags) {
    const hex = unquote(etag)
    if (!/^[0-9a-f]{32}$/i.test(hex)) return undefined
    md5.update(Buffer.from(hex, 'hex'))
  }
  return `${md5.digest('hex')}-${etags.length}`
}

/** Errors of a connection that was never made: the request never reached the store. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])

/** Whether a request failed without the store's answer (or with a 5xx): the store may have acted on it. */
function answerLost(err: unknown): boolean {
  const status = httpStatus(err)
  if (status !== undefined) return status >= 500
  return !NEVER_SENT.has(errorCode(err) ?? '') && !NEVER_SENT.has(errorCode((err as { cause?: unknown })?.cause) ?? '')
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '')
}
