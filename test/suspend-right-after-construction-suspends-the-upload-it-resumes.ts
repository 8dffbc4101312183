// suspend() called on a resumed sink before its `_construct` has taken the upload up suspends that upload: it
// creates no other one (which nothing would name, nor abort), and its state still holds the stored parts.
import { once } from 'node:events'
import t from 'tap'
import { type ResumeState, S3Sink, type S3SinkError } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { suspendAfter, upload } from './fixtures/run.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { incompleteUploads, MiB, readObject } from './fixtures/store.js'

const { Bucket, client } = await bucketFor(t, 'suspend-at-once')

t.test('suspend() right after construction with resume keeps the one upload and its parts', async (t) => {
  const Key = 'resumed'
  const data = pseudoRandomBytes(16 * MiB, 91)
  const first = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, concurrency: 1 })
  const suspended = suspendAfter(first, 2)
  const { error } = await upload(randomChunks(data, 64 * 1024, 64 * 1024), first)
  t.equal((error as S3SinkError).code, 'ERR_S3_SINK_SUSPENDED')
  const state = await suspended
  // Suspended after two parts: the one waiting for its place then is stored too.
  t.ok(state.parts.length >= 2 && state.parts.length < 4, `${state.parts.length} parts stored`)

  for (const queued of [false, true]) {
    // Suspended at once again, with the source's first bytes written before (waiting for _construct) or not.
    const sink = new S3Sink({ client, params: { Bucket, Key }, resume: state })
    const failed = once(sink, 'error')
    if (queued) sink.write(data.subarray(0, MiB))
    const again: ResumeState = await sink.suspend()
    t.match(await failed, [{ code: 'ERR_S3_SINK_SUSPENDED' }])
    t.equal(again.uploadId, state.uploadId, `the resumed upload is the one suspended (writes queued: ${queued})`)
    // The parts as stored; whether the store acknowledged each checksum is what its ListParts tells now (moto's
    // does not tell it).
    const stored = ({ partNumber, size, etag, checksum }: ResumeState['parts'][number]) => ({
      partNumber,
      size,
      etag,
      checksum,
    })
    t.same(again.parts.map(stored), state.parts.map(stored), 'its state holds the stored parts')
    t.equal(again.bytesUploaded, state.bytesUploaded)
    t.same(
      (await incompleteUploads(client, Bucket, Key)).map((u) => u.UploadId),
      [state.uploadId],
      'the store holds that upload and no other',
    )
  }

  const last = new S3Sink({ client, params: { Bucket, Key }, resume: state })
  const { error: resumeError, parts } = await upload(randomChunks(data, 64 * 1024, 64 * 1024), last)
  t.equal(resumeError, undefined)
  t.equal(parts.length, 4 - state.parts.length, 'only the parts the store lacked were sent')
  t.ok((await readObject(client, Bucket, Key)).equals(data), 'the object is the source')
  t.same(await incompleteUploads(client, Bucket, Key), [])
})
