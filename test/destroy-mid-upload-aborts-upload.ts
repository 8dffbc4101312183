import { once } from 'node:events'
import t from 'tap'
import { S3Sink } from '../lib/index.js'
import { BlockPool, blockSizeFor } from '../lib/sink/part-buffer.js'
import { bucketFor } from './fixtures/bucket.js'
import { pseudoRandomBytes } from './fixtures/sources.js'
import { incompleteUploads, MiB, objectExists } from './fixtures/store.js'

const { client, Bucket } = await bucketFor(t, 'destroy')

for (const withError of [false, true]) {
  t.test(`destroy(${withError ? 'err' : ''}) while parts are in flight`, async (t) => {
    const Key = `destroyed-${withError}`
    const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, concurrency: 2 })
    const errors: unknown[] = []
    sink.on('error', (err) => errors.push(err))
    const data = pseudoRandomBytes(12 * MiB, 5)
    // The write is copied in as the window allows: two parts go in flight, the rest of the write waits.
    sink.write(data)
    await once(sink, 'part')
    t.ok(sink.uploadId, 'the multipart upload exists')
    const boom = new Error('stop now')
    sink.destroy(withError ? boom : undefined)
    sink.destroy() // a second destroy is a no-op, as in Node
    await new Promise<void>((resolve) => sink.on('close', resolve))

    t.same(errors, withError ? [boom] : [], 'error event only for destroy(err)')
    t.same(await incompleteUploads(client, Bucket, Key), [], 'the multipart upload was aborted')
    t.equal(await objectExists(client, Bucket, Key), false, 'no object')
    const pool = BlockPool.shared(blockSizeFor(5 * MiB))
    t.ok(pool.allocatedBytes >= 2 * 5 * MiB, 'two parts were in flight')
    t.equal(pool.freeBytes, pool.allocatedBytes, 'every block is back in the pool: none lost, none still in use')
    const late = await new Promise((resolve) => sink.write(Buffer.from('late'), resolve))
    t.match(late, { code: 'ERR_STREAM_DESTROYED' }, 'writing after destroy fails as in Node')
  })
}
