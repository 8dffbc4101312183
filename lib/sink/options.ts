import type { S3Client } from '@aws-sdk/client-s3'
import { integer, invalidType, invalidValue, sizeName, throwRange } from '../core/arguments.js'
import { MAX_KEY_BYTES, MAX_PART_SIZE, MIB, MIN_PART_SIZE, S3_MAX_PARTS } from '../core/limits.js'
import type { ChecksumAlgorithm, ChecksumType, ResumeState } from '../core/types.js'
import type { S3SinkParams } from '../store/params.js'
import {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETRY_BASE_DELAY,
  DEFAULT_RETRY_MAX_DELAY,
  DEFAULT_RETRY_TIMEOUT,
  DEFAULT_STALL_TIMEOUT,
  type RequestPolicy,
} from '../store/retry.js'
import type { UploadBudget } from './budget.js'
import { budgetWindow } from './window.js'

export type { ChecksumAlgorithm, S3SinkParams }

const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256']

/**
 * The options of an {@link S3Sink}: `client` and `params` are required, every other option has a default. Bad
 * options throw from the constructor.
 */
export interface S3SinkOptions {
  /** The S3 client every request is sent with (`@aws-sdk/client-s3`). Required. */
  client: S3Client
  /** Bucket, Key and the object's headers (ContentType, Metadata, ServerSideEncryption, …). Required. */
  params: S3SinkParams
  /**
   * Bytes per part, 5 MiB to 5 GiB: the size of the first parts, after which sizes grow so that long streams fit
   * in `maxParts` (see docs/memory-and-part-sizes.md), unless `uniformParts`. The last part may be smaller.
   * @default 8 MiB
   */
  partSize?: number
  /**
   * Parts uploaded at once, fixed. Without it the number follows the link: it starts at 16, doubles while the
   * store acknowledges more bytes per second for it, then halves while that costs nothing, and settles on the
   * fewest that reach the best rate (at most 32), halves on 503 SlowDown and climbs back later; a source slower than the link gets no more than it needs
   * (see docs/memory-and-part-sizes.md). Writes wait (backpressure) while a full part waits for a place.
   * @default adaptive
   */
  concurrency?: number
  /**
   * The most parts the upload may have, 1 to 10,000 (S3's limit).
   * @default 10000
   */
  maxParts?: number
  /**
   * Keep every part at `partSize` (or the size `expectedSize` calls for), for stores that need equal parts
   * (Cloudflare R2). A stream that would need more than `maxParts` parts then fails before the extra part is
   * sent. Without it, part sizes grow for long streams (see docs/memory-and-part-sizes.md).
   * @default false
   */
  uniformParts?: boolean
  /**
   * An upper bound of the stream's length in bytes, when you know one (like aws-cli's `--expected-size`): parts
   * get the one whole-MiB size (at least `partSize`) that fits it into nine tenths of `maxParts`. A stream that
   * runs past it goes on with growing parts in the last tenth (with `uniformParts`, it fails instead).
   */
  expectedSize?: number
  /**
   * Most bytes the sink may hold (parts in flight and the part being filled). When parts grow large, fewer
   * are sent at once to stay within it — never fewer than one — so memory stays within
   * `max(maxBufferedBytes + 1 MiB, size of the current part)`, whatever the stream's length and the size of its
   * writes (a larger write is copied in as parts are stored).
   * @default 512 MiB
   */
  maxBufferedBytes?: number
  /**
   * A memory budget shared with other sinks ({@link UploadBudget}): this sink's parts count against it, and its
   * parts in flight are scheduled with theirs. It replaces `maxBufferedBytes` (giving both is a TypeError).
   */
  budget?: UploadBudget
  /**
   * Leave the multipart upload and its stored parts in place when the upload fails, instead of aborting it.
   * Parts of an upload that is neither completed nor aborted are billed until someone aborts it.
   * @default false
   */
  leavePartsOnError?: boolean
  /**
   * Checksum the sink computes over each part as its bytes arrive, and sends with the part so the store
   * can verify it. `false` sends none with parts or the single PutObject, whatever the client's
   * `requestChecksumCalculation` (for stores that reject checksum headers). When `params.ChecksumAlgorithm` is
   * given too, the two must be the same, else the constructor throws a TypeError (`ERR_INVALID_ARG_VALUE`).
   * @default params.ChecksumAlgorithm ?? 'CRC32'
   */
  checksum?: ChecksumAlgorithm | false
  /**
   * Attempts per request (every part, and every other request the sink sends) before the upload fails, unless
   * `retryTimeout` runs out first. Network errors, timeouts, stalls, 5xx answers and throttling are retried;
   * errors a retry cannot fix fail at once.
   * @default 20
   */
  maxAttempts?: number
  /**
   * Time budget of retries, in ms: no attempt starts later than this after the request's first attempt began,
   * nor later than this after the upload's requests began failing with none succeeding since — so a store that
   * has gone away is given up once for the whole upload, not once per part in flight. A stalled attempt counts as
   * failing from its last progress. Once this has run out, an attempt still in flight is cancelled after 2 s
   * without progress (or `stallTimeout`, if shorter), and one that makes progress goes on. With the defaults an
   * upload rides out a store that is unreachable for less than this (tested: 30 s); `0` leaves only `maxAttempts`.
   * @default 120000
   */
  retryTimeout?: number
  /**
   * Base of the exponential backoff between attempts, in ms; each wait is a random time up to
   * `min(retryMaxDelay, retryBaseDelay × 2^(attempt − 1))` ("full jitter").
   * @default 200
   */
  retryBaseDelay?: number
  /**
   * Longest wait between two attempts, in ms.
   * @default 20000
   */
  retryMaxDelay?: number
  /**
   * An attempt at any request that sends no bytes and receives no answer for this many ms is cancelled and
   * retried. `0` turns the check off.
   * @default 60000
   */
  stallTimeout?: number
  /**
   * Time the clean-up after a failure may take, in ms, from the moment the upload is known to have failed (a
   * final error, `destroy()`, the `signal`) until the sink reports it: cancelling the requests in flight,
   * AbortMultipartUpload and its retries, the second abort once parts in flight have ended, and the checks after
   * lost answers share this one deadline, instead of a `retryTimeout` each. When it runs out, the sink fails
   * with its error and `abortError` (the upload, named by `uploadId`, may be left; `listIncompleteUploads` and
   * `abortIncompleteUploads` find it later). The error's `cleanupMs` says how long the clean-up took. `0`: no
   * deadline of its own, each clean-up request retries as any request does.
   *
   * 30 s: an abort is one small request, so a store that answers at all answers it in well under a second, and
   * 30 s is still room for about eight attempts with the default backoff — enough to ride out a short blip
   * (a failover, a burst of 503 SlowDown) — while a failure is still reported within the 60 s that HTTP
   * clients, proxies and job runners commonly wait. (The AWS CRT and aws-cli try a clean-up a handful of
   * times, within seconds.)
   * @default 30000
   */
  cleanupTimeout?: number
  /** Aborts the upload: in-flight requests are cancelled and the multipart upload is aborted. */
  signal?: AbortSignal
  /**
   * Resume the upload a `'checkpoint'` event (or `suspend()`) described. The sink asks the store which parts
   * it still holds and uploads only the rest. By default the source must be the same bytes again from byte
   * 0: the bytes of stored parts are skipped and checked against the parts' checksums. Options that decide
   * part boundaries (partSize, maxParts, uniformParts, expectedSize, checksum) come from the state.
   */
  resume?: ResumeState
  /**
   * With `resume`: the byte of the object the source starts at, for sources that can seek (a file read
   * from an offset). Use `await resumeOffset(client, state)`; it must fall on a part boundary.
   * @default 0
   */
  sourceOffset?: number
  /**
   * The Writable's own buffer, in bytes, in front of the part buffer.
   * @default Node's default for a Writable: 16 KiB on Node 20, 64 KiB from Node 22
   */
  highWaterMark?: number
}

