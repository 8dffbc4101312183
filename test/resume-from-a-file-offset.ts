import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { resumeOffset, S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { suspendAfter, upload } from './fixtures/run.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { MiB, readObject } from './fixtures/store.js'

const { Bucket, client } = await bucketFor(t, 'offset')

t.test('a file source started at resumeOffset() completes a byte-identical object', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 's3-sink-offset-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'data.bin')
  const data = pseudoRandomBytes(27 * MiB + 123, 71)
  writeFileSync(path, data)
  const Key = 'from-file'

  const first = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, concurrency: 1 })
  const suspended = suspendAfter(first, 2)
  await t.rejects(pipeline(createReadStream(path), first), { code: 'ERR_S3_SINK_SUSPENDED' })
  const state = await suspended

  const offset = await resumeOffset(client, state)
  t.equal(offset, state.parts.length * 5 * MiB, 'the offset is the end of the stored parts')
  const sink = new S3Sink({ client, params: { Bucket, Key }, resume: state, sourceOffset: offset })
  const { error, parts } = await upload(createReadStream(path, { start: offset }), sink)
  t.equal(error, undefined)
  t.equal(parts[0]?.partNumber, state.parts.length + 1, 'numbering goes on after the stored parts')
  t.equal(sink.progress.bytesWritten, data.length - offset, 'only the rest of the file was read')
  t.equal(sink.result?.size, data.length)
  t.ok((await readObject(client, Bucket, Key)).equals(data))
})

t.test('a sourceOffset that is not the end of a stored part is refused', async (t) => {
  const Key = 'bad-offset'
  const data = pseudoRandomBytes(12 * MiB, 72)
  const first = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, concurrency: 1 })
  const suspended = suspendAfter(first, 1)
  await t.rejects(pipeline(randomChunks(data, 64 * 1024, 64 * 1024), first), { code: 'ERR_S3_SINK_SUSPENDED' })
  const state = await suspended
  const sink = new S3Sink({ client, params: { Bucket, Key }, resume: state, sourceOffset: 1000 })
  sink.on('error', () => {})
  const error = await new Promise((resolve) => sink.once('error', resolve))
  t.match(error, { code: 'ERR_S3_SINK_RESUME_FAILED', message: /sourceOffset 1000 is not the end of a stored part/ })
})
