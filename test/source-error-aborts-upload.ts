import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { failingSource, pseudoRandomBytes } from './fixtures/sources.js'
import { incompleteUploads, MiB, objectExists } from './fixtures/store.js'

const { client, Bucket } = await bucketFor(t, 'source-error')

t.test('a source that fails after three parts leaves no upload and no object', async (t) => {
  const Key = 'broken-source'
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, concurrency: 2 })
  const partsStored: number[] = []
  sink.on('part', (p) => partsStored.push(p.partNumber))
  let uploadIdSeen: string | undefined
  sink.on('part', () => {
    uploadIdSeen = sink.uploadId
  })
  const boom = new Error('the source broke')
  const source = failingSource(pseudoRandomBytes(17 * MiB, 3), 256 * 1024, boom)

  await t.rejects(pipeline(source, sink), boom, 'pipeline rejects with the source error')
  // Node's pipeline() rejects as soon as the source fails, without waiting for the sink's cleanup;
  // 'close' comes once the multipart upload is aborted.
  if (!sink.closed) await new Promise<void>((resolve) => sink.once('close', resolve))

  t.ok(partsStored.length >= 1, 'parts had been stored before the failure')
  t.ok(uploadIdSeen, 'a multipart upload had been created')
  t.same(await incompleteUploads(client, Bucket, Key), [], 'the multipart upload was aborted')
  t.equal(await objectExists(client, Bucket, Key), false, 'no object was created')
  t.ok(sink.destroyed)
  t.equal(sink.result, undefined)
})

t.test('a source that fails before the first part is full creates nothing', async (t) => {
  const Key = 'broken-early'
  const sink = new S3Sink({ client, params: { Bucket, Key } })
  const boom = new Error('early failure')
  await t.rejects(pipeline(failingSource(pseudoRandomBytes(MiB, 4), 64 * 1024, boom), sink), boom)
  t.equal(sink.uploadId, undefined, 'no multipart upload was created')
  t.same(await incompleteUploads(client, Bucket, Key), [])
  t.equal(await objectExists(client, Bucket, Key), false)
})
