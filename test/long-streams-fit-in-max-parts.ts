import t from 'tap'
import { S3Sink, S3SinkError } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { upload } from './fixtures/run.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { headObject, incompleteUploads, MiB, objectExists, readObject } from './fixtures/store.js'

const { Bucket, client } = await bucketFor(t, 'max-parts')

t.test('maxParts 20, 5 MiB parts, 300 MiB of unknown length: parts grow, at most 20', async (t) => {
  const Key = 'grown'
  const data = pseudoRandomBytes(300 * MiB, 41)
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, maxParts: 20, concurrency: 2 })
  const { error, parts } = await upload(randomChunks(data, 64 * 1024, 512 * 1024), sink)
  t.equal(error, undefined)
  t.ok(parts.length <= 20, `${parts.length} parts`)
  t.equal(parts[0]?.size, 5 * MiB, 'the first part is partSize')
  t.ok(
    parts.every((p, i) => i === 0 || i === parts.length - 1 || p.size >= parts[i - 1]!.size),
    'sizes never decrease',
  )
  t.ok((await readObject(client, Bucket, Key)).equals(data), 'bytes identical')
  t.match((await headObject(client, Bucket, Key)).ETag, new RegExp(`-${parts.length}"$`))
})

t.test('uniformParts with maxParts 4: fails before a 5th part is sent and aborts', async (t) => {
  const { proxy, client: viaProxy } = await throughProxy(t, () => undefined)
  const Key = 'too-many'
  const sink = new S3Sink({
    client: viaProxy,
    params: { Bucket, Key },
    partSize: 5 * MiB,
    maxParts: 4,
    uniformParts: true,
  })
  const { error } = await upload(randomChunks(pseudoRandomBytes(30 * MiB, 42), 64 * 1024, 64 * 1024), sink)
  t.type(error, S3SinkError)
  t.match(error, { code: 'ERR_S3_SINK_TOO_MANY_PARTS', key: Key })
  t.match((error as Error).message, /maxParts \(4\).* bytes written.*expectedSize/)
  const written = (error as S3SinkError).bytesWritten!
  t.ok(written > 20 * MiB && written <= 20 * MiB + 64 * 1024, `failed with the write that began part 5 (${written})`)
  t.notOk(
    proxy.seen.some((r) => r.operation === 'UploadPart' && r.partNumber === 5),
    'no 5th part was sent',
  )
  t.same(await incompleteUploads(client, Bucket, Key), [])
  t.equal(await objectExists(client, Bucket, Key), false)
})

t.test('expectedSize gives uniform parts of the predicted size', async (t) => {
  const Key = 'hinted'
  const data = pseudoRandomBytes(60 * MiB, 43)
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, maxParts: 10, expectedSize: 60 * MiB })
  const { error, parts } = await upload(randomChunks(data, 64 * 1024, 256 * 1024), sink)
  t.equal(error, undefined)
  // 60 MiB into 9 of the 10 parts: 7 MiB parts (whole MiB), 9 parts, the last one 4 MiB.
  t.same(
    parts.map((p) => p.size / MiB),
    [7, 7, 7, 7, 7, 7, 7, 7, 4],
  )
  t.ok((await readObject(client, Bucket, Key)).equals(data))
})

t.test('a stream larger than its expectedSize still completes', async (t) => {
  const Key = 'past-hint'
  // 5 uniform parts hold the 20 MiB hint; the 6th part, kept for growth, is 10 MiB.
  const data = pseudoRandomBytes(30 * MiB, 44)
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, maxParts: 6, expectedSize: 20 * MiB })
  const { error, parts } = await upload(randomChunks(data, 64 * 1024, 256 * 1024), sink)
  t.equal(error, undefined)
  t.ok(parts.length <= 6, `${parts.length} parts`)
  t.ok((await readObject(client, Bucket, Key)).equals(data))
})

t.test('maxBufferedBytes holds: fewer parts in flight, peak within the budget', async (t) => {
  const { client: viaProxy } = await throughProxy(t, (r) =>
    r.operation === 'UploadPart' ? { kind: 'delay', ms: 100 } : undefined,
  )
  const Key = 'budget'
  const budget = 12 * MiB
  const data = pseudoRandomBytes(40 * MiB, 45)
  const sink = new S3Sink({
    client: viaProxy,
    params: { Bucket, Key },
    partSize: 5 * MiB,
    concurrency: 4,
    maxBufferedBytes: budget,
  })
  let mostInFlight = 0
  sink.on('progress', (p) => {
    mostInFlight = Math.max(mostInFlight, p.partsInFlight + 1)
  })
  const chunk = 64 * 1024
  const { error } = await upload(randomChunks(data, chunk, chunk), sink)
  t.equal(error, undefined)
  t.ok(
    sink.progress.peakBufferedBytes <= budget + chunk,
    `peak ${sink.progress.peakBufferedBytes} ≤ budget ${budget} + one write (below 1 MiB)`,
  )
  t.ok(mostInFlight < 4, `at most ${mostInFlight} parts were in flight, below concurrency 4`)
  t.ok((await readObject(client, Bucket, Key)).equals(data))
})