/** Options after checking, with every default applied. */
export interface ResolvedOptions {
  client: S3Client
  params: S3SinkParams
  partSize: number
  /** Undefined: adaptive. */
  concurrency: number | undefined
  maxParts: number
  uniformParts: boolean
  expectedSize: number | undefined
  maxBufferedBytes: number
  budget: UploadBudget | undefined
  leavePartsOnError: boolean
  checksum: ChecksumAlgorithm | false
  /** How the whole object's checksum is formed; undefined with `checksum: false`. */
  checksumType: ChecksumType | undefined
  maxAttempts: number
  retryTimeout: number
  retryBaseDelay: number
  retryMaxDelay: number
  stallTimeout: number
  cleanupTimeout: number
  signal: AbortSignal | undefined
  highWaterMark: number | undefined
  resume: ResumeState | undefined
  sourceOffset: number
}

export const DEFAULT_PART_SIZE = 8 * 1024 * 1024
export const DEFAULT_MAX_BUFFERED_BYTES = 512 * MIB
const DEFAULT_CLEANUP_TIMEOUT = 30_000

/** The request policy of resolved options. */
export function requestPolicy(o: ResolvedOptions): RequestPolicy {
  return {
    maxAttempts: o.maxAttempts,
    retryTimeout: o.retryTimeout,
    baseDelay: o.retryBaseDelay,
    maxDelay: o.retryMaxDelay,
    stallTimeout: o.stallTimeout,
  }
}

