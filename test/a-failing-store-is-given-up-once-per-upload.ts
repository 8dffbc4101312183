// The requests of one upload share one retry clock: once they have been failing for `retryTimeout` with none
// succeeding, none is retried any more. A store that is gone is given up once for the whole upload — not once
// per part, nor once more for the look-up after lost answers — and the upload ends within
// `retryTimeout` + `cleanupTimeout`.
import t from 'tap'
import { S3Sink, S3SinkError, type S3SinkOptions } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { upload } from './fixtures/run.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { incompleteUploads, MiB, objectExists } from './fixtures/store.js'

const { Bucket, client: direct } = await bucketFor(t, 'store-gone')

const RETRY_TIMEOUT = 3000
const CLEANUP_TIMEOUT = 1500
/** Room for a busy machine. */
const SLACK = 3000
/**
 * What an attempt in flight when the clock runs out may still take: it is cut after 2 s of silence
 * (OVERTIME_STALL_TIMEOUT), not at once.
 */
const OVERTIME = 2000
/** Bounded by time, not attempts: fast retries, and more attempts than fit in the time. */
const POLICY = {
  partSize: 5 * MiB,
  concurrency: 4,
  maxAttempts: 1000,
  retryTimeout: RETRY_TIMEOUT,
  retryBaseDelay: 50,
  retryMaxDelay: 300,
  stallTimeout: 1000,
  cleanupTimeout: CLEANUP_TIMEOUT,
} satisfies Partial<S3SinkOptions>

type Failure = S3SinkError & { abortError?: S3SinkError }

t.test('the store gone for good after 2 parts: the upload ends within retryTimeout + cleanupTimeout', async (t) => {
  const { proxy, client } = await throughProxy(t, () => undefined)
  const Key = 'gone-after-two-parts'
  const sink = new S3Sink({ client, params: { Bucket, Key }, ...POLICY })
  let goneAt = 0
  sink.on('part', () => {
    if (sink.progress.partsUploaded === 2) {
      goneAt = Date.now()
      proxy.down(Number.POSITIVE_INFINITY)
    }
  })
  const { error } = await upload(randomChunks(pseudoRandomBytes(40 * MiB, 27), 64 * 1024, 64 * 1024), sink)
  const ms = Date.now() - goneAt
  const failure = error as Failure
  t.type(failure, S3SinkError)
  t.match(failure, { code: 'ERR_S3_SINK_PART_FAILED', bucket: Bucket, key: Key })
  t.ok(goneAt > 0 && ms < RETRY_TIMEOUT + CLEANUP_TIMEOUT + SLACK, `ended ${ms} ms after the store went away`)
  t.ok((failure.cleanupMs ?? Number.POSITIVE_INFINITY) < CLEANUP_TIMEOUT + SLACK, `cleanupMs ${failure.cleanupMs}`)
  // The store cannot be reached to abort: reported, naming the upload, as when an abort fails for good.
  t.match(failure.abortError, { code: 'ERR_S3_SINK_ABORT_FAILED', uploadId: failure.uploadId })
  t.same(
    (await incompleteUploads(direct, Bucket, Key)).map((u) => u.UploadId),
    [failure.uploadId],
  )
})

t.test('the store falling silent after 2 parts, connections open: given up on the retry clock', async (t) => {
  // From the third part on, requests are accepted and never answered: each attempt stalls, counted as failing
  // from its last progress, and none is retried past the clock; the clean-up's deadline cuts the stalled abort.
  let silentAt = 0
  const { client } = await throughProxy(t, () => (silentAt > 0 ? { kind: 'stall' } : undefined))
  const Key = 'silent-after-two-parts'
  const sink = new S3Sink({ client, params: { Bucket, Key }, ...POLICY, stallTimeout: 2500 })
  sink.on('part', () => {
    if (sink.progress.partsUploaded === 2 && silentAt === 0) silentAt = Date.now()
  })
  const { error } = await upload(randomChunks(pseudoRandomBytes(40 * MiB, 30), 64 * 1024, 64 * 1024), sink)
  const ms = Date.now() - silentAt
  const failure = error as Failure
  t.match(failure, { code: 'ERR_S3_SINK_PART_FAILED', bucket: Bucket, key: Key })
  t.ok(
    silentAt > 0 && ms < RETRY_TIMEOUT + CLEANUP_TIMEOUT + OVERTIME + SLACK,
    `ended ${ms} ms after the store fell silent`,
  )
  t.match(failure.message, /retryTimeout \(3000 ms\)/, 'the message says the retry clock ran out')
  t.match(failure.abortError, { code: 'ERR_S3_SINK_ABORT_FAILED', uploadId: failure.uploadId })
  t.same(
    (await incompleteUploads(direct, Bucket, Key)).map((u) => u.UploadId),
    [failure.uploadId],
  )
})

