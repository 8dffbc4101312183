// An upload suspended after some parts is taken up by a new sink from its JSON checkpoint: given the source again from
// byte 0, or from resumeOffset() (a file read from there), it sends only the parts the store lacks and the store
// holds the object byte for byte.
import assert from 'node:assert/strict'
import { createReadStream, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { resumeOffset, S3Sink } from 's3-sink'
import { check, finish } from './fixtures/harness.mjs'
import {
  chunksOf,
  incompleteUploads,
  MiB,
  makeBucket,
  makeClient,
  pseudoRandomBytes,
  readObject,
} from './fixtures/store.mjs'

const client = makeClient()
const { Bucket, drop } = await makeBucket(client, 'resume')
const dir = await mkdtemp(join(tmpdir(), 's3-sink-runtime-'))
const partSize = 5 * MiB
const data = pseudoRandomBytes(23 * MiB + 11, 21) // five parts
const file = join(dir, 'data.bin')
writeFileSync(file, data)

/** Uploads `data` to `Key` until two parts are stored, then suspends; the state comes back through JSON. */
async function suspendedAfterTwoParts(Key) {
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize, concurrency: 1 })
  const source = new Readable({ read() {} }) // gives the data and then waits, as a source cut off would
  for (const chunk of chunksOf(data, 256 * 1024)) source.push(chunk)
  let parts = 0
  const suspended = new Promise((resolve, reject) => {
    sink.on('part', () => {
      if (++parts === 2) sink.suspend().then(resolve, reject)
    })
  })
  const ended = await pipeline(source, sink).then(
    () => assert.fail('the suspended upload completed'),
    (err) => err,
  )
  assert.equal(ended.code, 'ERR_S3_SINK_SUSPENDED')
  const state = JSON.parse(JSON.stringify(await suspended))
  assert.ok(state.parts.length >= 2, `${state.parts.length} parts in the state`)
  assert.equal((await incompleteUploads(client, Bucket, Key)).length, 1, 'the upload is kept in the store')
  return state
}

/** Resumes `state` from `source`; the object is stored whole, only the missing parts were sent. */
async function resumes(Key, state, source, sourceOffset) {
  const sink = new S3Sink({ client, params: { Bucket, Key }, resume: state, sourceOffset })
  let sent = 0
  sink.on('part', () => sent++)
  await pipeline(source, sink)
  assert.equal(sink.result.uploadId, state.uploadId, 'the same upload')
  assert.equal(sink.result.parts, 5)
  assert.equal(sent, 5 - state.parts.length, 'only the parts the store lacked were sent')
  assert.ok((await readObject(client, Bucket, Key)).equals(data), 'the store holds the bytes')
  assert.deepEqual(await incompleteUploads(client, Bucket, Key), [])
}

await check('resumed from a JSON checkpoint with the source again from byte 0', async () => {
  const state = await suspendedAfterTwoParts('from-zero')
  await resumes('from-zero', state, Readable.from(chunksOf(data, 64 * 1024)), undefined)
})

await check('resumed from resumeOffset() with a file read from there', async () => {
  const state = await suspendedAfterTwoParts('from-offset')
  const offset = await resumeOffset(client, state)
  assert.equal(offset, state.parts.length * partSize)
  await resumes('from-offset', state, createReadStream(file, { start: offset }), offset)
})

await drop()
await rm(dir, { recursive: true, force: true })
client.destroy()
finish()
