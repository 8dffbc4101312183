import { CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import { abortIncompleteUploads, listIncompleteUploads } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { incompleteUploads, MiB } from './fixtures/store.js'
import { lacks } from './fixtures/store-support.js'

const { Bucket, client } = await bucketFor(t, 'stale')

/** An upload someone forgot: created, one part stored, never completed. */
async function leaveUpload(Key: string, bytes: number): Promise<string> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }))
  await client.send(
    new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: Buffer.alloc(bytes, 1), ContentLength: bytes }),
  )
  return UploadId as string
}

t.test('listing finds forgotten uploads with their age and size; cleanup aborts the old ones', async (t) => {
  const forgotten = await leaveUpload('logs/forgotten', 2 * MiB)
  await leaveUpload('other/kept', 1000)

  const listed = await listIncompleteUploads(client, { Bucket, Prefix: 'logs/' })
  t.equal(listed.length, 1, 'only under the prefix')
  t.match(listed[0], { Bucket, Key: 'logs/forgotten', UploadId: forgotten, parts: 1, size: 2 * MiB })
  t.type(listed[0]!.Initiated, Date)
  await t.test("ages come from the store's Initiated times", { skip: lacks('initiatedTimes') }, async (t) => {
    t.ok(listed[0]!.ageMs >= 0 && listed[0]!.ageMs < 10 * 60_000, `age ${listed[0]!.ageMs} ms`)
    const young = await abortIncompleteUploads(client, { Bucket, Prefix: 'logs/', olderThan: 24 * 3600_000 })
    t.same(young, [], 'nothing is a day old')
  })

  const dry = await abortIncompleteUploads(client, { Bucket, Prefix: 'logs/', olderThan: 0, dryRun: true })
  t.equal(dry.length, 1, 'a dry run names it')
  t.equal((await incompleteUploads(client, Bucket, 'logs/forgotten')).length, 1, 'and leaves it')

  const aborted = await abortIncompleteUploads(client, { Bucket, Prefix: 'logs/', olderThan: 0 })
  t.same(
    aborted.map((u) => u.UploadId),
    [forgotten],
  )
  t.same(await incompleteUploads(client, Bucket, 'logs/forgotten'), [], 'the forgotten upload is gone')
  t.equal((await incompleteUploads(client, Bucket, 'other/kept')).length, 1, 'the one outside the prefix stays')
})

t.test('a negative age is refused', async (t) => {
  await t.rejects(abortIncompleteUploads(client, { Bucket, olderThan: -1 }), { code: 'ERR_OUT_OF_RANGE' })
})
