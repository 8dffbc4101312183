// sink.toWeb(): real fetch() bodies from a local HTTP server piped into the sinks, with and without a
// CompressionStream in between; pipeTo() resolves only once the store holds the objects.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import t from 'tap'
import { S3RollingSink, S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { checkRolled, ndjson } from './fixtures/rolling.js'
import { pseudoRandomBytes } from './fixtures/sources.js'
import { incompleteUploads, MiB, readObject } from './fixtures/store.js'

const { client, Bucket } = await bucketFor(t, 'to-web')

/** Serves `files` by path, each in 64 KiB writes, as a download would come. */
async function serve(files: Record<string, Buffer>): Promise<string> {
  const server: Server = createServer((req, res) => {
    const body = files[req.url ?? '']
    if (!body) return res.writeHead(404).end()
    res.writeHead(200, { 'content-length': body.length })
    let offset = 0
    const more = (): void => {
      while (offset < body.length) {
        const end = Math.min(body.length, offset + 64 * 1024)
        const ok = res.write(body.subarray(offset, end))
        offset = end
        if (!ok) return void res.once('drain', more)
      }
      res.end()
    }
    more()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const big = pseudoRandomBytes(12 * MiB + 123, 24)
const small = pseudoRandomBytes(300 * 1024, 25)
const records = ndjson(3000, 300, 24)
const origin = await serve({ '/big': big, '/small': small, '/records': records })

t.test('a fetch() body piped to toWeb() is stored in parts before pipeTo() resolves', async (t) => {
  const Key = 'fetched/big'
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, concurrency: 2 })
  const response = await fetch(`${origin}/big`)
  await (response.body as ReadableStream<Uint8Array>).pipeTo(sink.toWeb())

  t.equal(sink.result?.parts, 3, 'three parts')
  t.equal(sink.result?.size, big.length)
  t.ok((await readObject(client, Bucket, Key)).equals(big), 'the store holds the downloaded bytes')
  t.same(await incompleteUploads(client, Bucket, Key), [], 'no upload left incomplete')
})

t.test('a body shorter than a part is one PutObject, stored before pipeTo() resolves', async (t) => {
  const Key = 'fetched/small'
  const sink = new S3Sink({ client, params: { Bucket, Key } })
  const response = await fetch(`${origin}/small`)
  await (response.body as ReadableStream<Uint8Array>).pipeTo(sink.toWeb())

  t.equal(sink.result?.parts, 0)
  t.notMatch(sink.result?.ETag ?? '', /-/, 'the ETag of a single PutObject')
  t.ok((await readObject(client, Bucket, Key)).equals(small))
})

t.test("a body through CompressionStream('gzip') is stored as a gzip file of the download", async (t) => {
  const Key = 'fetched/big.gz'
  const sink = new S3Sink({ client, params: { Bucket, Key, ContentEncoding: 'gzip' }, partSize: 5 * MiB })
  const response = await fetch(`${origin}/big`)
  await (response.body as ReadableStream<Uint8Array>)
    .pipeThrough(new CompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>)
    .pipeTo(sink.toWeb())

  const stored = await readObject(client, Bucket, Key)
  t.equal(stored.length, sink.result?.size)
  t.ok(gunzipSync(stored).equals(big), 'the stored bytes gunzip to the download')
})

t.test("a rolling sink's toWeb() resolves once every object is stored", async (t) => {
  const max = 200 * 1024
  const sink = new S3RollingSink({
    client,
    params: { Bucket },
    key: 'fetched/rolled/{index}.ndjson',
    maxObjectBytes: max,
  })
  const response = await fetch(`${origin}/records`)
  await (response.body as ReadableStream<Uint8Array>).pipeTo(sink.toWeb())

  t.ok(sink.objects.length >= 3, `${sink.objects.length} objects`)
  t.equal(sink.progress.objectsInFlight, 0, 'none in flight')
  await checkRolled(t, client, Bucket, records, sink.objects, { max })
})

t.test('writes wait while the window is full: pipeTo() reads no further ahead than the highWaterMark', async (t) => {
  const Key = 'fetched/held'
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, concurrency: 1 })
  const chunk = 64 * 1024
  const total = 40 * MiB
  const bytes = pseudoRandomBytes(total, 26)
  let pulled = 0
  let worst = 0
  const source = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (pulled >= total) return controller.close()
        controller.enqueue(bytes.subarray(pulled, pulled + chunk))
        pulled += chunk
        worst = Math.max(worst, pulled - sink.progress.bytesWritten)
      },
    },
    { highWaterMark: 0 },
  )
  await source.pipeTo(sink.toWeb())

  t.ok((await readObject(client, Bucket, Key)).equals(bytes))
  const bound = sink.writableHighWaterMark + 2 * chunk
  t.ok(worst <= bound, `at most ${worst} bytes were read ahead of the sink (bound ${bound})`)
})
