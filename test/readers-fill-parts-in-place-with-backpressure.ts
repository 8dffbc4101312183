// S3Sink's room()/fill()/ready(): a reader reads straight into the part being filled. The object holds what was
// read; fill() says when the window is full and ready() when it has room again; misuse is refused with Node's
// codes, and a sink destroyed while a read is under way aborts its upload and leaves nothing.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finished } from 'node:stream/promises'
import t from 'tap'
import { S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { pseudoRandomBytes } from './fixtures/sources.js'
import { incompleteUploads, MiB, readObject } from './fixtures/store.js'

const { Bucket, client } = await bucketFor(t, 'fill')
const dir = mkdtempSync(join(tmpdir(), 's3-sink-fill-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

t.test(
  'a file read with fs.read into room(): the object holds its bytes; fill() is false while the window is full',
  async (t) => {
    // Slow parts, so that the reader outruns the uploads.
    const { client: slow } = await throughProxy(t, (r) =>
      r.operation === 'UploadPart' ? { kind: 'delay', ms: 150 } : undefined,
    )
    const data = pseudoRandomBytes(17 * MiB + 3, 41)
    const path = join(dir, 'input.bin')
    writeFileSync(path, data)
    const partSize = 5 * MiB
    const sink = new S3Sink({ client: slow, params: { Bucket, Key: 'filled' }, partSize, concurrency: 1 })
    const file = await open(path)
    let waits = 0
    let inFlightWhenFull = Number.POSITIVE_INFINITY
    await sink.ready()
    for (;;) {
      const { bytesRead } = await file.read(sink.room(), 0, undefined, null)
      const more = sink.fill(bytesRead)
      if (bytesRead === 0) break
      if (!more) {
        waits++
        inFlightWhenFull = Math.min(inFlightWhenFull, sink.progress.partsInFlight)
        await sink.ready()
      }
    }
    await file.close()
    sink.end()
    await t.rejects(sink.ready(), { code: 'ERR_STREAM_WRITE_AFTER_END' }, 'ready() after end() rejects')
    await finished(sink)
    t.ok(waits > 0, `fill() said to wait ${waits} times`)
    t.equal(inFlightWhenFull, 2, 'only with its one part sent and the next full one waiting for its place')
    t.ok(sink.progress.peakBufferedBytes <= 2 * partSize, 'one part in flight and one being filled, at most')
    t.match(sink.result, { size: data.length, parts: 4, checksum: { algorithm: 'CRC32' } })
    t.ok((await readObject(client, Bucket, 'filled')).equals(data), 'byte-identical')
  },
)

t.test(
  'misuse is refused with Node codes; write() while a room is lent fails the sink and leaves nothing',
  async (t) => {
    const sink = new S3Sink({ client, params: { Bucket, Key: 'misused' }, partSize: 5 * MiB })
    t.throws(() => sink.fill(1), { code: 'ERR_INVALID_STATE' }, 'fill() without a room')
    await sink.ready()
    // A first part goes out, so that there is an upload to abort.
    const first = pseudoRandomBytes(6 * MiB, 42)
    for (let offset = 0; offset < first.length; ) {
      const room = sink.room()
      const n = first.copy(room, 0, offset)
      sink.fill(n)
      offset += n
    }
    const room = sink.room()
    t.throws(() => sink.room(), { code: 'ERR_INVALID_STATE' }, 'room() while one is lent')
    t.throws(() => sink.fill(room.length + 1), { code: 'ERR_OUT_OF_RANGE', name: 'RangeError' }, 'more than lent')
    t.throws(() => sink.fill(1.5), { code: 'ERR_OUT_OF_RANGE' }, 'not a whole number')
    sink.write(Buffer.from('x'))
    await t.rejects(finished(sink), { code: 'ERR_INVALID_STATE' }, 'write() between room() and fill()')
    t.equal(sink.fill(room.length), false, 'a fill after the failure takes nothing')
    t.throws(() => sink.room(), { code: 'ERR_STREAM_DESTROYED' })
    await t.rejects(sink.ready(), 'ready() rejects once the sink has failed')
    t.same(await incompleteUploads(client, Bucket, 'misused'), [], 'the upload was aborted')
  },
)

t.test('destroyed while a read is under way: the upload is aborted, the late read is not taken in', async (t) => {
  const sink = new S3Sink({ client, params: { Bucket, Key: 'destroyed' }, partSize: 5 * MiB })
  await sink.ready()
  const data = pseudoRandomBytes(7 * MiB, 43)
  for (let offset = 0; offset < data.length; ) {
    const n = data.copy(sink.room(), 0, offset)
    sink.fill(n)
    offset += n
  }
  const room = sink.room()
  const failure = new Error('the source failed')
  sink.destroy(failure)
  // The read lands after the failure.
  room.fill(7)
  t.equal(sink.fill(room.length), false)
  await t.rejects(finished(sink), failure)
  t.same(await incompleteUploads(client, Bucket, 'destroyed'), [], 'the upload was aborted')
})
