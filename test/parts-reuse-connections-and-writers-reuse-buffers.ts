import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { pseudoRandomBytes } from './fixtures/sources.js'
import { incompleteUploads, MiB, readObject } from './fixtures/store.js'
import { lacks } from './fixtures/store-support.js'

const partSize = 5 * MiB
const { client, Bucket } = await bucketFor(t, 'reuse')

/** Writes `data` through one Buffer of `size` bytes, refilled as soon as each write is acknowledged. */
async function writeThroughOneBuffer(sink: S3Sink, data: Buffer, size: number): Promise<void> {
  const scratch = Buffer.alloc(size)
  const finished = new Promise<void>((resolve, reject) => {
    sink.once('finish', resolve)
    sink.once('error', reject)
  })
  for (let offset = 0; offset < data.length; offset += size) {
    const n = data.copy(scratch, 0, offset, offset + size)
    await new Promise<void>((resolve, reject) =>
      sink.write(scratch.subarray(0, n), (err) => (err ? reject(err) : resolve())),
    )
    // Acknowledged: the writer may now do as it likes with its Buffer.
    scratch.fill(0xee)
  }
  sink.end()
  await finished
}

for (const size of [64 * 1024, 3 * MiB]) {
  t.test(`a writer refilling one ${size / 1024} KiB Buffer after each acknowledged write`, async (t) => {
    const Key = `reused-${size}`
    const data = pseudoRandomBytes(3 * partSize + 54_321, size)
    const sink = new S3Sink({ client, params: { Bucket, Key }, partSize, concurrency: 3 })
    await writeThroughOneBuffer(sink, data, size)
    t.equal(sink.result?.parts, 4)
    const stored = await readObject(client, Bucket, Key)
    t.equal(stored.length, data.length)
    t.ok(stored.equals(data), 'the store holds the bytes as they were written, not as the Buffer was refilled')
  })
}

t.test(
  'parts go over the kept-alive connections, without waiting for 100 Continue',
  { skip: lacks('keepAlive') },
  async (t) => {
    const { proxy, client: proxied } = await throughProxy(t, () => undefined)
    const Key = 'connections'
    const data = pseudoRandomBytes(8 * partSize, 11)
    const sink = new S3Sink({ client: proxied, params: { Bucket, Key }, partSize, concurrency: 2 })
    const chunks = Array.from({ length: data.length / (256 * 1024) }, (_, i) =>
      data.subarray(i * 256 * 1024, (i + 1) * 256 * 1024),
    )
    await pipeline(chunks, sink)
    const parts = proxy.seen.filter((r) => r.operation === 'UploadPart')
    t.equal(parts.length, 8)
    t.same(
      parts.map((r) => r.headers.expect),
      parts.map(() => undefined),
      'no part asks for 100 Continue',
    )
    // One connection per part in flight, one more at most for Create and Complete: not one per part.
    t.ok(proxy.connections <= 3, `${proxy.connections} connections for ${proxy.seen.length} requests`)
    t.ok((await readObject(client, Bucket, Key)).equals(data))
    t.same(await incompleteUploads(client, Bucket, Key), [])
  },
)
