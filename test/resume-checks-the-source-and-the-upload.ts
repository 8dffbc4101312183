import t from 'tap'
import { type ResumeState, S3Sink, S3SinkError } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { suspendAfter, upload } from './fixtures/run.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { incompleteUploads, MiB, objectExists, readObject } from './fixtures/store.js'

const { Bucket, client } = await bucketFor(t, 'resume-checks')

/** Uploads the first parts of `data` and suspends, leaving the upload to resume. */
async function startAndSuspend(Key: string, data: Buffer, afterParts: number): Promise<ResumeState> {
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, concurrency: 2 })
  const suspended = suspendAfter(sink, afterParts)
  const { error } = await upload(randomChunks(data, 64 * 1024, 64 * 1024), sink)
  if ((error as S3SinkError | undefined)?.code !== 'ERR_S3_SINK_SUSPENDED') throw error
  return suspended
}

t.test('suspend mid-stream, then resume in the same process: byte-identical object', async (t) => {
  const Key = 'suspended'
  const data = pseudoRandomBytes(33 * MiB, 61)
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, concurrency: 2 })
  const suspended = suspendAfter(sink, 1)
  const { error } = await upload(randomChunks(data, 64 * 1024, 64 * 1024), sink)
  t.type(error, S3SinkError)
  t.match(error, { code: 'ERR_S3_SINK_SUSPENDED', key: Key })
  const state = await suspended
  t.ok(state.parts.length >= 1, `suspended with ${state.parts.length} parts stored`)
  t.same(JSON.parse(JSON.stringify(state)), state, 'the state survives JSON')
  t.equal((await incompleteUploads(client, Bucket, Key)).length, 1, 'the upload is kept')

  const again = new S3Sink({ client, params: { Bucket, Key }, resume: state })
  const { error: resumeError, parts } = await upload(randomChunks(data, 1000, 300_000), again)
  t.equal(resumeError, undefined)
  t.equal(parts.length, 7 - state.parts.length, 'only the missing parts were sent')
  t.ok((await readObject(client, Bucket, Key)).equals(data))
  t.same(await incompleteUploads(client, Bucket, Key), [])
})

t.test('resuming with a changed source fails with a coded error and completes nothing', async (t) => {
  const Key = 'changed'
  const data = pseudoRandomBytes(26 * MiB, 62)
  const state = await startAndSuspend(Key, data, 2)
  const changed = Buffer.from(data)
  changed[3 * MiB] = (changed[3 * MiB] as number) ^ 0xff // inside part 1, which the store holds
  const sink = new S3Sink({ client, params: { Bucket, Key }, resume: state })
  const { error } = await upload(randomChunks(changed, 64 * 1024, 64 * 1024), sink)
  t.match(error, { code: 'ERR_S3_SINK_SOURCE_CHANGED', partNumber: 1, uploadId: state.uploadId })
  t.equal(await objectExists(client, Bucket, Key), false, 'no object was written')
  t.equal((await incompleteUploads(client, Bucket, Key)).length, 1, 'the upload is kept for the right source')

  const shorter = new S3Sink({ client, params: { Bucket, Key }, resume: state })
  const { error: shortError } = await upload(randomChunks(data.subarray(0, 4 * MiB), 64 * 1024, 64 * 1024), shorter)
  t.match(shortError, { code: 'ERR_S3_SINK_SOURCE_CHANGED' }, 'a source shorter than the stored parts')
  t.equal(await objectExists(client, Bucket, Key), false)
})

t.test('resuming an upload the store no longer knows says so', async (t) => {
  const Key = 'gone'
  const data = pseudoRandomBytes(16 * MiB, 63)
  const state = await startAndSuspend(Key, data, 1)
  const { AbortMultipartUploadCommand } = await import('@aws-sdk/client-s3')
  await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: state.uploadId }))
  const sink = new S3Sink({ client, params: { Bucket, Key }, resume: state })
  const { error } = await upload(randomChunks(data, 64 * 1024, 64 * 1024), sink)
  t.type(error, S3SinkError)
  // NoSuchUpload, as AWS says it; Ceph RGW says NoSuchKey.
  const cause = { name: /^NoSuch(Upload|Key)$/ }
  t.match(error, { code: 'ERR_S3_SINK_UPLOAD_NOT_FOUND', uploadId: state.uploadId, cause })
  t.match((error as Error).message, /no longer knows upload/)
})
