import type { RolledObject, S3SinkResult } from './types.js'

/**
 * Stable codes of the errors an {@link S3Sink} fails with at run time.
 *
 * - `ERR_S3_SINK_ABORTED`: the `signal` given to the sink aborted; `cause` is the signal's reason.
 * - `ERR_S3_SINK_CREATE_FAILED`: CreateMultipartUpload failed.
 * - `ERR_S3_SINK_PART_FAILED`: a part failed after its retries, or with an error that retrying cannot fix.
 * - `ERR_S3_SINK_PUT_FAILED`: the single PutObject of a stream shorter than one part failed.
 * - `ERR_S3_SINK_COMPLETE_FAILED`: CompleteMultipartUpload failed.
 * - `ERR_S3_SINK_DESTROYED`: the sink was destroyed after `end()`, before its object was stored; if the
 *   object turned out stored all the same, the error says so and carries `result`.
 * - `ERR_S3_SINK_ABORT_FAILED`: AbortMultipartUpload failed (found as `abortError`, or thrown by the helpers
 *   that abort stale uploads).
 * - `ERR_S3_SINK_LIST_FAILED`: ListMultipartUploads or ListParts failed.
 * - `ERR_S3_SINK_HEAD_FAILED`: HeadObject failed.
 * - `ERR_S3_SINK_CHECKSUM_MISMATCH`: the store holds (or refused) the object with a checksum other than the one
 *   the sink computed over the bytes written; the message names both. When the object was stored, `result` says
 *   what is stored.
 * - `ERR_S3_SINK_STALLED`: an attempt made no progress for `stallTimeout` ms, or for 2 s once the upload's
 *   requests had been failing for `retryTimeout` (the `cause` of a request's failure).
 * - `ERR_S3_SINK_CLEANUP_TIMEOUT`: the clean-up after a failure ran out of `cleanupTimeout` with a request in
 *   flight (cancelled) or still to send (the `cause` of an `abortError`).
 * - `ERR_S3_SINK_TOO_MANY_PARTS`: the stream needs more than `maxParts` parts with the part sizes allowed.
 * - `ERR_S3_SINK_SUSPENDED`: `suspend()` stopped the upload; it is kept in the store to be resumed.
 * - `ERR_S3_SINK_UPLOAD_NOT_FOUND`: the upload to resume is no longer known to the store.
 * - `ERR_S3_SINK_SOURCE_CHANGED`: while resuming, the source's bytes differ from the parts already stored.
 * - `ERR_S3_SINK_RESUME_FAILED`: the parts of the upload to resume could not be listed.
 * - `ERR_S3_SINK_NOT_SUPPORTED`: the store does not support what a request asked for (server-side encryption,
 *   conditional writes, …): it answered `501 Not Implemented`, refused encryption over plain HTTP, or took SSE-C
 *   headers without confirming them. The message names the feature; `cause` is the store's answer, if any.
 * - `ERR_S3_SINK_KEY_REPEATED`: an `S3RollingSink`'s key template or function gave a key it had already given;
 *   the object was not started, nothing was overwritten.
 * - `ERR_S3_SINK_KEY_INVALID`: an `S3RollingSink`'s key function threw, or gave something other than a
 *   non-empty string of at most 1,024 UTF-8 bytes.
 * - `ERR_S3_SINK_RESUME_MISMATCH`: an `S3RollingSink`'s `resume` state does not fit its options (another bucket,
 *   key template, delimiter, `maxObjectBytes`, gzip or id): thrown by the constructor; the message names the
 *   field, the state's value and the option's.
 *
 * An `S3RollingSink` fails with the code of the object that failed, with `objectIndex` and `objects` (what
 * was stored) added.
 */
export type S3SinkErrorCode =
  | 'ERR_S3_SINK_ABORTED'
  | 'ERR_S3_SINK_CREATE_FAILED'
  | 'ERR_S3_SINK_PART_FAILED'
  | 'ERR_S3_SINK_PUT_FAILED'
  | 'ERR_S3_SINK_COMPLETE_FAILED'
  | 'ERR_S3_SINK_DESTROYED'
  | 'ERR_S3_SINK_ABORT_FAILED'
  | 'ERR_S3_SINK_LIST_FAILED'
  | 'ERR_S3_SINK_HEAD_FAILED'
  | 'ERR_S3_SINK_CHECKSUM_MISMATCH'
  | 'ERR_S3_SINK_STALLED'
  | 'ERR_S3_SINK_CLEANUP_TIMEOUT'
  | 'ERR_S3_SINK_TOO_MANY_PARTS'
  | 'ERR_S3_SINK_SUSPENDED'
  | 'ERR_S3_SINK_UPLOAD_NOT_FOUND'
  | 'ERR_S3_SINK_SOURCE_CHANGED'
  | 'ERR_S3_SINK_RESUME_FAILED'
  | 'ERR_S3_SINK_KEY_REPEATED'
  | 'ERR_S3_SINK_KEY_INVALID'
  | 'ERR_S3_SINK_RESUME_MISMATCH'
  | 'ERR_S3_SINK_NOT_SUPPORTED'

