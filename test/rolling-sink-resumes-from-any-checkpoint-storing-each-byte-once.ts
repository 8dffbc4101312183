import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { gunzipSync } from 'node:zlib'
import t from 'tap'
import { type RollingResumeState, S3RollingSink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { startFaultProxy } from './fixtures/fault-proxy.js'
import { ndjson } from './fixtures/rolling.js'
import { pseudoRandomBytes } from './fixtures/sources.js'
import { incompleteUploads, MiB, makeClient, storedUnder as storedAt } from './fixtures/store.js'

const { client, Bucket } = await bucketFor(t, 'rolling-resume')

/** Objects of up to 6 MiB in 5 MiB parts: two parts each, and a small one (one PutObject) after each rotate(). */
const options = { params: { Bucket }, maxObjectBytes: 6 * MiB, partSize: 5 * MiB, concurrency: 2 } as const
const input = ndjson(90_000, 300, 23)
t.comment(`input: ${input.length} bytes`)

/** Writes `input` from `from` in 64 KiB chunks, calling `sink.rotate()` as the input passes each of `rotateAt`. */
function source(from: number, sink: S3RollingSink, rotateAt: number[] = [], bytes = input): Readable {
  const pending = [...rotateAt]
  let at = from
  return new Readable({
    read() {
      if (at >= bytes.length) return this.push(null)
      while (pending.length > 0 && (pending[0] as number) <= at) {
        pending.shift()
        sink.rotate().catch(() => {})
      }
      const end = Math.min(at + 64 * 1024, bytes.length)
      this.push(bytes.subarray(at, end))
      at = end
    },
  })
}

/** The objects under `prefix`, in key order (the index order), read back. */
const storedUnder = (prefix: string) => storedAt(client, Bucket, prefix)

/** The objects of `state` whose upload holds all their parts: it may have completed before the state said so. */
function completedIn(state: RollingResumeState) {
  return state.objects.filter(
    (o) => o.end !== undefined && o.upload?.parts.reduce((sum, p) => sum + p.size, 0) === o.end - o.offset,
  )
}

t.test('resumed from any checkpoint of a run, the objects are the same: each byte once, in order', async (t) => {
  const key = 'any/{id}-{index}.log'
  const first = new S3RollingSink({ ...options, client, key, id: 'a', maxObjectAge: Number.POSITIVE_INFINITY })
  const states: RollingResumeState[] = []
  first.on('checkpoint', (state) => states.push(JSON.parse(JSON.stringify(state))))
  await pipeline(source(0, first), first)
  const made = await storedUnder('any/')
  t.ok(made.bytes.equals(input), `the first run stored the input as ${made.keys.length} objects`)
  t.ok(states.length > 10, `${states.length} checkpoints`)
  t.ok(
    states.some((s) => s.objects.some((o) => o.upload && o.end !== undefined)),
    'some states hold an object cut whose upload has parts',
  )

  // Every object of these states was stored since: uploads completed (NoSuchUpload, then the object's ETag),
  // small ones stored again under the same key with the same bytes.
  const proxy = await startFaultProxy(() => undefined)
  t.teardown(() => proxy.close())
  const proxied = makeClient({ endpoint: proxy.endpoint })
  t.teardown(() => proxied.destroy())
  // The first state that holds an object with all its parts is always taken: resuming from it must recognise the
  // upload that completed before the state could say so. Five more are picked at random (a fixed seed).
  const firstCompleted = states.findIndex((s) => completedIn(s).length > 0)
  t.ok(firstCompleted >= 0, `state ${firstCompleted} holds an object whose upload has all its parts`)
  let seed = 5
  const picks = new Set<number>(firstCompleted >= 0 ? [firstCompleted] : [])
  while (picks.size < Math.min(6, states.length)) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    picks.add(seed % states.length)
  }
  let completedChecked = 0
  for (const pick of [...picks].sort((a, b) => a - b)) {
    const state = states[pick] as RollingResumeState
    proxy.seen.length = 0
    const again = new S3RollingSink({ ...options, client: proxied, key, resume: state })
    t.equal(again.id, 'a', 'the resumed sink takes on the id')
    await pipeline(source(state.offset, again), again)
    const now = await storedUnder('any/')
    t.same(now.keys, made.keys, `resumed from checkpoint ${pick} (offset ${state.offset}): the same keys`)
    t.ok(now.bytes.equals(input), 'and the same bytes')
    t.equal(again.objects[0]?.index, state.objects[0]?.index ?? state.nextIndex, 'told from the first object it held')
    // An upload whose state holds all the object's parts may have completed before the state could say so.
    for (const o of completedIn(state)) {
      completedChecked++
      const sent = proxy.seen.filter((r) => r.path.endsWith(o.key) && r.operation !== 'HeadObject')
      t.same(
        sent.map((r) => r.operation).filter((op) => op !== 'ListParts' && op !== 'ListMultipartUploads'),
        [],
        `object ${o.index}, completed before the state said so, was recognised and not stored again`,
      )
    }
  }
  t.ok(completedChecked > 0, `${completedChecked} objects completed before their state said so were checked`)
  t.same(await incompleteUploads(client, Bucket, 'any/'), [], 'no upload left')
})

