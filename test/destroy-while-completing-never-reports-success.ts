// destroy() after end(), while CompleteMultipartUpload is in flight: the sink never reports success for an
// object that may not exist, and when the Complete did go through, the error says so and carries the result.
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { S3Sink, type S3SinkError } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { type FaultProxy, throughProxy } from './fixtures/fault-proxy.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { incompleteUploads, MiB, objectExists, readObject } from './fixtures/store.js'

const { Bucket, client: direct } = await bucketFor(t, 'destroy-complete')

async function until(check: () => boolean | Promise<boolean>) {
  while (!(await check())) await sleep(10)
}

const seenComplete = (proxy: FaultProxy) => proxy.seen.some((r) => r.operation === 'CompleteMultipartUpload')

t.test('destroyed before the store completed: rejects, nothing stored, nothing left', async (t) => {
  // The Complete never reaches the store.
  const { proxy, client } = await throughProxy(t, (r) =>
    r.operation === 'CompleteMultipartUpload' ? { kind: 'stall' } : undefined,
  )
  const Key = 'destroyed-before'
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB })
  const done = pipeline(randomChunks(pseudoRandomBytes(6 * MiB, 41), 64 * 1024, 64 * 1024), sink)
  await until(() => seenComplete(proxy))
  sink.destroy()
  const error = await done.then(
    () => undefined,
    (err: unknown) => err as S3SinkError,
  )
  t.match(error, { code: 'ERR_S3_SINK_DESTROYED', message: /nothing was stored/ })
  t.equal(error?.result, undefined)
  t.equal(sink.result, undefined)
  t.equal(await objectExists(direct, Bucket, Key), false, 'no object')
  t.same(await incompleteUploads(direct, Bucket, Key), [], 'no upload left')
})

t.test('destroyed after the store completed, before its answer came: the error carries the result', async (t) => {
  // The Complete reaches the store; its answer is held back.
  const { proxy, client } = await throughProxy(t, (r) =>
    r.operation === 'CompleteMultipartUpload' ? { kind: 'hold', ms: 5000 } : undefined,
  )
  const Key = 'destroyed-after'
  const data = pseudoRandomBytes(6 * MiB, 42)
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB })
  const done = pipeline(randomChunks(data, 64 * 1024, 64 * 1024), sink)
  await until(() => seenComplete(proxy))
  await until(() => objectExists(direct, Bucket, Key))
  const started = Date.now()
  sink.destroy()
  const error = await done.then(
    () => undefined,
    (err: unknown) => err as S3SinkError,
  )
  t.ok(Date.now() - started < 4000, 'without waiting for the held answer')
  t.match(error, { code: 'ERR_S3_SINK_DESTROYED', message: /the object was stored/ })
  t.match(error?.result, { Bucket, Key, size: data.length, parts: 2, ETag: /-2"$/ })
  t.ok((await readObject(direct, Bucket, Key)).equals(data), 'the object is whole')
  t.same(await incompleteUploads(direct, Bucket, Key), [])
})

t.test('a stalled CreateMultipartUpload ends with the AbortSignal, and the sink closes', async (t) => {
  const { client } = await throughProxy(t, (r) =>
    r.operation === 'CreateMultipartUpload' ? { kind: 'stall' } : undefined,
  )
  const Key = 'create-stalled'
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, signal: AbortSignal.timeout(1000) })
  const closed = new Promise<void>((resolve) => sink.on('close', resolve))
  const started = Date.now()
  const error = await pipeline(randomChunks(pseudoRandomBytes(11 * MiB, 43), 64 * 1024, 64 * 1024), sink).then(
    () => undefined,
    (err: unknown) => err,
  )
  await closed
  t.match(error, { code: 'ERR_S3_SINK_ABORTED', cause: { name: 'TimeoutError' } })
  // The sink gives the Create a second to answer, then looks for the upload it may have made, and again two seconds
  // later, since a store may still be making it: about 4 s in all, far within the 30 s clean-up deadline.
  t.ok(Date.now() - started < 10_000, `closed in ${Date.now() - started} ms`)
  t.same(await incompleteUploads(direct, Bucket, Key), [])
})