/** Checks every option and applies the defaults. Throws TypeError or RangeError as Node's own APIs do. */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalidType('options', 'an object', options)
  }
  const o = { ...options } as Partial<Record<keyof S3SinkOptions, unknown>> & Record<string, unknown>

  const client = o.client as { send?: unknown } | undefined
  if (typeof client !== 'object' || client === null || typeof client.send !== 'function') {
    throw invalidType('client', 'an S3Client', o.client)
  }
  if (typeof o.params !== 'object' || o.params === null) {
    throw invalidType('params', 'an object with Bucket and Key', o.params)
  }
  const params = o.params as Record<string, unknown>
  for (const name of ['Bucket', 'Key'] as const) {
    if (typeof params[name] !== 'string' || params[name] === '') {
      throw invalidType(`params.${name}`, 'a non-empty string', params[name])
    }
  }
  const keyBytes = Buffer.byteLength(params.Key as string, 'utf8')
  if (keyBytes > MAX_KEY_BYTES) {
    throwRange('params.Key', `at most ${MAX_KEY_BYTES} bytes long in UTF-8 (S3's limit)`, `${keyBytes} bytes`)
  }
  const resume = o.resume === undefined ? undefined : checkResume(o.resume, params)
  // Options that decide part boundaries come from the state when resuming, and may not contradict it.
  if (resume) {
    for (const name of ['partSize', 'maxParts', 'uniformParts', 'expectedSize', 'checksum'] as const) {
      if (o[name] !== undefined && o[name] !== resume[name]) {
        throw invalidValue(name, `the same as in the resumed state (${String(resume[name])})`, o[name])
      }
      o[name] = resume[name]
    }
  }
  const sourceOffset =
    o.sourceOffset === undefined ? 0 : integer('sourceOffset', o.sourceOffset, 0, 0, Number.MAX_SAFE_INTEGER)
  if (sourceOffset > 0 && !resume) throw invalidValue('sourceOffset', '0 unless resuming', sourceOffset)

  const partSize = integer('partSize', o.partSize, DEFAULT_PART_SIZE, MIN_PART_SIZE, MAX_PART_SIZE, sizeName)
  const concurrency = o.concurrency === undefined ? undefined : integer('concurrency', o.concurrency, 1, 1, 10_000)
  const maxParts = integer('maxParts', o.maxParts, S3_MAX_PARTS, 1, S3_MAX_PARTS)
  const maxAttempts = integer('maxAttempts', o.maxAttempts, DEFAULT_MAX_ATTEMPTS, 1, 1000)
  const retryTimeout = integer('retryTimeout', o.retryTimeout, DEFAULT_RETRY_TIMEOUT, 0, 86_400_000)
  const retryBaseDelay = integer('retryBaseDelay', o.retryBaseDelay, DEFAULT_RETRY_BASE_DELAY, 0, 3_600_000)
  const retryMaxDelay = integer('retryMaxDelay', o.retryMaxDelay, DEFAULT_RETRY_MAX_DELAY, 0, 3_600_000)
  const stallTimeout = integer('stallTimeout', o.stallTimeout, DEFAULT_STALL_TIMEOUT, 0, 2_147_483_647)
  const cleanupTimeout = integer('cleanupTimeout', o.cleanupTimeout, DEFAULT_CLEANUP_TIMEOUT, 0, 2_147_483_647)
  const highWaterMark =
    o.highWaterMark === undefined ? undefined : integer('highWaterMark', o.highWaterMark, 0, 0, 2 ** 31 - 1)

  const expectedSize =
    o.expectedSize === undefined
      ? undefined
      : integer('expectedSize', o.expectedSize, 0, 0, maxParts * MAX_PART_SIZE, sizeName)
  const maxBufferedBytes = integer(
    'maxBufferedBytes',
    o.maxBufferedBytes,
    DEFAULT_MAX_BUFFERED_BYTES,
    1,
    Number.MAX_SAFE_INTEGER,
    sizeName,
  )
  const budget = o.budget as UploadBudget | undefined
  if (budget !== undefined && !budgetWindow(budget)) throw invalidType('budget', 'an UploadBudget', budget)
  if (budget !== undefined && o.maxBufferedBytes !== undefined) {
    throw invalidValue(
      'maxBufferedBytes',
      "undefined when a budget is given (the budget's bound applies)",
      o.maxBufferedBytes,
    )
  }
  const uniformParts = o.uniformParts ?? false
  if (typeof uniformParts !== 'boolean') throw invalidType('uniformParts', 'a boolean', uniformParts)
  const leavePartsOnError = o.leavePartsOnError ?? false
  if (typeof leavePartsOnError !== 'boolean') throw invalidType('leavePartsOnError', 'a boolean', leavePartsOnError)

  const checksum = o.checksum ?? (params.ChecksumAlgorithm as ChecksumAlgorithm | undefined) ?? 'CRC32'
  if (checksum !== false && !CHECKSUM_ALGORITHMS.includes(checksum as ChecksumAlgorithm)) {
    throw invalidValue('checksum', `one of ${CHECKSUM_ALGORITHMS.join(', ')} or false`, checksum)
  }
  if (params.ChecksumAlgorithm !== undefined && checksum !== params.ChecksumAlgorithm) {
    throw invalidValue(
      'checksum',
      `the same as params.ChecksumAlgorithm (${String(params.ChecksumAlgorithm)})`,
      checksum,
    )
  }

  const checksumType = resolveChecksumType(checksum as ChecksumAlgorithm | false, params.ChecksumType, resume)

  const signal = o.signal
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidType('signal', 'an AbortSignal', signal)

  return {
    client: o.client as S3Client,
    // Create and Complete say FULL_OBJECT; COMPOSITE is S3's default for the other algorithms.
    params: (checksumType === 'FULL_OBJECT' ? { ...params, ChecksumType: checksumType } : params) as S3SinkParams,
    partSize,
    concurrency,
    maxParts,
    uniformParts,
    expectedSize,
    maxBufferedBytes,
    budget,
    leavePartsOnError,
    checksum: checksum as ChecksumAlgorithm | false,
    checksumType,
    maxAttempts,
    retryTimeout,
    retryBaseDelay,
    retryMaxDelay,
    stallTimeout,
    cleanupTimeout,
    signal,
    highWaterMark,
    resume,
    sourceOffset,
  }
}

