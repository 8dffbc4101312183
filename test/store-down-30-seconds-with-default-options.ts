// With default options an upload rides out the store being unreachable for 30 s mid-upload.
import t from 'tap'
import { S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { upload } from './fixtures/run.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { incompleteUploads, MiB, readObject } from './fixtures/store.js'

const { Bucket, client: direct } = await bucketFor(t, 'outage')

t.test('the store away for 30 s after the first part: the object is stored byte-identical', async (t) => {
  const { proxy, client } = await throughProxy(t, () => undefined)
  const Key = 'outage'
  const data = pseudoRandomBytes(21 * MiB, 61)
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, concurrency: 2 })
  let downAt = 0
  sink.once('part', () => {
    downAt = Date.now()
    proxy.down(30_000)
  })
  const retries: string[] = []
  sink.on('retry', (r) => retries.push(r.operation))
  const { error } = await upload(randomChunks(data, 64 * 1024, 64 * 1024), sink)
  t.equal(error, undefined, 'the upload succeeded')
  t.ok(Date.now() - downAt >= 30_000, 'after the outage')
  t.ok(retries.length > 0, `${retries.length} attempts failed while the store was away`)
  t.ok((await readObject(direct, Bucket, Key)).equals(data))
  t.same(await incompleteUploads(direct, Bucket, Key), [])
})
