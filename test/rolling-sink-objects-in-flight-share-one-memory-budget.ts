import t from 'tap'
import { S3RollingSink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { checkRolled, ndjson } from './fixtures/rolling.js'
import { MiB } from './fixtures/store.js'

const { client: direct, Bucket } = await bucketFor(t, 'rolling-budget')

t.test('the object being filled and those completing draw on one maxBufferedBytes', async (t) => {
  // A slow store: every part and Complete is held back, so several objects are in flight at once.
  const { client } = await throughProxy(t, (req) =>
    req.operation === 'UploadPart' || req.operation === 'CompleteMultipartUpload'
      ? { kind: 'hold', ms: 400 }
      : undefined,
  )
  const budget = 12 * MiB
  const sink = new S3RollingSink({
    client,
    params: { Bucket },
    key: 'budget/{index}',
    maxObjectBytes: 6 * MiB,
    partSize: 5 * MiB,
    concurrency: 4,
    maxBufferedBytes: budget,
  })
  const input = ndjson(150_000, 300, 5)
  let peak = 0
  let peakObjects = 0
  const sample = () => {
    const { bytesBuffered, objectsInFlight } = sink.progress
    peak = Math.max(peak, bytesBuffered)
    peakObjects = Math.max(peakObjects, objectsInFlight)
  }
  const timer = setInterval(sample, 5)
  for (let at = 0; at < input.length; at += 64 * 1024) {
    if (!sink.write(input.subarray(at, at + 64 * 1024)))
      await new Promise<void>((resolve) => sink.once('drain', resolve))
    sample()
  }
  sink.end()
  await new Promise<void>((resolve) => sink.once('finish', resolve))
  clearInterval(timer)
  t.ok(sink.progress.peakBufferedBytes <= budget + MiB + 64 * 1024, "the sink's own peak says the same")
  t.ok(peakObjects >= 2, `objects in flight at once: up to ${peakObjects}`)
  // The window's bound: the budget plus one copy step (1 MiB) and one write.
  t.ok(peak <= budget + MiB + 64 * 1024, `held at most ${(peak / MiB).toFixed(2)} MiB with a 12 MiB budget`)
  await checkRolled(t, direct, Bucket, input, sink.objects, { max: 6 * MiB })
})
