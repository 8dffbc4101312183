import { once } from 'node:events'
import { finished } from 'node:stream/promises'
import t from 'tap'
import { S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { pseudoRandomBytes } from './fixtures/sources.js'
import { MiB, readObject } from './fixtures/store.js'

const { Bucket, client: direct } = await bucketFor(t, 'backpressure')

for (const concurrency of [1, 3]) {
  t.test(
    `with concurrency ${concurrency}, write() returns false while the window is full and drain follows`,
    async (t) => {
      // Slow parts, so the writer outruns the uploads.
      const { client } = await throughProxy(t, (r) =>
        r.operation === 'UploadPart' ? { kind: 'delay', ms: 150 } : undefined,
      )
      const partSize = 5 * MiB
      const highWaterMark = 16 * 1024
      const Key = `window-${concurrency}`
      const sink = new S3Sink({ client, params: { Bucket, Key }, partSize, concurrency, highWaterMark })
      const data = pseudoRandomBytes(31 * MiB, concurrency)
      const chunk = 8 * 1024
      let refused = 0
      let inFlightWhenRefused = Number.POSITIVE_INFINITY
      for (let offset = 0; offset < data.length; offset += chunk) {
        if (!sink.write(data.subarray(offset, offset + chunk))) {
          refused++
          // Before the sink is constructed (next tick) writes queue up in the Writable, as in any stream.
          if (sink.progress.bytesWritten > 0) {
            inFlightWhenRefused = Math.min(inFlightWhenRefused, sink.progress.partsInFlight)
          }
          await once(sink, 'drain')
        }
      }
      sink.end()
      await finished(sink)

      t.ok(refused >= 1, `write() returned false ${refused} times`)
      t.ok(refused < data.length / chunk / 10, 'but not for every write: only while the window is full')
      // `concurrency` parts sent, and the next one full and waiting for its place, ready to go as one is stored.
      t.equal(inFlightWhenRefused, concurrency + 1, 'refused only with `concurrency` parts sent and one waiting')
      // ... and of the part after it, what the write that filled the waiting one brought.
      const bound = (concurrency + 1) * partSize + chunk
      t.ok(
        sink.progress.peakBufferedBytes <= bound,
        `peak buffered ${sink.progress.peakBufferedBytes} ≤ (concurrency + 1) × partSize + one write = ${bound}`,
      )
      t.ok((await readObject(direct, Bucket, Key)).equals(data))
    },
  )
}

t.test('one write larger than the window is copied in as parts are stored: the bound holds', async (t) => {
  const { client } = await throughProxy(t, (r) =>
    r.operation === 'UploadPart' ? { kind: 'delay', ms: 100 } : undefined,
  )
  const partSize = 5 * MiB
  const concurrency = 2
  const Key = 'one-large-write'
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize, concurrency })
  const data = pseudoRandomBytes(8 * partSize + 4321, 17)
  let partsStoredWhenAcknowledged = -1
  let stored = 0
  sink.on('part', () => stored++)
  sink.write(data, () => {
    partsStoredWhenAcknowledged = stored
  })
  sink.end()
  await finished(sink)
  t.ok(partsStoredWhenAcknowledged >= 8 - concurrency - 1, `acknowledged after ${partsStoredWhenAcknowledged} parts`)
  // A large write is copied in 1 MiB at a time, checked in between.
  const bound = (concurrency + 1) * partSize + MiB
  t.ok(
    sink.progress.peakBufferedBytes <= bound,
    `peak buffered ${sink.progress.peakBufferedBytes} ≤ (concurrency + 1) × partSize + 1 MiB = ${bound}`,
  )
  t.equal(sink.result?.parts, 9)
  t.ok((await readObject(direct, Bucket, Key)).equals(data))
})
