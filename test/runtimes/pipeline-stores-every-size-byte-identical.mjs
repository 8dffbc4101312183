// Streams from empty to several parts, through pipeline() from a Readable, an async generator and a file, are stored
// byte for byte: one PutObject below the part size, a multipart upload of the expected parts above it.
import assert from 'node:assert/strict'
import { createReadStream, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { S3Sink } from 's3-sink'
import { check, finish } from './fixtures/harness.mjs'
import {
  chunksOf,
  headObject,
  incompleteUploads,
  MiB,
  makeBucket,
  makeClient,
  pseudoRandomBytes,
  readObject,
} from './fixtures/store.mjs'

const client = makeClient()
const { Bucket, drop } = await makeBucket(client, 'sizes')
const dir = await mkdtemp(join(tmpdir(), 's3-sink-runtime-'))
const partSize = 5 * MiB

async function stores(Key, data, source) {
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize })
  await pipeline(source, sink)
  const parts = data.length > partSize ? Math.ceil(data.length / partSize) : 0
  assert.equal(sink.result.size, data.length, 'result.size')
  assert.equal(sink.result.parts, parts, 'result.parts')
  assert.match(sink.result.ETag, parts === 0 ? /^"[0-9a-f]{32}"$/ : new RegExp(`^"[0-9a-f]{32}-${parts}"$`))
  const head = await headObject(client, Bucket, Key)
  assert.equal(head.ContentLength, data.length, 'the size the store gives')
  assert.equal(head.ETag, sink.result.ETag, 'the ETag the store gives')
  assert.ok((await readObject(client, Bucket, Key)).equals(data), 'the store holds the bytes')
}

for (const size of [0, 1, 3 * MiB, partSize - 1, partSize + 1, 17 * MiB + 3, 37 * MiB]) {
  await check(`${size} bytes from a Readable of 64 KiB chunks`, async () => {
    const data = pseudoRandomBytes(size, size + 1)
    await stores(`readable-${size}`, data, Readable.from(chunksOf(data, 64 * 1024)))
  })
}

await check('11 MiB + 5 from an async generator of uneven chunks', async () => {
  const data = pseudoRandomBytes(11 * MiB + 5, 3)
  async function* chunks() {
    for (let at = 0, n = 1; at < data.length; at += n, n = (n * 7 + 13) % (300 * 1024)) yield data.subarray(at, at + n)
  }
  await stores('generator', data, chunks)
})

await check('21 MiB from a file (createReadStream)', async () => {
  const data = pseudoRandomBytes(21 * MiB, 5)
  const file = join(dir, 'data.bin')
  writeFileSync(file, data)
  await stores('file', data, createReadStream(file))
})

await check('nothing is left incomplete in the store', async () => {
  assert.deepEqual(await incompleteUploads(client, Bucket), [])
})

await drop()
await rm(dir, { recursive: true, force: true })
client.destroy()
finish()
