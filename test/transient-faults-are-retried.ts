import t from 'tap'
import { type RetryInfo, S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { type Fault, type SeenRequest, throughProxy } from './fixtures/fault-proxy.js'
import { upload } from './fixtures/run.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { incompleteUploads, MiB, readObject } from './fixtures/store.js'

const { Bucket, client: direct } = await bucketFor(t, 'retry')

const faults: [string, (req: SeenRequest) => Fault | undefined][] = [
  [
    'connection reset mid-body',
    (r) => (r.partNumber === 2 && r.repeat === 0 ? { kind: 'reset', afterBytes: 100_000 } : undefined),
  ],
  ['connection reset before any byte', (r) => (r.partNumber === 2 && r.repeat === 0 ? { kind: 'reset' } : undefined)],
  [
    '503 SlowDown',
    (r) => (r.partNumber === 2 && r.repeat === 0 ? { kind: 'error', status: 503, code: 'SlowDown' } : undefined),
  ],
  [
    '500 InternalError twice',
    (r) => (r.partNumber === 2 && r.repeat < 2 ? { kind: 'error', status: 500, code: 'InternalError' } : undefined),
  ],
]

for (const [name, rule] of faults) {
  t.test(`a part whose first attempt meets ${name} is retried and the object is intact`, async (t) => {
    const { proxy, client } = await throughProxy(t, (r) => (r.operation === 'UploadPart' ? rule(r) : undefined))
    const Key = `retried-${name.replaceAll(' ', '-')}`
    const data = pseudoRandomBytes(13 * MiB, 11)
    const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, retryBaseDelay: 10 })
    const retries: RetryInfo[] = []
    sink.on('retry', (info) => retries.push(info))
    const { error, parts } = await upload(randomChunks(data, 32 * 1024, 256 * 1024), sink)

    t.equal(error, undefined, 'the upload succeeded')
    t.ok((await readObject(direct, Bucket, Key)).equals(data), 'stored bytes are intact')
    const faulted = proxy.seen.filter((r) => r.operation === 'UploadPart' && r.fault).length
    t.ok(faulted >= 1, 'the fault was injected')
    t.same(
      parts.map((p) => [p.partNumber, p.attempts]),
      [
        [1, 1],
        [2, faulted + 1],
        [3, 1],
      ],
      'part 2 took one more attempt per fault',
    )
    t.same(
      retries.map((r) => [r.partNumber, r.attempt]),
      Array.from({ length: faulted }, (_, i) => [2, i + 1]),
      'a retry event per failed attempt',
    )
    t.ok(
      // After a throttling answer the waits start five times longer.
      retries.every(
        (r) =>
          r.delayMs >= 0 &&
          r.delayMs <= (name.includes('SlowDown') ? 50 : 10) * 2 ** (r.attempt - 1) &&
          r.error &&
          r.operation === 'UploadPart',
      ),
      'with its backoff delay, error and operation',
    )
    t.equal(sink.progress.bytesSent, data.length, 'bytesSent counts each byte once')
    t.same(await incompleteUploads(direct, Bucket, Key), [])
  })
}

t.test('a PutObject that meets a 503 is retried', async (t) => {
  const { proxy, client } = await throughProxy(t, (r) =>
    r.operation === 'PutObject' && r.repeat === 0
      ? { kind: 'error', status: 503, code: 'ServiceUnavailable' }
      : undefined,
  )
  const data = pseudoRandomBytes(100_000, 12)
  const sink = new S3Sink({ client, params: { Bucket, Key: 'small-retried' }, retryBaseDelay: 10 })
  const { error } = await upload(randomChunks(data, 1000, 9000), sink)
  t.equal(error, undefined)
  t.equal(proxy.seen.filter((r) => r.operation === 'PutObject').length, 2, 'two attempts')
  t.ok((await readObject(direct, Bucket, 'small-retried')).equals(data))
})

t.test('a part that stalls is cancelled after stallTimeout and retried', async (t) => {
  const { client } = await throughProxy(t, (r) =>
    r.operation === 'UploadPart' && r.partNumber === 1 && r.repeat === 0 ? { kind: 'stall' } : undefined,
  )
  const data = pseudoRandomBytes(11 * MiB, 13)
  const sink = new S3Sink({
    client,
    params: { Bucket, Key: 'stalled' },
    partSize: 5 * MiB,
    stallTimeout: 1500,
    retryBaseDelay: 10,
  })
  const { error, parts } = await upload(randomChunks(data, 64 * 1024, 64 * 1024), sink)
  t.equal(error, undefined)
  t.equal(parts.find((p) => p.partNumber === 1)?.attempts, 2, 'part 1 took two attempts')
  t.ok(parts.find((p) => p.partNumber === 1)!.durationMs >= 1500, 'the first attempt waited out the stall timeout')
  t.ok((await readObject(direct, Bucket, 'stalled')).equals(data))
})

t.test('an error answered before the body is all sent: that request is cut, the part is sent again', async (t) => {
  const { proxy, client } = await throughProxy(t, (r) =>
    r.operation === 'UploadPart' && r.partNumber === 1 && r.repeat === 0
      ? { kind: 'error', status: 503, code: 'SlowDown', early: true }
      : undefined,
  )
  const Key = 'slow-down-early'
  const partSize = 16 * MiB
  const data = pseudoRandomBytes(2 * partSize + 1000, 31)
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize, retryBaseDelay: 5 })
  const { error } = await upload(randomChunks(data, 256 * 1024, 256 * 1024), sink)
  t.equal(error, undefined)
  t.ok((await readObject(direct, Bucket, Key)).equals(data))
  const attempts = proxy.seen.filter((r) => r.operation === 'UploadPart' && r.partNumber === 1)
  t.equal(attempts.length, 2, 'part 1 was sent again')
  t.ok((attempts[0]?.receivedAfterAnswer ?? partSize) < partSize, 'the first attempt did not send its whole body')
})
