import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { S3Sink } from '../lib/index.js'
import { ADAPTIVE_START } from '../lib/sink/concurrency.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { pseudoRandomBytes } from './fixtures/sources.js'
import { incompleteUploads, MiB, readObject } from './fixtures/store.js'

const { client: direct, Bucket } = await bucketFor(t, 'adaptive')
const partSize = 5 * MiB

/** Watches a sink: the most parts it had in flight, and the limits its window stood at. */
function watch(sink: S3Sink): { peakInFlight: number; limits: number[]; stop: () => void } {
  const seen = { peakInFlight: 0, limits: [] as number[], stop: () => clearInterval(timer) }
  const timer = setInterval(() => {
    const { partsInFlight, concurrency } = sink.progress
    seen.peakInFlight = Math.max(seen.peakInFlight, partsInFlight)
    if (seen.limits.at(-1) !== concurrency) seen.limits.push(concurrency)
  }, 5)
  return seen
}

t.test('with slow answers and a fast source, more parts go out at once', async (t) => {
  // Every part's answer comes 400 ms after its last byte, as from a far region: 16 at once leave the link idle.
  const { client } = await throughProxy(t, (req) =>
    req.operation === 'UploadPart' ? { kind: 'hold', ms: 400 } : undefined,
  )
  const data = pseudoRandomBytes(64 * partSize, 1)
  const sink = new S3Sink({ client, params: { Bucket, Key: 'grows' }, partSize })
  const seen = watch(sink)
  await pipeline(Readable.from([data]), sink)
  seen.stop()
  t.equal(seen.limits[0], ADAPTIVE_START, `starts at ${ADAPTIVE_START}`)
  t.ok(Math.max(...seen.limits) >= 2 * ADAPTIVE_START, `the limit went ${seen.limits.join(' → ')}`)
  t.ok(seen.peakInFlight > ADAPTIVE_START, `${seen.peakInFlight} parts in flight at most`)
  t.ok((await readObject(direct, Bucket, 'grows')).equals(data))
})

t.test('SlowDown answers bring fewer parts at once, and the upload completes', async (t) => {
  // The store answers 503 SlowDown to the first attempt at parts 17 to 20, sent together with others.
  const { client } = await throughProxy(t, (req) =>
    req.operation === 'UploadPart' && (req.partNumber ?? 0) >= 17 && (req.partNumber ?? 0) <= 20 && req.repeat === 0
      ? { kind: 'error', status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' }
      : req.operation === 'UploadPart'
        ? { kind: 'hold', ms: 200 }
        : undefined,
  )
  const data = pseudoRandomBytes(40 * partSize + 99, 2)
  const sink = new S3Sink({ client, params: { Bucket, Key: 'throttled' }, partSize, retryBaseDelay: 20 })
  let retries = 0
  sink.on('retry', () => retries++)
  const seen = watch(sink)
  await pipeline(Readable.from([data]), sink)
  seen.stop()
  t.equal(retries, 4)
  t.ok(seen.limits.includes(ADAPTIVE_START / 2), `halved once: ${seen.limits.join(' → ')}`)
  t.notOk(seen.limits.includes(ADAPTIVE_START / 4), 'not halved again for answers to parts sent together')
  t.ok((await readObject(direct, Bucket, 'throttled')).equals(data))
  t.same(await incompleteUploads(direct, Bucket, 'throttled'), [])
})

t.test('a source slower than the link keeps few parts in flight', async (t) => {
  const { client } = await throughProxy(t, (req) =>
    req.operation === 'UploadPart' ? { kind: 'hold', ms: 100 } : undefined,
  )
  const data = pseudoRandomBytes(8 * partSize, 3)
  // About 10 MiB/s: a part every 500 ms, each answered in well under that.
  async function* slow() {
    for (let at = 0; at < data.length; at += MiB) {
      yield data.subarray(at, at + MiB)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  const sink = new S3Sink({ client, params: { Bucket, Key: 'slow-source' }, partSize })
  const seen = watch(sink)
  await pipeline(slow(), sink)
  seen.stop()
  t.same(seen.limits, [ADAPTIVE_START], 'the limit never grew')
  t.ok(seen.peakInFlight <= 3, `${seen.peakInFlight} parts in flight at most`)
  t.ok(sink.progress.peakBufferedBytes <= 4 * partSize, `held ${sink.progress.peakBufferedBytes} bytes at most`)
  t.ok((await readObject(direct, Bucket, 'slow-source')).equals(data))
})

t.test('a concurrency given fixes the number in flight', async (t) => {
  const { client } = await throughProxy(t, (req) =>
    req.operation === 'UploadPart' ? { kind: 'hold', ms: 300 } : undefined,
  )
  const data = pseudoRandomBytes(20 * partSize, 4)
  const sink = new S3Sink({ client, params: { Bucket, Key: 'fixed' }, partSize, concurrency: 3 })
  const seen = watch(sink)
  await pipeline(Readable.from([data]), sink)
  seen.stop()
  t.same(seen.limits, [3])
  // Three sent, and one full part waiting for a place while writes wait.
  t.ok(seen.peakInFlight <= 4, `${seen.peakInFlight} parts in flight or waiting at most`)
  t.ok((await readObject(direct, Bucket, 'fixed')).equals(data))
})
