import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { S3RollingSink, S3Sink, UploadBudget } from '../lib/index.js'
import { BlockPool, blockSizeFor } from '../lib/sink/part-buffer.js'
import { SHARED_BLOCK_SIZE } from '../lib/sink/window.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { checkRolled, ndjson } from './fixtures/rolling.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { incompleteUploads, MiB, readObject } from './fixtures/store.js'

const { client: direct, Bucket } = await bucketFor(t, 'budget')
const partSize = 5 * MiB

/** A source that yields `data` in chunks of about 64 KiB, giving way to the others after each. */
async function* interleaved(data: Buffer): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += 64 * 1024) {
    yield data.subarray(at, at + 64 * 1024)
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** A source that hands `data` over in 64 KiB chunks as fast as it is read, never giving way by itself. */
function eager(data: Buffer): Readable {
  let at = 0
  return new Readable({
    read() {
      const chunk = at < data.length ? data.subarray(at, at + 64 * 1024) : null
      at += 64 * 1024
      this.push(chunk)
    },
  })
}

// First in the file: the pools are the process's, and this one counts what they make.
t.test(
  "the memory a budget's sinks take stays within its bound: a block one gives back serves any other",
  async (t) => {
    const budget = new UploadBudget({ maxBufferedBytes: 16 * MiB })
    const sources = Array.from({ length: 6 }, (_, i) => pseudoRandomBytes(3 * partSize + i * 1000, 80 + i))
    await Promise.all(
      sources.map((data, i) =>
        pipeline(
          interleaved(data),
          new S3Sink({ client: direct, params: { Bucket, Key: `pooled/${i}` }, partSize, budget }),
        ),
      ),
    )
    for (const [i, data] of sources.entries()) {
      t.ok((await readObject(direct, Bucket, `pooled/${i}`)).equals(data), `object ${i} byte-identical`)
    }
    // First parts begin in 64 KiB and 256 KiB blocks; every other block is of one size, from one pool.
    t.equal(BlockPool.shared(blockSizeFor(partSize)).allocatedBytes, 0, 'no block of the part size')
    const made = BlockPool.shared(SHARED_BLOCK_SIZE).allocatedBytes
    const bound = budget.maxBufferedBytes + partSize + MiB
    t.ok(made <= bound, `${made / MiB} MiB of blocks made for the budget's ${bound / MiB} MiB`)
    t.ok(made >= budget.maxBufferedBytes / 2, `${made / MiB} MiB: the budget was used`)
  },
)

t.test(
  'twelve sinks under a budget smaller than two parts all complete, never holding more than the bound',
  async (t) => {
    // Each sink fills part of a part before any part is full: without a way out they would wait on each other.
    const budget = new UploadBudget({ maxBufferedBytes: 8 * MiB })
    const sources = Array.from({ length: 8 }, (_, i) => pseudoRandomBytes(11 * MiB + i * 1000, 40 + i))
    let peak = 0
    const timer = setInterval(() => {
      peak = Math.max(peak, budget.bufferedBytes)
    }, 2)
    await Promise.all(
      sources.map((data, i) =>
        pipeline(
          interleaved(data),
          new S3Sink({ client: direct, params: { Bucket, Key: `tight/${i}` }, partSize, budget }),
        ),
      ),
    )
    clearInterval(timer)
    for (const [i, data] of sources.entries()) {
      t.ok((await readObject(direct, Bucket, `tight/${i}`)).equals(data), `object ${i} byte-identical`)
    }
    // The bound, and the one part (with the block it began in) the window lets through when it is stuck.
    const bound = budget.maxBufferedBytes + partSize + MiB
    t.ok(budget.peakBufferedBytes <= bound, `peak ${budget.peakBufferedBytes} bytes, bound ${bound}`)
    t.ok(peak <= budget.peakBufferedBytes)
    t.equal(budget.bufferedBytes, 0, 'every block given back')
    t.same(await incompleteUploads(direct, Bucket, 'tight/'), [])
  },
)

t.test('a budget smaller than one part still stores, one part at a time', async (t) => {
  const budget = new UploadBudget({ maxBufferedBytes: 1 })
  const data = pseudoRandomBytes(3 * partSize + 777, 52)
  const sinks = [0, 1].map((i) => new S3Sink({ client: direct, params: { Bucket, Key: `one/${i}` }, partSize, budget }))
  await Promise.all(sinks.map((sink) => pipeline(randomChunks(data, 1, 256 * 1024), sink)))
  for (const i of [0, 1]) t.ok((await readObject(direct, Bucket, `one/${i}`)).equals(data))
  t.ok(budget.peakBufferedBytes <= 2 * (partSize + MiB), `peak ${budget.peakBufferedBytes}`)
  t.equal(budget.bufferedBytes, 0)
})

t.test('a short upload is not held back behind long ones holding the budget', async (t) => {
  // A slow store: every part's answer is held back, so the long uploads hold the whole budget for seconds.
  const { client } = await throughProxy(t, (req) =>
    req.operation === 'UploadPart' ? { kind: 'hold', ms: 1500 } : undefined,
  )
  const budget = new UploadBudget({ maxBufferedBytes: 4 * partSize })
  const long = Array.from({ length: 4 }, (_, i) => pseudoRandomBytes(4 * partSize, 60 + i))
  const longDone: number[] = []
  const longs = long.map((data, i) =>
    pipeline(interleaved(data), new S3Sink({ client, params: { Bucket, Key: `long/${i}` }, partSize, budget })).then(
      () => longDone.push(Date.now()),
    ),
  )
  // Once the long uploads hold the budget and their parts wait for answers:
  // (all but the eighth of the bound kept for uploads' first blocks):
  while (budget.bufferedBytes < budget.maxBufferedBytes * 0.75) await new Promise((resolve) => setTimeout(resolve, 20))
  const small = pseudoRandomBytes(100 * 1024, 70)
  const sink = new S3Sink({ client, params: { Bucket, Key: 'short' }, partSize, budget })
  const started = Date.now()
  await pipeline(interleaved(small), sink)
  const smallMs = Date.now() - started
  t.equal(sink.result?.parts, 0, 'one PutObject')
  t.equal(longDone.length, 0, 'stored before any long upload ended')
  t.ok(smallMs < 1500, `stored in ${smallMs} ms, while parts wait 1500 ms for their answers`)
  await Promise.all(longs)
  t.ok((await readObject(direct, Bucket, 'short')).equals(small))
  for (const [i, data] of long.entries()) t.ok((await readObject(direct, Bucket, `long/${i}`)).equals(data))
  t.equal(budget.bufferedBytes, 0)
})

t.test(
  'sinks fed by sources that never give way take turns: a short upload begun beside them goes out first',
  async (t) => {
    // Parts are answered late, so the long uploads' memory stays taken once they took it.
    let takenWhenShortSent: number | undefined
    const { client } = await throughProxy(t, (req) => {
      if (req.operation === 'PutObject') takenWhenShortSent ??= budget.bufferedBytes
      return req.operation === 'UploadPart' ? { kind: 'hold', ms: 1000 } : undefined
    })
    const budget = new UploadBudget({ maxBufferedBytes: 96 * MiB })
    // Together they ask for more than the budget: without turns, they copy until it is full before anything else runs.
    const long = Array.from({ length: 6 }, (_, i) => pseudoRandomBytes(18 * MiB, 110 + i))
    const small = pseudoRandomBytes(100 * 1024, 120)
    const sinks = long.map((_, i) => new S3Sink({ client, params: { Bucket, Key: `eager/${i}` }, partSize, budget }))
    const longs = long.map((data, i) => pipeline(eager(data), sinks[i] as S3Sink))
    const short = new S3Sink({ client, params: { Bucket, Key: 'eager/short' }, partSize, budget })
    await pipeline(eager(small), short)
    t.equal(short.result?.parts, 0, 'one PutObject')
    t.ok(
      takenWhenShortSent !== undefined && takenWhenShortSent < budget.maxBufferedBytes / 2,
      `the PutObject reached the store with ${(takenWhenShortSent ?? Number.NaN) / MiB} MiB of the 96 MiB budget taken`,
    )
    await Promise.all(longs)
    t.ok((await readObject(direct, Bucket, 'eager/short')).equals(small))
    for (const [i, data] of long.entries()) t.ok((await readObject(direct, Bucket, `eager/${i}`)).equals(data))
    t.equal(budget.bufferedBytes, 0)
  },
)

t.test('rolling sinks and sinks share one budget', async (t) => {
  const budget = new UploadBudget({ maxBufferedBytes: 12 * MiB })
  const input = ndjson(60_000, 300, 9)
  const rolling = new S3RollingSink({
    client: direct,
    params: { Bucket },
    key: 'rolled/{index}',
    maxObjectBytes: 6 * MiB,
    partSize,
    budget,
  })
  const data = pseudoRandomBytes(12 * MiB, 80)
  await Promise.all([
    pipeline(interleaved(input), rolling),
    pipeline(interleaved(data), new S3Sink({ client: direct, params: { Bucket, Key: 'beside' }, partSize, budget })),
  ])
  await checkRolled(t, direct, Bucket, input, rolling.objects, { max: 6 * MiB })
  t.ok((await readObject(direct, Bucket, 'beside')).equals(data))
  t.ok(budget.peakBufferedBytes <= budget.maxBufferedBytes + partSize + MiB, `peak ${budget.peakBufferedBytes}`)
  t.equal(budget.bufferedBytes, 0)
})

t.test('a destroyed sink gives its memory back to the budget', async (t) => {
  const budget = new UploadBudget({ maxBufferedBytes: 64 * MiB })
  const sink = new S3Sink({ client: direct, params: { Bucket, Key: 'destroyed' }, partSize, budget })
  sink.write(pseudoRandomBytes(2 * partSize + 5, 90))
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.ok(budget.bufferedBytes > 0)
  sink.on('error', () => {})
  sink.destroy(new Error('gone'))
  await new Promise<void>((resolve) => sink.once('close', () => resolve()))
  t.equal(budget.bufferedBytes, 0)
  t.same(await incompleteUploads(direct, Bucket, 'destroyed'), [])
})

t.test('bad budgets and budget options throw from the constructor', async (t) => {
  t.throws(() => new UploadBudget({ maxBufferedBytes: 0 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => new UploadBudget({ maxBufferedBytes: 1.5 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => new UploadBudget({} as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new UploadBudget({ maxBufferedBytes: MiB, concurrency: 0 }), {
    name: 'RangeError',
    code: 'ERR_OUT_OF_RANGE',
    message: /concurrency/,
  })
  const params = { Bucket, Key: 'x' }
  t.throws(() => new S3Sink({ client: direct, params, budget: { maxBufferedBytes: MiB } as never }), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_TYPE',
    message: /budget must be an UploadBudget/,
  })
  const budget = new UploadBudget({ maxBufferedBytes: MiB })
  t.throws(() => new S3Sink({ client: direct, params, budget, maxBufferedBytes: MiB }), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_VALUE',
    message: /maxBufferedBytes/,
  })
})
