// rotate() cuts after every byte written before the call, wherever those bytes wait: in the Writable's buffer
// before `_construct` has run (with and without `resume`), under backpressure from a slow store, or in the queue
// of the WritableStream from toWeb(). Each case checks the objects the store holds, keys and bytes.
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { gunzipSync } from 'node:zlib'
import t from 'tap'
import { type RollingResumeState, S3RollingSink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { storedUnder } from './fixtures/store.js'

const { client, Bucket } = await bucketFor(t, 'rolling-rotate-order')

/** The objects stored under `prefix`, as text (gunzipped each on its own for gzip). */
async function texts(prefix: string, gzip = false): Promise<{ keys: string[]; texts: string[] }> {
  const { keys, objects } = await storedUnder(client, Bucket, prefix)
  return { keys, texts: objects.map((o) => (gzip ? gunzipSync(o) : o).toString()) }
}

/** `count` records of 100 bytes each, `name-i` padded with dots, each ending in a newline. */
function records(name: string, count: number): string {
  let out = ''
  for (let i = 0; i < count; i++) out += `${`${name}-${i}`.padEnd(99, '.')}\n`
  return out
}

t.test('right after construction, the writes waiting for _construct are in the object rotate() ends', async (t) => {
  const sink = new S3RollingSink({ client, params: { Bucket }, key: 'fresh/{index}', maxObjectBytes: 1024 * 1024 })
  sink.write('a\nb\n')
  const rotated = await sink.rotate()
  t.equal(rotated?.index, 0)
  t.equal(rotated?.bytes, 4, 'the object holds the four bytes written before rotate()')
  sink.write('c\n')
  sink.end()
  await once(sink, 'finish')
  t.same(await texts('fresh/'), { keys: ['fresh/00000000', 'fresh/00000001'], texts: ['a\nb\n', 'c\n'] })
})

t.test('a record written in two writes around rotate() stays whole, in the next object', async (t) => {
  const sink = new S3RollingSink({ client, params: { Bucket }, key: 'halves/{index}' })
  sink.write('r1\nr2-first')
  const rotated = sink.rotate()
  sink.write('-second\nr3\n')
  t.equal((await rotated)?.bytes, 3, 'the cut is after the last whole record written before rotate()')
  sink.end()
  await once(sink, 'finish')
  t.same(await texts('halves/'), {
    keys: ['halves/00000000', 'halves/00000001'],
    texts: ['r1\n', 'r2-first-second\nr3\n'],
  })
})

t.test("an object's first record, still open at rotate(), ends the object when it ends", async (t) => {
  const sink = new S3RollingSink({ client, params: { Bucket }, key: 'open-first/{index}' })
  sink.write('first-half')
  const rotated = sink.rotate()
  sink.write('-rest\nnext\n')
  t.equal((await rotated)?.bytes, 16)
  sink.end()
  await once(sink, 'finish')
  t.same(await texts('open-first/'), {
    keys: ['open-first/00000000', 'open-first/00000001'],
    texts: ['first-half-rest\n', 'next\n'],
  })
})

t.test('writes queued behind a full window are in the object rotate() ends', async (t) => {
  // Object 0's PutObject is held by the store for 1.5 s; with memory for one block at a time, object 1's writes
  // wait for it.
  const { proxy, client: slow } = await throughProxy(t, (req) =>
    req.operation === 'PutObject' && req.path.endsWith('/00000000') ? { kind: 'hold', ms: 1500 } : undefined,
  )
  const sink = new S3RollingSink({
    client: slow,
    params: { Bucket },
    key: 'queued/{index}',
    maxObjectBytes: 1000,
    maxBufferedBytes: 1,
  })
  sink.write(records('a', 10)) // object 0, whole: the next record ends it
  sink.write(records('b', 1)) // ends object 0 (its PutObject held) and begins object 1, which waits
  for (let i = 1; i < 5; i++) sink.write(records(`b${i}`, 1))
  while (!proxy.seen.some((r) => r.operation === 'PutObject')) await sleep(10)
  await sleep(50)
  t.ok(sink.writableLength >= 400, `writes wait in the Writable's buffer (${sink.writableLength} bytes)`)
  t.equal(sink.objects.length, 0, "object 0's PutObject is in the store's hands")
  const rotated = sink.rotate()
  sink.write(records('c', 3))
  sink.end()
  const object = await rotated
  t.equal(object?.index, 1)
  t.equal(object?.bytes, 500, 'the object rotate() ended holds the five b records')
  await once(sink, 'finish')
  const stored = await texts('queued/')
  t.same(stored.keys, ['queued/00000000', 'queued/00000001', 'queued/00000002'])
  t.same(stored.texts, [
    records('a', 10),
    records('b', 1) + [1, 2, 3, 4].map((i) => records(`b${i}`, 1)).join(''),
    records('c', 3),
  ])
})

t.test('a gzip sink cuts after every byte written before rotate()', async (t) => {
  const sink = new S3RollingSink({ client, params: { Bucket }, key: 'gzip/{index}.gz', gzip: true })
  sink.write('a\nb\n')
  const rotated = await sink.rotate()
  t.equal(rotated?.bytes, 4)
  sink.write('c\n')
  sink.end()
  await once(sink, 'finish')
  t.same(await texts('gzip/', true), { keys: ['gzip/00000000.gz', 'gzip/00000001.gz'], texts: ['a\nb\n', 'c\n'] })
})

t.test('chunks still in the queue of the WritableStream from toWeb() are in the object rotate() ends', async (t) => {
  const sink = new S3RollingSink({ client, params: { Bucket }, key: 'web/{index}' })
  const writer = sink.toWeb().getWriter()
  const writes = [writer.write(Buffer.from('a\n')), writer.write('b\n')]
  const rotated = sink.rotate()
  writes.push(writer.write(Buffer.from('c\n')))
  const again = sink.rotate()
  writes.push(writer.write(Buffer.from('d\n')))
  t.equal((await rotated)?.bytes, 4)
  t.equal((await again)?.bytes, 2)
  await Promise.all(writes)
  await writer.close()
  t.same(await texts('web/'), {
    keys: ['web/00000000', 'web/00000001', 'web/00000002'],
    texts: ['a\nb\n', 'c\n', 'd\n'],
  })
})

t.test('a rotation behind the chunks of an aborted WritableStream rejects with its reason', async (t) => {
  const sink = new S3RollingSink({ client, params: { Bucket }, key: 'web-aborted/{index}' })
  const writer = sink.toWeb().getWriter()
  const written = writer.write(Buffer.from('a\n'))
  const rotated = sink.rotate()
  const reason = new Error('given up')
  await writer.abort(reason)
  await t.rejects(rotated, reason)
  await t.rejects(written)
  t.ok(sink.destroyed)
  t.same((await storedUnder(client, Bucket, 'web-aborted/')).keys, [], 'nothing is stored')
})

t.test('after end(), rotate() resolves with the object the end cut', async (t) => {
  const sink = new S3RollingSink({ client, params: { Bucket }, key: 'ended/{index}' })
  sink.write('a\n')
  sink.end('b\n')
  const rotated = await sink.rotate()
  t.equal(rotated?.key, 'ended/00000000')
  t.equal(rotated?.bytes, 4)
  t.ok(sink.writableFinished, 'it resolves once the sink has finished')
  await t.rejects(sink.rotate(), { code: 'ERR_STREAM_DESTROYED' }, 'no rotation once finished')
  t.same(await texts('ended/'), { keys: ['ended/00000000'], texts: ['a\nb\n'] })
})

t.test('a resumed sink, right after construction, cuts after the bytes written again and the new ones', async (t) => {
  // The state of a sink that had begun object 0 (its bytes not yet stored) when it stopped.
  const first = new S3RollingSink({ client, params: { Bucket }, key: 'resumed/{index}' })
  const states: RollingResumeState[] = []
  first.on('checkpoint', (state) => states.push(state))
  first.write('a\n')
  await once(first, 'checkpoint')
  first.destroy()
  await once(first, 'close')
  const state = states.at(-1) as RollingResumeState
  t.same(
    state.objects.map((o) => [o.index, o.key, o.offset, o.end]),
    [[0, 'resumed/00000000', 0, undefined]],
    'the state holds object 0, begun and not cut',
  )

  // The source again from the state's offset, then more; rotate() before `_construct` has looked at the store.
  const sink = new S3RollingSink({ client, params: { Bucket }, key: 'resumed/{index}', resume: state })
  sink.write('a\nb\n')
  const rotated = sink.rotate()
  sink.write('c\n')
  sink.end()
  const object = await rotated
  t.equal(object?.index, 0)
  t.equal(object?.bytes, 4)
  await once(sink, 'finish')
  t.same(await texts('resumed/'), { keys: ['resumed/00000000', 'resumed/00000001'], texts: ['a\nb\n', 'c\n'] })
})

t.test(
  'a resumed sink rotating among the bytes its state had cut resolves with the object that holds them',
  async (t) => {
    // The state of a sink that had cut object 0 after `a\n` (its PutObject unanswered) and begun object 1.
    const { client: unanswered } = await throughProxy(t, (req) =>
      req.operation === 'PutObject' ? { kind: 'hold', ms: 30_000 } : undefined,
    )
    const first = new S3RollingSink({ client: unanswered, params: { Bucket }, key: 'recut/{index}' })
    const states: RollingResumeState[] = []
    first.on('checkpoint', (state) => states.push(state))
    first.write('a\n')
    first.rotate().catch(() => {})
    first.write('b')
    while (!states.at(-1)?.objects.some((o) => o.index === 1)) await once(first, 'checkpoint')
    first.destroy()
    await once(first, 'close')
    const state = states.at(-1) as RollingResumeState
    t.same(
      state.objects.map((o) => [o.index, o.offset, o.end]),
      [
        [0, 0, 2],
        [1, 2, undefined],
      ],
      'the state holds object 0, cut after a\\n, and object 1 begun',
    )

    const sink = new S3RollingSink({ client, params: { Bucket }, key: 'recut/{index}', resume: state })
    sink.write('a')
    const within = sink.rotate()
    sink.write('\nb\n')
    const after = sink.rotate()
    sink.end('c\n')
    t.same((await within)?.index, 0, 'a rotation inside object 0 resolves with object 0, cut where the state says')
    t.same((await after)?.index, 1)
    await once(sink, 'finish')
    t.same(await texts('recut/'), {
      keys: ['recut/00000000', 'recut/00000001', 'recut/00000002'],
      texts: ['a\n', 'b\n', 'c\n'],
    })
  },
)
