import { getEventListeners } from 'node:events'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { S3Sink, S3SinkError } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { incompleteUploads, MiB, objectExists } from './fixtures/store.js'

const { client, Bucket } = await bucketFor(t, 'signal')

t.test('aborting the signal mid-upload rejects with ERR_S3_SINK_ABORTED and aborts the upload', async (t) => {
  const Key = 'aborted'
  const controller = new AbortController()
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, signal: controller.signal })
  sink.once('part', () => controller.abort(new Error('user pressed stop')))
  const err = await pipeline(randomChunks(pseudoRandomBytes(40 * MiB, 6), 64 * 1024, 64 * 1024), sink).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.type(err, S3SinkError)
  t.match(err, { code: 'ERR_S3_SINK_ABORTED', bucket: Bucket, key: Key, cause: { message: 'user pressed stop' } })
  t.ok((err as S3SinkError).uploadId, 'the error names the upload')
  t.ok((err as S3SinkError).bytesWritten! >= 5 * MiB, 'the error says how much was written')
  t.same(await incompleteUploads(client, Bucket, Key), [])
  t.equal(await objectExists(client, Bucket, Key), false)
})

t.test('an already aborted signal fails the sink before anything is sent', async (t) => {
  const Key = 'pre-aborted'
  const sink = new S3Sink({ client, params: { Bucket, Key }, signal: AbortSignal.abort() })
  await t.rejects(pipeline(randomChunks(pseudoRandomBytes(MiB, 7), 1000, 5000), sink), {
    code: 'ERR_S3_SINK_ABORTED',
  })
  t.equal(await objectExists(client, Bucket, Key), false)
})

t.test('the sink lets go of its signal once the object is stored', async (t) => {
  const Key = 'late-abort'
  const controller = new AbortController()
  const sink = new S3Sink({ client, params: { Bucket, Key }, signal: controller.signal })
  t.equal(getEventListeners(controller.signal, 'abort').length, 1, 'listening while uploading')
  await pipeline(randomChunks(pseudoRandomBytes(1000, 8), 10, 100), sink)
  t.equal(getEventListeners(controller.signal, 'abort').length, 0, 'no listener left behind')
  t.equal(await objectExists(client, Bucket, Key), true)
})