/**
 * The upload's checksum type: `params.ChecksumType`, else S3's default for the algorithm (FULL_OBJECT for
 * CRC64NVME, COMPOSITE for the others), or the resumed upload's. Throws on a combination S3 does not have.
 */
function resolveChecksumType(
  checksum: ChecksumAlgorithm | false,
  requested: unknown,
  resume: ResumeState | undefined,
): ChecksumType | undefined {
  if (requested !== undefined && requested !== 'FULL_OBJECT' && requested !== 'COMPOSITE') {
    throw invalidValue('params.ChecksumType', "'FULL_OBJECT' or 'COMPOSITE'", requested)
  }
  if (checksum === false) {
    if (requested !== undefined) {
      throw invalidValue('params.ChecksumType', 'absent with checksum: false (there is no checksum to form)', requested)
    }
    return undefined
  }
  if (requested === 'FULL_OBJECT' && (checksum === 'SHA1' || checksum === 'SHA256')) {
    throw invalidValue(
      'params.ChecksumType',
      `COMPOSITE with ${checksum} (a whole-object checksum of a multipart upload exists for CRC32, CRC32C and CRC64NVME only)`,
      requested,
    )
  }
  if (requested === 'COMPOSITE' && checksum === 'CRC64NVME') {
    throw invalidValue('params.ChecksumType', 'FULL_OBJECT with CRC64NVME (S3 has no composite CRC64NVME)', requested)
  }
  const type: ChecksumType = requested ?? (checksum === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE')
  const resumed = resume?.checksumType
  if (resumed !== undefined && resumed !== type) {
    if (requested !== undefined) {
      throw invalidValue('params.ChecksumType', `the same as in the resumed state (${resumed})`, requested)
    }
    return resumed
  }
  return type
}

/** Checks the shape of a ResumeState (it usually comes from a file) and that it is this object's upload. */
function checkResume(value: unknown, params: Record<string, unknown>): ResumeState {
  const state = value as Partial<ResumeState> | null
  if (typeof state !== 'object' || state === null) throw invalidType('resume', 'a ResumeState object', value)
  if (state.version !== 1) throw invalidValue('resume.version', '1', state.version)
  if (typeof state.uploadId !== 'string' || state.uploadId === '') {
    throw invalidType('resume.uploadId', 'a non-empty string', state.uploadId)
  }
  if (state.bucket !== params.Bucket)
    throw invalidValue('resume.bucket', `params.Bucket (${String(params.Bucket)})`, state.bucket)
  if (state.key !== params.Key) throw invalidValue('resume.key', `params.Key (${String(params.Key)})`, state.key)
  if (state.checksumType !== undefined && state.checksumType !== 'FULL_OBJECT' && state.checksumType !== 'COMPOSITE') {
    throw invalidValue('resume.checksumType', "'FULL_OBJECT' or 'COMPOSITE'", state.checksumType)
  }
  if (!Array.isArray(state.parts)) throw invalidType('resume.parts', 'an array', state.parts)
  for (const part of state.parts) {
    if (
      typeof part !== 'object' ||
      part === null ||
      !Number.isInteger(part.partNumber) ||
      !Number.isInteger(part.size) ||
      typeof part.etag !== 'string'
    ) {
      throw invalidType('resume.parts[]', 'parts with partNumber, size and etag', part)
    }
  }
  return state as ResumeState
}
