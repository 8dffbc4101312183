// Once an upload is known to have failed, its clean-up (cancelling requests in flight, AbortMultipartUpload and
// its retries, the second abort, the checks after lost answers) shares one deadline, `cleanupTimeout`, instead of
// a retry budget per step: the failure is reported within it, with `abortError` when the clean-up could not be
// done by then, and `cleanupMs` says how long it took.
import t, { type Test } from 'tap'
import { S3Sink, S3SinkError, type S3SinkOptions } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { type Fault, type FaultRule, type SeenRequest, throughProxy } from './fixtures/fault-proxy.js'
import { upload } from './fixtures/run.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { incompleteUploads, MiB } from './fixtures/store.js'

const { Bucket, client: direct } = await bucketFor(t, 'cleanup-deadline')

const CLEANUP_TIMEOUT = 1500
/** Room for a busy machine around the deadline; far less than the retry budget the clean-up had before. */
const SLACK = 4000
/**
 * A retry budget much longer than the deadline: were the clean-up's requests given one each, they would run past
 * the bounds asserted here. Fast retries, so that several attempts fit in the deadline.
 */
const POLICY = {
  partSize: 5 * MiB,
  concurrency: 4,
  retryTimeout: 30_000,
  retryBaseDelay: 50,
  retryMaxDelay: 300,
  cleanupTimeout: CLEANUP_TIMEOUT,
} satisfies Partial<S3SinkOptions>

type Failure = S3SinkError & { abortError?: S3SinkError & { cause?: unknown } }

interface Run {
  error: Failure
  ms: number
  seen: SeenRequest[]
  left: { UploadId?: string | undefined }[]
}

async function run(t: Test, Key: string, rule: FaultRule, options: Partial<S3SinkOptions> = {}): Promise<Run> {
  const { proxy, client } = await throughProxy(t, rule)
  const sink = new S3Sink({ client, params: { Bucket, Key }, ...POLICY, ...options })
  const started = Date.now()
  const { error } = await upload(randomChunks(pseudoRandomBytes(16 * MiB, 26), 64 * 1024, 64 * 1024), sink)
  const ms = Date.now() - started
  return { error: error as Failure, ms, seen: proxy.seen, left: await incompleteUploads(direct, Bucket, Key) }
}

const count = (seen: SeenRequest[], operation: string) => seen.filter((r) => r.operation === operation).length

const onPart3 =
  (fault: Fault): FaultRule =>
  (r) =>
    r.operation === 'UploadPart' && r.partNumber === 3 ? fault : undefined
const abortAlways500: FaultRule = (r) =>
  r.operation === 'AbortMultipartUpload' ? { kind: 'error', status: 500, code: 'InternalError' } : undefined
const both =
  (...rules: FaultRule[]): FaultRule =>
  (r) => {
    for (const rule of rules) {
      const fault = rule(r)
      if (fault) return fault
    }
    return undefined
  }

// Final errors, each while every AbortMultipartUpload is answered 500: the failure is reported once the
// deadline has run out, not after the abort's retry budget and the second abort's. Every final error (404
// NoSuchBucket, a refused signature, …) starts the clean-up the same way: one while parts are in flight, one
// while completing.
const FINAL: [string, string, FaultRule][] = [
  [
    'part 3 answered 403 AccessDenied',
    'ERR_S3_SINK_PART_FAILED',
    onPart3({ kind: 'error', status: 403, code: 'AccessDenied' }),
  ],
  [
    'Complete answered 400 BadDigest',
    'ERR_S3_SINK_COMPLETE_FAILED',
    (r) => (r.operation === 'CompleteMultipartUpload' ? { kind: 'error', status: 400, code: 'BadDigest' } : undefined),
  ],
]

