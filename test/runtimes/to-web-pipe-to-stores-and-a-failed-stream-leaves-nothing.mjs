// sink.toWeb(): a ReadableStream piped with pipeTo() is stored once pipeTo() resolves; a ReadableStream that fails

// midway makes pipeTo() reject only once the upload is aborted, so nothing is left by the time it settles.
import assert from 'node:assert/strict'
import { Buffer } from 'node:buffer'
import { setTimeout as sleep } from 'node:timers/promises'
import { S3RollingSink, S3Sink } from 's3-sink'
import { check, finish } from './fixtures/harness.mjs'
import {
  chunksOf,
  incompleteUploads,
  keysUnder,
  MiB,
  makeBucket,
  makeClient,
  pseudoRandomBytes,
  readObject,
} from './fixtures/store.mjs'

const client = makeClient()
const { Bucket, drop } = await makeBucket(client, 'web')
const partSize = 5 * MiB

/** A ReadableStream of `chunks`; with `fail`, it then waits for `fail()` and errors with what it gives. */
function webStream(chunks, fail) {
  let i = 0
  return new ReadableStream({
    async pull(controller) {
      if (i < chunks.length) controller.enqueue(new Uint8Array(chunks[i++]))
      else if (fail) controller.error(await fail())
      else controller.close()
    },
  })
}

for (const size of [0, 2 * MiB, 12 * MiB + 1]) {
  await check(`${size} bytes piped with pipeTo() are stored once it resolves`, async () => {
    const data = pseudoRandomBytes(size, size + 3)
    const Key = `web-${size}`
    const sink = new S3Sink({ client, params: { Bucket, Key }, partSize })
    await webStream(chunksOf(data, 64 * 1024)).pipeTo(sink.toWeb())
    assert.equal(sink.result.size, size)
    assert.ok((await readObject(client, Bucket, Key)).equals(data), 'the store holds the bytes')
  })
}

await check('a ReadableStream failing after two parts: pipeTo() rejects with nothing left', async () => {
  const Key = 'web-failed'
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize })
  let parts = 0
  sink.on('part', () => parts++)
  const data = pseudoRandomBytes(16 * MiB, 4)
  const failAfterTwoParts = async () => {
    while (parts < 2) await sleep(10)
    return new Error('the source failed')
  }
  await assert.rejects(
    webStream(chunksOf(data, 256 * 1024), failAfterTwoParts).pipeTo(sink.toWeb()),
    /the source failed/,
  )
  assert.deepEqual(await incompleteUploads(client, Bucket, Key), [], 'no incomplete upload')
  assert.deepEqual(await keysUnder(client, Bucket, Key), [], 'no object')
  assert.ok(parts >= 2, `${parts} parts had been stored`)
})

await check("a rolling sink's toWeb(): records piped with pipeTo() are stored as whole-record objects", async () => {
  const lines = Array.from({ length: 30_000 }, (_, i) => `{"n":${i},"pad":"${'x'.repeat(i % 50)}"}\n`).join('')
  const data = new TextEncoder().encode(lines)
  const sink = new S3RollingSink({
    client,
    params: { Bucket },
    key: 'web-roll/{index}.ndjson',
    maxObjectBytes: 256 * 1024,
  })
  await webStream(chunksOf(data, 10_000)).pipeTo(sink.toWeb())
  const keys = await keysUnder(client, Bucket, 'web-roll/')
  assert.ok(keys.length >= 4, `${keys.length} objects`)
  assert.equal(keys.length, sink.objects.length)
  const objects = []
  for (const o of sink.objects) objects.push(await readObject(client, Bucket, o.key))
  for (const object of objects) assert.equal(object.at(-1), 0x0a, 'each object ends with a whole record')
  assert.equal(Buffer.concat(objects).toString(), lines, 'the objects, in index order, are the stream')
})

await drop()
client.destroy()
finish()
