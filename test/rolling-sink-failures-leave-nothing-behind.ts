import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import t from 'tap'
import { S3RollingSink, type S3SinkError } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { ndjson, readRolled } from './fixtures/rolling.js'
import { randomChunks } from './fixtures/sources.js'
import { incompleteUploads, MiB, objectExists, readObject } from './fixtures/store.js'

const { client, Bucket } = await bucketFor(t, 'rolling-fail')
const fast = { maxAttempts: 2, retryBaseDelay: 10, stallTimeout: 2000 }

t.test('a key the sink already produced fails it before anything is overwritten', async (t) => {
  const sink = new S3RollingSink({ client, params: { Bucket }, key: 'daily/%Y-%m-%d.log', maxObjectBytes: 8 })
  const err = (await pipeline(Readable.from([Buffer.from('first\nsecond\n')]), sink).catch((e) => e)) as S3SinkError
  t.equal(err.code, 'ERR_S3_SINK_KEY_REPEATED')
  t.match(err.message, /already used/)
  t.equal(err.objectIndex, 1)
  t.same(
    err.objects?.map((o) => o.index),
    [0],
    'the error lists what was stored',
  )
  const key = err.objects?.[0]?.key as string
  t.equal((await readObject(client, Bucket, key)).toString(), 'first\n', 'the first object is intact')
})

t.test('an object that fails ends the sink with its code, listing the objects stored, nothing left', async (t) => {
  // Every request about the third object fails for good (a permission error: not retried).
  const { client: faulty } = await throughProxy(t, (req) =>
    req.path.includes('/fail/00000002') && req.method !== 'DELETE' && req.operation !== 'ListMultipartUploads'
      ? { kind: 'error', status: 403, code: 'AccessDenied' }
      : undefined,
  )
  const input = ndjson(100_000, 400, 4)
  const sink = new S3RollingSink({
    client: faulty,
    params: { Bucket },
    key: 'fail/{index}',
    maxObjectBytes: 6 * MiB,
    partSize: 5 * MiB,
    ...fast,
  })
  const err = (await pipeline(randomChunks(input, 32 * 1024, 200 * 1024, 12), sink).catch((e) => e)) as S3SinkError
  t.match(err.code, /^ERR_S3_SINK_(CREATE|PART)_FAILED$/)
  t.equal(err.objectIndex, 2)
  t.match(err.message, /object 2 \(fail\/00000002\) failed: .*[23] objects were stored/)
  const keys = err.objects?.map((o) => o.key) ?? []
  t.same(keys.slice(0, 2), ['fail/00000000', 'fail/00000001'], 'the objects before it were stored')
  t.notOk(keys.includes('fail/00000002'))
  t.same(sink.objects, err.objects, 'sink.objects says the same')
  // Objects after the failed one that had already ended hold whole records and were completed; the one being
  // filled was aborted. What the error lists is exactly what the store holds, byte for byte at its offsets.
  const listed = await client.send(new ListObjectsV2Command({ Bucket, Prefix: 'fail/' }))
  t.same(
    (listed.Contents ?? []).map((o) => o.Key),
    keys,
    `the store holds exactly the objects listed: ${keys.join(' ')}`,
  )
  const read = await readRolled(client, Bucket, sink.objects)
  for (const [i, o] of sink.objects.entries()) {
    t.ok(read[i]?.input.equals(input.subarray(o.offset, o.offset + o.bytes)), `${o.key} holds its input bytes`)
  }
  t.same(await incompleteUploads(client, Bucket, 'fail/'), [], 'no incomplete upload left')
})

t.test('destroy and abort cancel the objects in flight and leave no upload', async (t) => {
  for (const how of ['destroy', 'abort'] as const) {
    const controller = new AbortController()
    const sink = new S3RollingSink({
      client,
      params: { Bucket },
      key: `${how}/{index}`,
      maxObjectBytes: 12 * MiB,
      partSize: 5 * MiB,
      signal: controller.signal,
    })
    const failed = new Promise<unknown>((resolve) => sink.once('error', resolve))
    const closed = new Promise<void>((resolve) => sink.once('close', resolve))
    const chunk = Buffer.alloc(MiB, 'x\n')
    for (let i = 0; i < 8; i++) {
      if (!sink.write(chunk)) await new Promise<void>((resolve) => sink.once('drain', resolve))
    }
    if (how === 'destroy') sink.destroy()
    else controller.abort()
    await closed
    if (how === 'abort') t.match(await failed, { code: 'ERR_S3_SINK_ABORTED' })
    t.equal(sink.objects.length, 0, `${how}: nothing was stored`)
    t.same(await incompleteUploads(client, Bucket, `${how}/`), [], `${how}: the upload in flight was aborted`)
    t.equal(await objectExists(client, Bucket, `${how}/00000000`), false)
  }
})
