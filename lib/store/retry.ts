import { setTimeout as sleep } from 'node:timers/promises'
import { errorCode, httpStatus } from '../core/errors.js'

/** S3 error codes that mean "try again later"; the rest of the 4xx family cannot be fixed by retrying. */
const RETRYABLE_S3_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'RequestTimeout',
  'RequestTimeoutException',
  'RequestTimeTooSkewed',
  'InternalError',
  'ServiceUnavailable',
  'PriorException',
])

/**
 * A body's checksum did not match: its bytes changed in transit, and the sink still holds them to send again.
 * Not for a request without a body (Complete's whole-object checksum is what it is; resending cannot fix it).
 */
const DIGEST_CODES = new Set(['BadDigest', 'XAmzContentSHA256Mismatch'])

/** Node and undici codes of a connection that broke or timed out; the request may succeed on a new one. */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_HTTP_HEADERS_SENT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'TimeoutError',
  'ERR_S3_SINK_STALLED',
])

/**
 * Whether another attempt may succeed where `err` failed: network errors, timeouts, stalls, 5xx answers
 * (but 501 Not Implemented), 429 and S3's throttling codes. Access, missing bucket or upload, invalid part
 * and other bad requests are final.
 */
export function isRetryable(err: unknown, carriesBody = true): boolean {
  const status = httpStatus(err)
  const code = errorCode(err)
  if (code !== undefined && (RETRYABLE_S3_CODES.has(code) || RETRYABLE_NETWORK_CODES.has(code))) return true
  if (code !== undefined && DIGEST_CODES.has(code)) return carriesBody
  if (status !== undefined) return status === 429 || (status >= 500 && status !== 501)
  // No answer from the store: a network failure the SDK surfaced without a known code ("socket hang up").
  const cause = (err as { cause?: unknown } | null)?.cause
  if (cause !== undefined && cause !== err) return isRetryable(cause, carriesBody)
  return false
}

export interface RetryPolicy {
  /** Most attempts at one request. */
  maxAttempts: number
  /**
   * No attempt starts this many ms after the request's first one began, nor (on a {@link RequestPath}) this many ms
   * after the requests of its upload began failing with none succeeding since; `0`: no limit in time.
   */
  retryTimeout: number
  baseDelay: number
  maxDelay: number
}

/** The policy of every request: its retries, and the stall watchdog of each attempt. */
export interface RequestPolicy extends RetryPolicy {
  /** An attempt that sends no byte and gets no answer for this many ms is cancelled (and retried); 0: never. */
  stallTimeout: number
}

/** Answers that mean the store is overloaded: waits after them start this many times longer. */
const THROTTLING_FACTOR = 5
const THROTTLING_CODES = new Set([...RETRYABLE_S3_CODES].filter((c) => /Throttl|SlowDown|Limit|TooMany/.test(c)))

/** Whether `err` is the store asking for fewer requests (503 SlowDown, 429, throttling codes). */
export function isThrottling(err: unknown): boolean {
  const code = errorCode(err)
  return httpStatus(err) === 429 || (code !== undefined && THROTTLING_CODES.has(code))
}

/**
 * Wait before attempt `attempt + 1` (after `attempt` failures): exponential backoff with full jitter,
 * a random time in [0, min(maxDelay, baseDelay × 2^(attempt − 1))]; spreads retries of parts that failed
 * together (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/). After a throttling
 * answer the base is five times longer, as the AWS SDKs do (500 ms against 100 ms).
 */
export function backoffDelay(
  attempt: number,
  policy: Pick<RetryPolicy, 'baseDelay' | 'maxDelay'>,
  random: () => number = Math.random,
  throttled = false,
): number {
  const base = throttled ? policy.baseDelay * THROTTLING_FACTOR : policy.baseDelay
  const ceiling = Math.min(policy.maxDelay, base * 2 ** Math.max(0, attempt - 1))
  return Math.floor(random() * ceiling)
}

export class RetriesExhausted extends Error {
  constructor(
    readonly lastError: unknown,
    readonly attempts: number,
    /** The request stopped because its time ran out (another attempt would have started too late). */
    readonly outOfTime = false,
  ) {
    super('retries exhausted', { cause: lastError })
  }
}

/** The time after which a request whose first attempt began at `started` starts no other (ms since the epoch). */
export type RetryLimit = (started: number) => number

/** `retryTimeout` ms after the request's first attempt began; no limit with `0`. */
function ownRetryLimit(policy: Pick<RetryPolicy, 'retryTimeout'>): RetryLimit {
  return (started) => (policy.retryTimeout > 0 ? started + policy.retryTimeout : Number.POSITIVE_INFINITY)
}

/**
 * Runs `attempt` until it succeeds, fails with an error retrying cannot fix, or the budget is spent:
 * `maxAttempts` attempts, or the time `limit` gives (by default `retryTimeout` ms since the first attempt began;
 * a wait that would end past it is not taken). Rejects with {@link RetriesExhausted} carrying the last error and
 * the number of attempts made, or with `signal`'s reason once it aborts. `carriesBody`: whether the request
 * sends a body (see {@link isRetryable}).
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  signal: AbortSignal,
  attempt: (attemptNumber: number) => Promise<T>,
  onRetry?: (err: unknown, attemptNumber: number, delay: number) => void,
  carriesBody = true,
  limit: RetryLimit = ownRetryLimit(policy),
): Promise<{ value: T; attempts: number }> {
  const started = Date.now()
  for (let n = 1; ; n++) {
    signal.throwIfAborted()
    try {
      return { value: await attempt(n), attempts: n }
    } catch (err) {
      signal.throwIfAborted()
      if (n >= policy.maxAttempts || !isRetryable(err, carriesBody)) throw new RetriesExhausted(err, n)
      const delay = backoffDelay(n, policy, Math.random, isThrottling(err))
      // Asked again after each attempt: the limit may depend on what other requests met meanwhile.
      if (Date.now() + delay >= limit(started)) throw new RetriesExhausted(err, n, true)
      onRetry?.(err, n, delay)
      // An abort during the wait rejects with Node's AbortError; report the signal's own reason instead.
      await sleep(delay, undefined, { signal }).catch(() => signal.throwIfAborted())
    }
  }
}

export const DEFAULT_MAX_ATTEMPTS = 20
export const DEFAULT_RETRY_TIMEOUT = 120_000
export const DEFAULT_RETRY_BASE_DELAY = 200
export const DEFAULT_RETRY_MAX_DELAY = 20_000
export const DEFAULT_STALL_TIMEOUT = 60_000

/** The request policy of the helpers that take no options (stale-upload listing and cleanup, resumeOffset). */
export const DEFAULT_REQUEST_POLICY: RequestPolicy = {
  maxAttempts: DEFAULT_MAX_ATTEMPTS,
  retryTimeout: DEFAULT_RETRY_TIMEOUT,
  baseDelay: DEFAULT_RETRY_BASE_DELAY,
  maxDelay: DEFAULT_RETRY_MAX_DELAY,
  stallTimeout: DEFAULT_STALL_TIMEOUT,
}
