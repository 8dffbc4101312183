import t from 'tap'
import { S3SinkError } from '../lib/index.js'
import { backoffDelay, isRetryable, isThrottling, RetriesExhausted, withRetries } from '../lib/store/retry.js'

const s3Error = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } })
const netError = (code: string) => Object.assign(new Error(code), { code })

t.test('retryable: throttling, 5xx, network failures, timeouts, stalls', async (t) => {
  for (const err of [
    s3Error('SlowDown', 503),
    s3Error('InternalError', 500),
    s3Error('ServiceUnavailable', 503),
    s3Error('RequestTimeout', 400),
    s3Error('RequestTimeTooSkewed', 403),
    s3Error('BadDigest', 400),
    s3Error('TooManyRequests', 429),
    s3Error('UnknownError', 502),
    netError('ECONNRESET'),
    netError('EPIPE'),
    netError('ETIMEDOUT'),
    Object.assign(new Error('request timed out'), { name: 'TimeoutError' }),
    new S3SinkError('ERR_S3_SINK_STALLED', 'stalled'),
    new Error('socket hang up', { cause: netError('ECONNRESET') }),
  ]) {
    t.equal(isRetryable(err), true, `${(err as Error).name}: ${(err as Error).message}`)
  }
})

t.test('final: access, missing things, invalid parts, bad requests, aborts, 501', async (t) => {
  for (const err of [
    s3Error('AccessDenied', 403),
    s3Error('NoSuchBucket', 404),
    s3Error('NoSuchUpload', 404),
    s3Error('InvalidPart', 400),
    s3Error('InvalidPartOrder', 400),
    s3Error('EntityTooSmall', 400),
    s3Error('InvalidRequest', 400),
    s3Error('NotImplemented', 501),
    s3Error('InvalidAccessKeyId', 403),
    Object.assign(new Error('This operation was aborted'), { name: 'AbortError' }),
    new TypeError('not a function'),
    'a string',
    null,
  ]) {
    t.equal(isRetryable(err), false, String((err as Error | null)?.message ?? err))
  }
})

t.test('backoff: full jitter under an exponential ceiling capped at maxDelay', async (t) => {
  const policy = { maxAttempts: 10, baseDelay: 100, maxDelay: 1000 }
  t.same(
    [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy, () => 0.999999)),
    [99, 199, 399, 799, 999, 999],
  )
  t.equal(
    backoffDelay(3, policy, () => 0),
    0,
  )
})

t.test('withRetries stops at maxAttempts, at a final error, or at success', async (t) => {
  const policy = { maxAttempts: 3, retryTimeout: 0, baseDelay: 1, maxDelay: 1 }
  const signal = new AbortController().signal
  let calls = 0
  const failing = await withRetries(policy, signal, async () => {
    calls++
    throw s3Error('SlowDown', 503)
  }).catch((e: unknown) => e)
  t.type(failing, RetriesExhausted)
  t.equal((failing as RetriesExhausted).attempts, 3)
  t.equal(calls, 3)

  calls = 0
  const final = await withRetries(policy, signal, async () => {
    calls++
    throw s3Error('AccessDenied', 403)
  }).catch((e: unknown) => e)
  t.equal((final as RetriesExhausted).attempts, 1)
  t.equal(calls, 1)

  calls = 0
  const retries: number[] = []
  const ok = await withRetries(
    policy,
    signal,
    async (n) => {
      calls++
      if (n < 2) throw netError('ECONNRESET')
      return 'done'
    },
    (_err, n) => retries.push(n),
  )
  t.same(ok, { value: 'done', attempts: 2 })
  t.same(retries, [1])
})

t.test('withRetries gives up at once when its signal aborts', async (t) => {
  const controller = new AbortController()
  const reason = new Error('stop')
  const result = withRetries(
    { maxAttempts: 5, retryTimeout: 0, baseDelay: 60_000, maxDelay: 60_000 },
    controller.signal,
    async () => {
      throw s3Error('SlowDown', 503)
    },
  )
  setTimeout(() => controller.abort(reason), 20)
  await t.rejects(result, reason)
})

t.test('withRetries stops when the next attempt would start past retryTimeout', async (t) => {
  const signal = new AbortController().signal
  let calls = 0
  const started = Date.now()
  const failing = await withRetries(
    { maxAttempts: 1000, retryTimeout: 300, baseDelay: 20, maxDelay: 40 },
    signal,
    async () => {
      calls++
      throw netError('ECONNREFUSED')
    },
  ).catch((e: unknown) => e)
  const elapsed = Date.now() - started
  t.type(failing, RetriesExhausted)
  t.ok(calls > 3 && calls < 1000, `stopped by time after ${calls} attempts`)
  t.ok(elapsed < 300 + 100, `within the budget (${elapsed} ms)`)
})

t.test('withRetries asks its limit again after each attempt and stops once it has passed', async (t) => {
  const signal = new AbortController().signal
  let calls = 0
  // A limit that other requests move: far away until the second attempt has failed, then already past.
  let limit = Number.POSITIVE_INFINITY
  const failing = await withRetries(
    { maxAttempts: 1000, retryTimeout: 60_000, baseDelay: 1, maxDelay: 2 },
    signal,
    async (n) => {
      calls++
      if (n === 2) limit = Date.now()
      throw netError('ECONNREFUSED')
    },
    undefined,
    true,
    () => limit,
  ).catch((e: unknown) => e)
  t.type(failing, RetriesExhausted)
  t.equal(calls, 2, 'no attempt after the limit passed')
  t.equal((failing as RetriesExhausted).outOfTime, true, 'stopped for lack of time')
  t.match((failing as RetriesExhausted).lastError, { code: 'ECONNREFUSED' }, 'with the last error')
})

t.test('throttling answers wait five times longer', async (t) => {
  const policy = { baseDelay: 100, maxDelay: 100_000 }
  t.equal(
    backoffDelay(1, policy, () => 0.999_999, false),
    99,
  )
  t.equal(
    backoffDelay(1, policy, () => 0.999_999, true),
    499,
  )
  t.equal(isThrottling(s3Error('SlowDown', 503)), true)
  t.equal(isThrottling(s3Error('TooManyRequests', 429)), true)
  t.equal(isThrottling(s3Error('InternalError', 500)), false)
  t.equal(isThrottling(netError('ECONNRESET')), false)
})
