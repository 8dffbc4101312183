import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { type RolledObject, S3RollingSink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { checkRolled, ndjson } from './fixtures/rolling.js'
import { randomChunks } from './fixtures/sources.js'
import { headObject, incompleteUploads, MiB } from './fixtures/store.js'

const { client, Bucket } = await bucketFor(t, 'rolling')

for (const gzip of [false, true]) {
  t.test(`records in random writes become objects of whole records${gzip ? ', each a gzip file' : ''}`, async (t) => {
    const input = ndjson(6000, 300, gzip ? 2 : 1)
    const max = 128 * 1024
    const prefix = gzip ? 'gz' : 'plain'
    const sink = new S3RollingSink({
      client,
      params: { Bucket, ContentType: 'application/x-ndjson' },
      key: `${prefix}/%Y/%m/%d/%H/{id}-{index}.ndjson${gzip ? '.gz' : ''}`,
      id: 'writer-a',
      maxObjectBytes: max,
      gzip,
    })
    const events: RolledObject[] = []
    sink.on('object', (o) => events.push(o))
    await pipeline(randomChunks(input, 1, 40_000, gzip ? 5 : 6), sink)

    t.ok(sink.objects.length >= Math.floor(input.length / max), `${sink.objects.length} objects`)
    await checkRolled(t, client, Bucket, input, sink.objects, { max, gzip, events })
    const first = sink.objects[0] as RolledObject
    const t0 = first.time
    const hour = [t0.getUTCFullYear(), t0.getUTCMonth() + 1, t0.getUTCDate(), t0.getUTCHours()]
      .map((n, i) => String(n).padStart(i === 0 ? 4 : 2, '0'))
      .join('/')
    t.equal(first.key, `${prefix}/${hour}/writer-a-00000000.ndjson${gzip ? '.gz' : ''}`, 'the template expanded')
    t.equal((sink.objects[1] as RolledObject).key.slice(-(gzip ? 18 : 15)), `00000001.ndjson${gzip ? '.gz' : ''}`)
    const head = await headObject(client, Bucket, first.key)
    t.equal(head.ContentType, 'application/x-ndjson', "params reach every object's headers")
    if (gzip) t.ok(first.storedBytes < first.bytes / 2, `gzip shrank ${first.bytes} to ${first.storedBytes} bytes`)
    t.same(await incompleteUploads(client, Bucket), [], 'no incomplete upload')
  })
}

t.test(
  'a writer may reuse its Buffer once a write is acknowledged: records held for the next object are copies',
  async (t) => {
    // A producer filling one Buffer over and over, as the docs allow: the start of a record that may not fit in the
    // object being filled is held until its end; holding the writer's Buffer would store what it wrote later.
    const input = ndjson(3000, 300, 9)
    const max = 64 * 1024
    const sink = new S3RollingSink({ client, params: { Bucket }, key: 'reused/{index}.log', maxObjectBytes: max })
    const reused = Buffer.alloc(1000)
    const write = (n: number) =>
      new Promise<void>((resolve, reject) =>
        sink.write(reused.subarray(0, n), (err) => (err ? reject(err) : resolve())),
      )
    for (let at = 0; at < input.length; at += reused.length) {
      const n = input.copy(reused, 0, at, at + reused.length)
      await write(n)
      reused.fill(0x23)
    }
    sink.end()
    await new Promise<void>((resolve) => sink.on('finish', () => resolve()))
    t.ok(sink.objects.length >= Math.floor(input.length / max), `${sink.objects.length} objects`)
    await checkRolled(t, client, Bucket, input, sink.objects, { max })
  },
)

t.test('an object larger than a part streams as a multipart upload while the next fills', async (t) => {
  const input = ndjson(60_000, 700, 3)
  const max = 11 * MiB
  const sink = new S3RollingSink({
    client,
    params: { Bucket },
    key: 'big/{index}.log',
    maxObjectBytes: max,
    partSize: 5 * MiB,
    concurrency: 2,
  })
  await pipeline(randomChunks(input, 16 * 1024, 256 * 1024, 8), sink)
  t.ok(input.length > 2 * max, `${(input.length / MiB).toFixed(1)} MiB in`)
  await checkRolled(t, client, Bucket, input, sink.objects, { max })
  const full = sink.objects.slice(0, -1)
  t.ok(
    full.every((o) => /-3"$/.test(o.etag)),
    `full objects are multipart uploads of 3 parts: ${full.map((o) => o.etag.slice(-3)).join(' ')}`,
  )
})

t.test('a record longer than maxObjectBytes is stored whole, in an object of its own', async (t) => {
  const long = `${'L'.repeat(5000)}\n`
  const input = Buffer.from(`a\nbb\n${long}ccc\n${long}${long}d\n`)
  const sink = new S3RollingSink({ client, params: { Bucket }, key: 'long/{index}', maxObjectBytes: 1000 })
  await pipeline(randomChunks(input, 1, 700, 9), sink)
  const texts = await checkRolled(t, client, Bucket, input, sink.objects, { max: 1000 })
  t.same(
    texts.map((b) => b.toString()),
    ['a\nbb\n', long, 'ccc\n', long, long, 'd\n'],
    'each long record alone, never split, never dropped',
  )
})

t.test('a last record without a delimiter is stored as it came', async (t) => {
  const input = Buffer.from('one\ntwo\nthree-without-end')
  const sink = new S3RollingSink({ client, params: { Bucket }, key: 'tail/{index}', maxObjectBytes: 9 })
  await pipeline(Readable.from([input]), sink)
  const texts = await checkRolled(t, client, Bucket, input, sink.objects, { max: 9 })
  t.same(
    texts.map((b) => b.toString()),
    ['one\ntwo\n', 'three-without-end'],
  )
})

t.test('delimiter null cuts objects of exactly maxObjectBytes; a custom delimiter keeps its records', async (t) => {
  const bytes = Buffer.alloc(10_000, 'z')
  const sink = new S3RollingSink({
    client,
    params: { Bucket },
    key: 'raw/{index}',
    maxObjectBytes: 3000,
    delimiter: null,
  })
  await pipeline(randomChunks(bytes, 100, 4000, 10), sink)
  t.same(
    sink.objects.map((o) => o.bytes),
    [3000, 3000, 3000, 1000],
  )
  const records = Buffer.from('r1\r\nrecord-2\r\nr3\r\nrecord-four\r\n')
  const crlf = new S3RollingSink({
    client,
    params: { Bucket },
    key: 'crlf/{index}',
    maxObjectBytes: 16,
    delimiter: '\r\n',
  })
  await pipeline(randomChunks(records, 1, 3, 11), crlf)
  await checkRolled(t, client, Bucket, records, crlf.objects, { max: 16, delimiter: '\r\n' })
})

t.test('a key function gets index, id and time; an empty stream stores nothing', async (t) => {
  const seen: { index: number; id: string }[] = []
  const sink = new S3RollingSink({
    client,
    params: { Bucket },
    key: ({ index, id, time }) => {
      seen.push({ index, id })
      return `fn/${time.getUTCFullYear()}/${id}/${index}`
    },
    id: 'w9',
    maxObjectBytes: 10,
  })
  const input = Buffer.from('12345\n67890\nabc\n')
  await pipeline(Readable.from([input]), sink)
  t.same(seen, [
    { index: 0, id: 'w9' },
    { index: 1, id: 'w9' },
  ])
  t.match((sink.objects[1] as RolledObject).key, /^fn\/\d{4}\/w9\/1$/)
  await checkRolled(t, client, Bucket, input, sink.objects, { max: 10 })

  const empty = new S3RollingSink({ client, params: { Bucket }, key: 'empty/{index}' })
  await pipeline(Readable.from([]), empty)
  t.same(empty.objects, [], 'no object for an empty stream')
})

t.test('writers with their own id share a template without a collision', async (t) => {
  const inputs = [ndjson(2000, 100, 21), ndjson(2000, 100, 22), ndjson(2000, 100, 23)]
  const sinks = inputs.map(
    () => new S3RollingSink({ client, params: { Bucket }, key: 'shared/%Y%m%d/{id}-{index}', maxObjectBytes: 50_000 }),
  )
  await Promise.all(sinks.map((sink, i) => pipeline(randomChunks(inputs[i] as Buffer, 1, 9000, 30 + i), sink)))
  t.equal(new Set(sinks.map((s) => s.id)).size, 3, 'each sink has its own random id')
  for (const [i, sink] of sinks.entries()) {
    await checkRolled(t, client, Bucket, inputs[i] as Buffer, sink.objects, { max: 50_000 })
  }
  const keys = sinks.flatMap((s) => s.objects.map((o) => o.key))
  t.equal(new Set(keys).size, keys.length, `${keys.length} objects, every key its own`)
})