t.test('the store failing, then answering nothing: attempts in flight are cut when the clock runs out', async (t) => {
  // After 2 parts every request is answered 500 for half a second (the retry clock starts), then accepted and
  // never answered, connections left open. The stall watchdog would wait stallTimeout (30 s) for the attempts in
  // flight; once the clock has run out, they are cut after a short silence.
  let failingAt = 0
  const { client } = await throughProxy(t, () => {
    if (failingAt === 0) return undefined
    if (Date.now() < failingAt + 500) return { kind: 'error', status: 500, code: 'InternalError' }
    return { kind: 'stall' }
  })
  const Key = 'failing-then-silent'
  const sink = new S3Sink({ client, params: { Bucket, Key }, ...POLICY, stallTimeout: 30_000 })
  sink.on('part', () => {
    if (sink.progress.partsUploaded === 2 && failingAt === 0) failingAt = Date.now()
  })
  const { error } = await upload(randomChunks(pseudoRandomBytes(40 * MiB, 29), 64 * 1024, 64 * 1024), sink)
  const ms = Date.now() - failingAt
  const failure = error as Failure
  t.match(failure, { code: 'ERR_S3_SINK_PART_FAILED', bucket: Bucket, key: Key })
  t.ok(failingAt > 0 && ms < RETRY_TIMEOUT + CLEANUP_TIMEOUT + SLACK, `ended ${ms} ms after the store began failing`)
  t.match(failure.message, /retryTimeout \(3000 ms\)/, 'the message says the retry clock ran out')
  t.match(
    failure.message,
    /made no progress for 2000 ms once the upload's requests had been failing for retryTimeout \(3000 ms\)/,
    'the attempt in flight was cut by the shared clock, not by its own stall timeout',
  )
  t.ok((failure.cleanupMs ?? Number.POSITIVE_INFINITY) < CLEANUP_TIMEOUT + SLACK, `cleanupMs ${failure.cleanupMs}`)
  t.match(failure.abortError, { code: 'ERR_S3_SINK_ABORT_FAILED', uploadId: failure.uploadId })
  t.same(
    (await incompleteUploads(direct, Bucket, Key)).map((u) => u.UploadId),
    [failure.uploadId],
  )
})

t.test(
  "after Complete's answers were lost for retryTimeout, the look-up gets no retry budget of its own",
  async (t) => {
    // Every Complete answer is lost after the store acted, and every HeadObject is cut: the look-up that follows
    // Complete's last attempt has only what is left of the upload's retryTimeout, counted from Complete's first
    // failure — not a retryTimeout of its own.
    const arrivals: { operation: string; at: number }[] = []
    const { client } = await throughProxy(t, (r) => {
      arrivals.push({ operation: r.operation, at: Date.now() })
      if (r.operation === 'CompleteMultipartUpload') return { kind: 'drop', when: 'after' }
      if (r.operation === 'HeadObject') return { kind: 'reset' }
      return undefined
    })
    const Key = 'complete-lost'
    const sink = new S3Sink({ client, params: { Bucket, Key }, ...POLICY })
    const started = Date.now()
    const { error } = await upload(randomChunks(pseudoRandomBytes(6 * MiB, 28), 64 * 1024, 64 * 1024), sink)
    const ms = Date.now() - started
    const failure = error as Failure
    t.match(failure, { code: 'ERR_S3_SINK_COMPLETE_FAILED' })
    t.match(failure.message, /may have been stored/, 'the error does not claim failure')
    const firstComplete = arrivals.find((r) => r.operation === 'CompleteMultipartUpload')?.at ?? Number.NaN
    const firstAbort = arrivals.findIndex((r) => r.operation === 'AbortMultipartUpload')
    t.ok(firstAbort >= 0, 'the upload was aborted after the look-up')
    const lookups = arrivals.slice(0, firstAbort).filter((r) => r.operation === 'HeadObject')
    t.ok(lookups.length >= 1, `the object was looked up (${lookups.length} attempts)`)
    const last = (lookups.at(-1)?.at ?? Number.NaN) - firstComplete
    // A budget of its own would have had the look-up go on until about 2 × retryTimeout.
    t.ok(last < 1.5 * RETRY_TIMEOUT, `the last look-up began ${last} ms after the first Complete`)
    t.ok(ms < 2 * RETRY_TIMEOUT + CLEANUP_TIMEOUT, `ended after ${ms} ms`)
    // The first Complete went through: the object is stored and no upload is left.
    t.equal(await objectExists(direct, Bucket, Key), true)
    t.same(await incompleteUploads(direct, Bucket, Key), [])
  },
)