/** What was known when an {@link S3SinkError} happened. Never credentials or SSE-C keys. */
export interface S3SinkErrorContext {
  /** What failed underneath: the store's error (scrubbed of its request and response), a network error, … */
  cause?: unknown
  /** The bucket of the object. */
  bucket?: string
  /** The object's key. */
  key?: string
  /** The multipart upload's id, once one was created. */
  uploadId?: string
  /** The part that failed, for a part's failure. */
  partNumber?: number
  /** Attempts made at the failing request. */
  attempts?: number
  /** Bytes the sink had accepted from its writer. */
  bytesWritten?: number
  /** Bytes the store had acknowledged (parts stored). */
  bytesUploaded?: number
  /** HTTP status of the store's answer, when there was one. */
  statusCode?: number
  /**
   * What is stored, when the object was stored although the sink failed (destroyed while completing, or its
   * checksum differs).
   */
  result?: S3SinkResult
  /** An `S3RollingSink`'s failure: the object that failed. */
  objectIndex?: number
  /** An `S3RollingSink`'s failure: the objects stored, in index order. */
  objects?: readonly RolledObject[]
  /**
   * Ms from the moment the upload was known to have failed (a final error, a destroy, an abort signal) until its
   * clean-up had ended and the error was reported: cancelling the requests in flight and aborting the multipart
   * upload. At most about `cleanupTimeout` when the clean-up was cut short.
   */
  cleanupMs?: number
}

/**
 * The one error class of s3-sink: a stable `code`, the underlying `cause`, and the context that helps
 * (bucket, key, upload id, part number, bytes written). Fields that do not apply are absent. No field holds
 * credentials, signatures or SSE-C keys.
 *
 * @example Telling failures apart
 * ```ts
 * try {
 *   await pipeline(source, new S3Sink({ client, params: { Bucket, Key } }))
 * } catch (err) {
 *   if (err instanceof S3SinkError && err.code === 'ERR_S3_SINK_PART_FAILED') {
 *     console.error(`part ${err.partNumber} failed after ${err.attempts} attempts`, err.cause)
 *   } else throw err
 * }
 * ```
 */
export class S3SinkError extends Error {
  /** What went wrong, as a stable string: see {@link S3SinkErrorCode}. */
  readonly code: S3SinkErrorCode
  /** The bucket of the object. */
  readonly bucket?: string
  /** The object's key. */
  readonly key?: string
  /** The multipart upload's id, once one was created. */
  readonly uploadId?: string
  /** The part that failed, for a part's failure. */
  readonly partNumber?: number
  /** Attempts made at the failing request. */
  readonly attempts?: number
  /** Bytes the sink had accepted from its writer. */
  readonly bytesWritten?: number
  /** Bytes the store had acknowledged (parts stored). */
  readonly bytesUploaded?: number
  /** HTTP status of the store's answer, when there was one. */
  readonly statusCode?: number
  /**
   * What is stored, when the object was stored although the sink failed (destroyed while completing, or its
   * checksum differs).
   */
  readonly result?: S3SinkResult
  /** An `S3RollingSink`'s failure: the object that failed. */
  readonly objectIndex?: number
  /** An `S3RollingSink`'s failure: the objects stored, in index order. */
  readonly objects?: readonly RolledObject[]
  /**
   * Set when the sink failed and then could not abort its multipart upload either, within `cleanupTimeout`: the
   * upload (named by `uploadId`) may be left in the store with its parts, and should be aborted by other means
   * (`abortIncompleteUploads`).
   */
  abortError?: unknown
  /** See {@link S3SinkErrorContext.cleanupMs}; set on the error the sink fails with once its clean-up has ended. */
  cleanupMs?: number

  /**
   * Made by the library; exported for `instanceof` checks and for code that wraps the sinks.
   * @param code The error's stable code.
   * @param message What happened, for a person.
   * @param context `cause` and the fields that apply; fields left undefined are not set.
   */
  constructor(code: S3SinkErrorCode, message: string, context: S3SinkErrorContext = {}) {
    const { cause, ...fields } = context
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'S3SinkError'
    this.code = code
    Object.assign(this, withoutUndefined(fields))
  }
}

function withoutUndefined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** The S3 error code (`SlowDown`, `NoSuchBucket`…) or Node error code carried by an error, if any. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const e = err as { Code?: unknown; code?: unknown; name?: unknown }
  if (typeof e.Code === 'string') return e.Code
  if (typeof e.code === 'string') return e.code
  return typeof e.name === 'string' && e.name !== 'Error' ? e.name : undefined
}

/** The HTTP status of the store's answer carried by an SDK error, if any. */
export function httpStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const status = (err as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode
  return typeof status === 'number' ? status : undefined
}

/** One line naming what went wrong underneath: `SlowDown (503): Please reduce your request rate.` */
export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const code = errorCode(err)
  const status = httpStatus(err)
  const head = [code, status === undefined ? undefined : `(${status})`].filter(Boolean).join(' ')
  return head && !err.message.startsWith(head) ? `${head}: ${err.message}` : err.message
}
