// A part goes to the socket one block (up to 16 MiB) per write, which the socket counts as written at once. On a
// slow link the kernel takes such a block over seconds: progress (`bytesSent`) and the stall watchdog follow what
// the kernel has taken, so a slow but moving part is neither reported as sent before it is nor cancelled as stalled.
import t from 'tap'
import { S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { upload } from './fixtures/run.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { incompleteUploads, MiB, readObject } from './fixtures/store.js'

const { Bucket, client: direct } = await bucketFor(t, 'slow-link')

t.test('a 32 MiB part read at 8 MiB/s: bytesSent moves within each block, no stall, one attempt', async (t) => {
  const { proxy, client } = await throughProxy(t, (r) =>
    r.operation === 'UploadPart' && r.partNumber === 1 ? { kind: 'slow', bytesPerSecond: 8 * MiB } : undefined,
  )
  const Key = 'slow-part'
  const data = pseudoRandomBytes(40 * MiB, 21)
  // Blocks of 16 MiB: part 1 is two writes of 16 MiB, part 2 one of 8 MiB. Counted as handed to the socket,
  // bytesSent would move in steps of 8 or 16 MiB, and the watchdog would see nothing move while a block drains.
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 32 * MiB, stallTimeout: 2500 })
  const samples: number[] = []
  const timer = setInterval(() => samples.push(sink.progress.bytesSent), 50)
  const { error, parts } = await upload(randomChunks(data, 64 * 1024, 256 * 1024), sink)
  clearInterval(timer)

  t.equal(error, undefined, 'the upload succeeded')
  t.equal(parts.find((p) => p.partNumber === 1)?.attempts, 1, 'part 1 went in one attempt: no stall was seen')
  t.ok(
    (parts.find((p) => p.partNumber === 1)?.durationMs ?? 0) >= 3000,
    'part 1 did take the slow link its time (32 MiB at 8 MiB/s)',
  )
  t.equal(proxy.seen.filter((r) => r.operation === 'UploadPart').length, 2, 'two UploadParts, none repeated')
  const inBlock = samples.filter((n) => n % (8 * MiB) !== 0)
  t.ok(inBlock.length >= 5, `bytesSent moved within a block (${inBlock.length} samples between block boundaries)`)
  t.ok(
    samples.every((n, i) => i === 0 || n >= (samples[i - 1] as number)),
    'bytesSent never went back',
  )
  t.equal(sink.progress.bytesSent, data.length, 'every byte counted once in the end')
  t.ok((await readObject(direct, Bucket, Key)).equals(data), 'stored bytes are intact')
  t.equal((await incompleteUploads(direct, Bucket, Key)).length, 0, 'no upload left behind')
})