t.test('a crash mid-object: its upload is taken up, the stored parts are not sent again', async (t) => {
  const key = 'crash/{index}.log'
  const first = new S3RollingSink({ ...options, client, key, leavePartsOnError: true })
  let state: RollingResumeState | undefined
  first.on('checkpoint', (s) => {
    state = JSON.parse(JSON.stringify(s))
  })
  const crashed = new Promise<void>((resolve) => {
    first.on('checkpoint', (s) => {
      // The first part of the second object is stored: stop as a crash would, its upload left in the store.
      if (s.objects.some((o) => o.index === 1 && o.upload?.parts[0]?.partNumber === 1)) {
        first.destroy(new Error('crash'))
        resolve()
      }
    })
  })
  first.on('error', () => {})
  source(0, first).pipe(first)
  await crashed
  const at = state as RollingResumeState
  const held = at.objects.find((o) => o.index === 1)
  t.equal(held?.upload?.parts[0]?.partNumber, 1, "the state holds object 1's upload with its first part")

  const proxy = await startFaultProxy(() => undefined)
  t.teardown(() => proxy.close())
  const proxied = makeClient({ endpoint: proxy.endpoint })
  t.teardown(() => proxied.destroy())
  const again = new S3RollingSink({ ...options, client: proxied, key, id: first.id, resume: at })
  await pipeline(source(at.offset, again), again)
  const forObject1 = proxy.seen.filter((r) => r.path.endsWith(held?.key ?? '00000001.log'))
  t.ok(
    forObject1.some((r) => r.operation === 'CompleteMultipartUpload'),
    `object 1's upload was taken up and completed: ${forObject1.map((r) => r.operation).join(', ')}`,
  )
  t.notOk(
    forObject1.some((r) => r.operation === 'CreateMultipartUpload' || r.operation === 'PutObject'),
    'in the upload the state held: no new upload nor PutObject for it',
  )
  const sentParts = forObject1.filter((r) => r.operation === 'UploadPart')
  t.notOk(
    sentParts.some((r) => r.partNumber === 1),
    'part 1 of the object in flight was checked against the replayed bytes, not sent again',
  )
  const now = await storedUnder('crash/')
  t.ok(now.bytes.equals(input), `${now.keys.length} objects, the input byte for byte`)
  t.same(await incompleteUploads(client, Bucket, 'crash/'), [], 'no upload left')
})

t.test('a gzipped object taken up mid-upload and due to be cut by age at once keeps its stored parts', async (t) => {
  // Its stored part holds gzip output, which lags the input: the age cut of the resumed object must wait until
  // the input that made that part has been written again, not merely as many input bytes as the part holds.
  const key = 'gzip/{index}.log.gz'
  // Lines of hex: gzip halves them, so a 5 MiB part of gzip output takes about 10 MiB of input.
  const hex = Buffer.from(
    `${pseudoRandomBytes(8 * MiB, 31)
      .toString('hex')
      .replace(/(.{99})/g, '$1\n')}\n`,
  )
  const gzipped = { ...options, maxObjectBytes: 64 * MiB, gzip: {}, maxObjectAge: 1500 }
  const first = new S3RollingSink({ ...gzipped, client, key, leavePartsOnError: true })
  let state: RollingResumeState | undefined
  const crashed = new Promise<void>((resolve) => {
    first.on('checkpoint', (s) => {
      if (s.objects[0]?.upload?.parts[0]?.partNumber === 1) {
        state = JSON.parse(JSON.stringify(s))
        first.destroy(new Error('crash'))
        resolve()
      }
    })
  })
  first.on('error', () => {})
  source(0, first, [], hex).pipe(first)
  await crashed
  const at = state as RollingResumeState
  // The resumed object's age has passed: its cut is due as soon as it starts.
  await new Promise((resolve) => setTimeout(resolve, 1600))
  const again = new S3RollingSink({ ...gzipped, client, key, id: first.id, resume: at })
  await pipeline(source(at.offset, again, [], hex), again)
  const { keys, objects } = await storedUnder('gzip/')
  const plain = Buffer.concat(objects.map((o) => gunzipSync(o)))
  t.ok(plain.equals(hex), `${keys.length} objects, gunzipped, are the input byte for byte`)
  t.same(await incompleteUploads(client, Bucket, 'gzip/'), [], 'no upload left')
})

t.test('a state that does not fit the options is refused with a code', async (t) => {
  const state: RollingResumeState = {
    version: 1,
    id: 'x',
    bucket: Bucket,
    key: 'fit/{index}',
    delimiter: Buffer.from('\n').toString('base64'),
    maxObjectBytes: 6 * MiB,
    gzip: false,
    nextIndex: 3,
    offset: 100,
    objects: [],
  }
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['another template', { key: 'other/{index}' }, /key "fit\/\{index\}"/],
    ['another bucket', { params: { Bucket: 'other' } }, /bucket/],
    ['another delimiter', { delimiter: '\r\n' }, /delimiter/],
    ['another id', { id: 'y' }, /id "x"/],
    ['gzip', { gzip: true }, /gzip false/],
  ]
  for (const [what, change, message] of cases) {
    t.throws(
      () => new S3RollingSink({ ...options, client, key: 'fit/{index}', resume: state, ...change }),
      { name: 'S3SinkError', code: 'ERR_S3_SINK_RESUME_MISMATCH', message },
      what,
    )
  }
  t.throws(
    () => new S3RollingSink({ ...options, client, key: 'fit/{index}', resume: { ...state, version: 2 } as never }),
    { code: 'ERR_INVALID_ARG_VALUE' },
    'a state of another version',
  )
})