for (const [what, code, rule] of FINAL) {
  t.test(`${what}, every abort answered 500: reported within the deadline`, async (t) => {
    const Key = `final/${what.replaceAll(' ', '-')}`
    const { error, ms, seen, left } = await run(t, Key, both(rule, abortAlways500))
    t.type(error, S3SinkError)
    t.match(error, { code, bucket: Bucket, key: Key })
    t.ok(ms < CLEANUP_TIMEOUT + SLACK, `reported after ${ms} ms`)
    t.ok(
      count(seen, 'AbortMultipartUpload') >= 2,
      `the abort was retried (${count(seen, 'AbortMultipartUpload')} attempts)`,
    )
    t.ok(
      (error.cleanupMs ?? 0) >= CLEANUP_TIMEOUT - 500 && (error.cleanupMs ?? 0) < CLEANUP_TIMEOUT + SLACK,
      `cleanupMs ${error.cleanupMs}: the clean-up ran to its deadline`,
    )
    t.match(error.abortError, { code: 'ERR_S3_SINK_ABORT_FAILED', uploadId: error.uploadId }, 'the abort failure')
    t.match(error.abortError?.message, /cleanupTimeout \(1500 ms\)/, 'which says the deadline ended it')
    t.same(
      left.map((u) => u.UploadId),
      [error.uploadId],
      'the upload it names is left, as when an abort fails for good',
    )
  })
}

t.test('an abort that stalls is cut at the deadline, with a coded cause', async (t) => {
  const Key = 'abort-stalls'
  // The stall watchdog (60 s by default) would wait far longer: the deadline cancels the attempt in flight.
  const { error, ms, left } = await run(
    t,
    Key,
    both(onPart3({ kind: 'error', status: 403, code: 'AccessDenied' }), (r) =>
      r.operation === 'AbortMultipartUpload' ? { kind: 'stall' } : undefined,
    ),
  )
  t.match(error, { code: 'ERR_S3_SINK_PART_FAILED', statusCode: 403 })
  t.ok(ms < CLEANUP_TIMEOUT + SLACK, `reported after ${ms} ms`)
  t.match(error.abortError, {
    code: 'ERR_S3_SINK_ABORT_FAILED',
    uploadId: error.uploadId,
    cause: { code: 'ERR_S3_SINK_CLEANUP_TIMEOUT' },
  })
  t.same(
    left.map((u) => u.UploadId),
    [error.uploadId],
  )
})

t.test('an abort that fails once is retried and goes through within the deadline', async (t) => {
  const Key = 'abort-once'
  const { error, seen, left } = await run(
    t,
    Key,
    both(onPart3({ kind: 'error', status: 403, code: 'AccessDenied' }), (r) =>
      r.operation === 'AbortMultipartUpload' && r.repeat === 0
        ? { kind: 'error', status: 503, code: 'SlowDown' }
        : undefined,
    ),
  )
  t.match(error, { code: 'ERR_S3_SINK_PART_FAILED', statusCode: 403 })
  t.notOk(error.abortError, 'no abort failed')
  t.ok(count(seen, 'AbortMultipartUpload') >= 2, 'the abort was tried again')
  t.ok((error.cleanupMs ?? Number.NaN) < CLEANUP_TIMEOUT, `done in ${error.cleanupMs} ms`)
  t.same(left, [], 'nothing is left')
})

t.test('leavePartsOnError skips the clean-up', async (t) => {
  const Key = 'leave-parts'
  const { error, seen, left } = await run(t, Key, onPart3({ kind: 'error', status: 403, code: 'AccessDenied' }), {
    leavePartsOnError: true,
  })
  t.match(error, { code: 'ERR_S3_SINK_PART_FAILED', statusCode: 403 })
  t.equal(count(seen, 'AbortMultipartUpload'), 0, 'no abort was sent')
  t.notOk(error.abortError)
  t.type(error.cleanupMs, 'number', 'cleanupMs: the wait for the parts in flight')
  t.same(
    left.map((u) => u.UploadId),
    [error.uploadId],
    'the upload is kept',
  )
})
