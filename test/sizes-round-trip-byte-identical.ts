import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { headObject, incompleteUploads, MiB, readObject } from './fixtures/store.js'

const partSize = 5 * MiB
const { client, Bucket } = await bucketFor(t, 'sizes')

// [size, parts expected (0 = one PutObject), smallest and largest chunk written]
const cases: [number, number, number, number][] = [
  [0, 0, 1, 1],
  [1, 0, 1, 1],
  [partSize - 1, 0, 1, 100_000],
  [partSize, 0, 64 * 1024, 64 * 1024],
  [partSize + 1, 2, 1000, 300_000],
  [4 * partSize + 12_345, 5, 1, 3 * MiB],
]

for (const [size, parts, min, max] of cases) {
  t.test(`${size} bytes written in chunks of ${min}..${max}`, async (t) => {
    const Key = `object-${size}`
    const data = pseudoRandomBytes(size, size + 1)
    const sink = new S3Sink({ client, params: { Bucket, Key, ContentType: 'application/x-test' }, partSize })
    const partEvents: number[] = []
    sink.on('part', (p) => partEvents.push(p.partNumber))
    let finishedWithResult = false
    sink.on('finish', () => {
      finishedWithResult = sink.result !== undefined
    })

    await pipeline(randomChunks(data, min, max, size), sink)

    t.ok(finishedWithResult, 'result is set before finish')
    const stored = await readObject(client, Bucket, Key)
    t.equal(stored.length, size, 'stored size')
    t.ok(stored.equals(data), 'stored bytes are the bytes written')
    const head = await headObject(client, Bucket, Key)
    t.equal(head.ContentType, 'application/x-test', 'params reach the object')
    t.equal(sink.result?.ETag, head.ETag, 'result ETag is the stored ETag')
    t.equal(sink.result?.size, size)
    t.equal(sink.result?.parts, parts)
    if (parts === 0) {
      t.match(head.ETag, /^"[0-9a-f]{32}"$/, 'a single PutObject: plain ETag')
      t.equal(sink.result?.uploadId, undefined)
    } else {
      t.match(head.ETag, new RegExp(`^"[0-9a-f]{32}-${parts}"$`), `multipart ETag ends with -${parts}`)
      t.same(
        partEvents.sort((a, b) => a - b),
        Array.from({ length: parts }, (_, i) => i + 1),
        'one part event per part',
      )
    }
    t.same(await incompleteUploads(client, Bucket, Key), [], 'no incomplete upload left')
  })
}
