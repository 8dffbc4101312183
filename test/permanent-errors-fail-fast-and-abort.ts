import t, { type Test } from 'tap'
import { S3Sink, S3SinkError } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { type FaultRule, throughProxy } from './fixtures/fault-proxy.js'
import { upload } from './fixtures/run.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { incompleteUploads, MiB, objectExists } from './fixtures/store.js'

const { Bucket, client: direct } = await bucketFor(t, 'fail-fast')

async function through(t: Test, rule: FaultRule) {
  const { proxy, client } = await throughProxy(t, rule)
  return { proxy, client }
}

t.test('403 AccessDenied on a part fails at once and aborts the upload', async (t) => {
  const { proxy, client } = await through(t, (r) =>
    r.operation === 'UploadPart' && r.partNumber === 2
      ? { kind: 'error', status: 403, code: 'AccessDenied' }
      : undefined,
  )
  const Key = 'denied'
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, concurrency: 1 })
  const { error } = await upload(randomChunks(pseudoRandomBytes(16 * MiB, 21), 64 * 1024, 64 * 1024), sink)

  t.type(error, S3SinkError)
  t.match(error, {
    code: 'ERR_S3_SINK_PART_FAILED',
    partNumber: 2,
    attempts: 1,
    statusCode: 403,
    bucket: Bucket,
    key: Key,
    cause: { name: 'AccessDenied' },
  })
  t.match((error as Error).message, /part 2 failed after 1 attempt: AccessDenied \(403\)/)
  t.ok((error as S3SinkError).uploadId)
  t.equal(proxy.seen.filter((r) => r.partNumber === 2).length, 1, 'part 2 was tried once')
  t.equal(proxy.seen.filter((r) => r.operation === 'AbortMultipartUpload').length, 1, 'one AbortMultipartUpload')
  t.equal(proxy.seen.filter((r) => r.operation === 'CompleteMultipartUpload').length, 0, 'never completed')
  t.same(await incompleteUploads(direct, Bucket, Key), [])
  t.equal(await objectExists(direct, Bucket, Key), false)
})

t.test('a part that keeps failing gives up after maxAttempts and aborts', async (t) => {
  const { proxy, client } = await through(t, (r) =>
    r.operation === 'UploadPart' && r.partNumber === 1 ? { kind: 'error', status: 503, code: 'SlowDown' } : undefined,
  )
  const Key = 'always-slow'
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, maxAttempts: 3, retryBaseDelay: 5 })
  const { error } = await upload(randomChunks(pseudoRandomBytes(11 * MiB, 22), 64 * 1024, 64 * 1024), sink)
  t.match(error, {
    code: 'ERR_S3_SINK_PART_FAILED',
    partNumber: 1,
    attempts: 3,
    statusCode: 503,
    cause: { name: 'SlowDown' },
  })
  t.equal(proxy.seen.filter((r) => r.partNumber === 1).length, 3, 'three attempts at part 1')
  t.same(await incompleteUploads(direct, Bucket, Key), [])
})

t.test('a failing CompleteMultipartUpload aborts the upload', async (t) => {
  const { client } = await through(t, (r) =>
    r.operation === 'CompleteMultipartUpload' ? { kind: 'error', status: 400, code: 'InvalidPart' } : undefined,
  )
  const Key = 'bad-complete'
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB })
  const { error } = await upload(randomChunks(pseudoRandomBytes(6 * MiB, 23), 64 * 1024, 64 * 1024), sink)
  t.match(error, { code: 'ERR_S3_SINK_COMPLETE_FAILED', statusCode: 400, cause: { name: 'InvalidPart' } })
  t.same(await incompleteUploads(direct, Bucket, Key), [])
  t.equal(await objectExists(direct, Bucket, Key), false)
  t.equal(sink.result, undefined)
})

t.test('a bucket that does not exist fails with the store error', async (t) => {
  for (const [size, code] of [
    [6 * MiB, 'ERR_S3_SINK_CREATE_FAILED'],
    [1000, 'ERR_S3_SINK_PUT_FAILED'],
  ] as const) {
    const sink = new S3Sink({ client: direct, params: { Bucket: `${Bucket}-missing`, Key: 'k' }, partSize: 5 * MiB })
    const { error } = await upload(randomChunks(pseudoRandomBytes(size, 24), 64 * 1024, 64 * 1024), sink)
    t.match(error, { code, statusCode: 404, cause: { name: 'NoSuchBucket' } }, `${size} bytes`)
  }
})

t.test('leavePartsOnError keeps the upload and its parts for the caller', async (t) => {
  const { client } = await through(t, (r) =>
    r.operation === 'UploadPart' && r.partNumber === 2
      ? { kind: 'error', status: 403, code: 'AccessDenied' }
      : undefined,
  )
  const Key = 'kept'
  const sink = new S3Sink({
    client,
    params: { Bucket, Key },
    partSize: 5 * MiB,
    concurrency: 1,
    leavePartsOnError: true,
  })
  const { error, parts } = await upload(randomChunks(pseudoRandomBytes(11 * MiB, 25), 64 * 1024, 64 * 1024), sink)
  t.match(error, { code: 'ERR_S3_SINK_PART_FAILED' })
  t.same(
    parts.map((p) => p.partNumber),
    [1],
  )
  const left = await incompleteUploads(direct, Bucket, Key)
  t.equal(left.length, 1, 'the upload is still there')
  t.equal(left[0]?.UploadId, (error as S3SinkError).uploadId, 'the error names it')
})
