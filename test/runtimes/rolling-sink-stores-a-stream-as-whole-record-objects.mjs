// S3RollingSink through pipeline(): a stream of records is stored as objects of whole records, plain and gzipped,
// whose contents in index order are the stream; a source that fails leaves no incomplete upload.
import assert from 'node:assert/strict'
import { Buffer } from 'node:buffer'
import { Readable } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { gunzipSync } from 'node:zlib'
import { S3RollingSink } from 's3-sink'
import { check, finish } from './fixtures/harness.mjs'
import { chunksOf, incompleteUploads, keysUnder, MiB, makeBucket, makeClient, readObject } from './fixtures/store.mjs'

const client = makeClient()
const { Bucket, drop } = await makeBucket(client, 'rolling')
const lines = Buffer.from(
  Array.from({ length: 120_000 }, (_, i) => `${i} ${'abcdefghij'.repeat(1 + (i % 9))}\n`).join(''),
)

/** Pipes `lines` into a rolling sink under `prefix`; the objects, each decoded by `decode`, are the stream. */
async function storesWhole(prefix, options, decode) {
  const sink = new S3RollingSink({ client, params: { Bucket }, key: `${prefix}/{index}`, ...options })
  const events = []
  sink.on('object', (o) => events.push(o.index))
  await pipeline(Readable.from(chunksOf(lines, 50_000)), sink)
  const keys = await keysUnder(client, Bucket, `${prefix}/`)
  assert.ok(keys.length >= 3, `${keys.length} objects`)
  assert.deepEqual(
    events,
    [...events].sort((a, b) => a - b),
    "'object' events in index order",
  )
  assert.equal(events.length, keys.length)
  const objects = []
  for (const o of sink.objects) objects.push(decode(await readObject(client, Bucket, o.key)))
  for (const object of objects) assert.equal(object.at(-1), 0x0a, 'each object ends with a whole record')
  assert.ok(Buffer.concat(objects).equals(lines), 'the objects, in index order, are the stream')
}

await check(`${lines.length} bytes of lines stored as objects of at most 2 MiB`, async () => {
  await storesWhole('plain', { maxObjectBytes: 2 * MiB }, (b) => b)
})

await check('the same lines gzipped, each object a standalone gzip file', async () => {
  await storesWhole('gzip', { maxObjectBytes: 2 * MiB, gzip: true }, (b) => gunzipSync(b))
})

await check('a source failing with a multipart object in flight leaves no incomplete upload', async () => {
  const sink = new S3RollingSink({
    client,
    params: { Bucket },
    key: 'failed/{index}',
    maxObjectBytes: 64 * MiB,
    partSize: 5 * MiB,
  })
  async function* source() {
    yield* chunksOf(lines, 64 * 1024)
    yield* chunksOf(lines, 64 * 1024)
    // The object's multipart upload is in the store before the source fails.
    while ((await incompleteUploads(client, Bucket, 'failed/')).length === 0) await sleep(20)
    throw new Error('the source failed')
  }
  await assert.rejects(pipeline(source, sink), /the source failed/)
  await finished(sink).catch(() => {})
  assert.deepEqual(await incompleteUploads(client, Bucket, 'failed/'), [], 'no incomplete upload')
  assert.deepEqual(await keysUnder(client, Bucket, 'failed/'), [], 'no object')
})

await drop()
client.destroy()
finish()
