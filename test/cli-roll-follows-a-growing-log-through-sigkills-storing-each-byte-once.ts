// Chaos: a log file grows while `s3-sink roll --file --follow --checkpoint` ships it and is killed with SIGKILL at
// moments aimed at a part, a Complete, a PutObject, the time between requests, or at random, and started again each
// time with the same command. At the end the objects, in {index} order, are the file byte for byte and no upload is
// left. Where each kill landed is printed (the store's answers come when they come: an aim can miss); asserted
// are what the aims reliably give: kills while a request was in the store's hands, and kills with a multipart
// upload in flight, which the next run takes up. The seed is printed; S3_SINK_CHAOS_SEED=<seed> replays a run's
// choices.
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { bucketFor } from './fixtures/bucket.js'
import { collect, connection, startCli } from './fixtures/cli.js'
import { startFaultProxy } from './fixtures/fault-proxy.js'
import { incompleteUploads, MiB, storedUnder } from './fixtures/store.js'

const { client, Bucket } = await bucketFor(t, 'chaos')
const dir = mkdtempSync(join(tmpdir(), 's3-sink-chaos-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

const seed = Number(process.env.S3_SINK_CHAOS_SEED ?? Date.now() % 1_000_000)
t.comment(`seed ${seed} (S3_SINK_CHAOS_SEED=${seed} replays these choices)`)
let state = seed >>> 0 || 1
function random(): number {
  state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
  return state / 2 ** 32
}
const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1))

/** How long the proxy holds each answer back (the store has acted): a kill in that time lands during the request. */
const HOLD: Record<string, number> = { UploadPart: 250, CompleteMultipartUpload: 400, PutObject: 250 }
const arrivals: { operation: string; at: number }[] = []
const waiters: { operation: string; resolve: () => void }[] = []
const proxy = await startFaultProxy((request) => {
  arrivals.push({ operation: request.operation, at: Date.now() })
  for (const waiter of waiters.splice(0)) {
    if (waiter.operation === request.operation) waiter.resolve()
    else waiters.push(waiter)
  }
  const ms = HOLD[request.operation]
  return ms === undefined ? undefined : { kind: 'hold', ms }
})
t.teardown(() => proxy.close())

/** Where a kill now lands, from the requests the proxy saw last. */
function landing(): string {
  const now = Date.now()
  const during = new Set<string>()
  for (const request of arrivals) {
    const hold = HOLD[request.operation]
    if (hold !== undefined && now - request.at < hold) during.add(request.operation)
  }
  // Objects overlap (one completes while the next one's parts go out): every request in flight is named.
  if (during.size > 0) return `during ${[...during].sort().join(' + ')}`
  const last = arrivals.findLast((r) => HOLD[r.operation] !== undefined)
  if (!last) return 'before any upload'
  return last.operation === 'UploadPart' ? 'between parts' : 'between objects'
}

/** How many objects of the saved checkpoint have a multipart upload in flight. */
function savedUploads(): number {
  if (!existsSync(checkpoint)) return 0
  const saved = JSON.parse(readFileSync(checkpoint, 'utf8')) as { state: { objects: { upload?: unknown }[] } }
  return saved.state.objects.filter((o) => o.upload !== undefined).length
}

/** Resolves when a request of `operation` arrives, or after `ms`. */
function arrivalOf(operation: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    waiters.push({ operation, resolve })
    setTimeout(resolve, ms)
  })
}

const file = join(dir, 'app.log')
const checkpoint = join(dir, 'app.checkpoint')
writeFileSync(file, '')
const args = [
  'roll',
  `s3://${Bucket}/chaos/{index}.log`,
  ...connection(proxy.endpoint),
  '--file',
  file,
  '--follow',
  '--checkpoint',
  checkpoint,
  // Objects of two parts when the log comes in bursts, small ones (one PutObject) cut by age when it trickles.
  '--max-object-size',
  '6MiB',
  '--part-size',
  '5MiB',
  '--max-object-age',
  '1s',
  '--concurrency',
  '2',
  '--quiet',
]

/** Appends records to the log until `total` bytes: bursts of megabytes, and trickles of a few records. */
async function grow(total: number, stop: { done: boolean }): Promise<void> {
  let n = 0
  let size = 0
  while (size < total && !stop.done) {
    const burst = random() < 0.35
    const target = burst ? between(4 * MiB, 9 * MiB) : between(200, 40_000)
    const lines: string[] = []
    let bytes = 0
    while (bytes < target) {
      const line = `${n++} ${seed} ${'x'.repeat(between(0, 180))}\n`
      lines.push(line)
      bytes += line.length
    }
    appendFileSync(file, lines.join(''))
    size += bytes
    await sleep(between(50, 600))
  }
}

t.test('killed with SIGKILL again and again while a log grows, each byte is stored once', async (t) => {
  const stop = { done: false }
  const growing = grow(36 * MiB, stop)
  const landings: string[] = []
  /** Kills after which the checkpoint held a multipart upload in flight. */
  let withUpload = 0
  const aims = ['UploadPart', 'CompleteMultipartUpload', 'PutObject', 'between', 'any']
  const kills = 14
  for (let i = 0; i < kills; i++) {
    const child = startCli(args)
    const run = collect(child)
    // Aim each kill: right after a request of some kind arrives (the store acts while its answer is held), a
    // little after one (between requests), or at a random moment.
    const aim = aims[i % aims.length] as string
    if (aim === 'between') {
      await arrivalOf(i % 2 === 0 ? 'UploadPart' : 'PutObject', 6000)
      await sleep(between(300, 450))
    } else if (aim === 'any') {
      await sleep(between(400, 2500))
    } else {
      await sleep(between(200, 600))
      await arrivalOf(aim, 6000)
      await sleep(between(0, (HOLD[aim] as number) - 100))
    }
    const where = landing()
    child.kill('SIGKILL')
    const { signal, stderr } = await run
    landings.push(where)
    if (savedUploads() > 0) withUpload++
    t.equal(signal, 'SIGKILL', `kill ${i + 1} (aimed at ${aim}) landed ${where}${stderr ? `: ${stderr}` : ''}`)
  }
  stop.done = true
  await growing
  t.ok(
    landings.some((where) => where.startsWith('during')),
    "some kills landed while a request was in the store's hands",
  )
  t.ok(withUpload > 0, `${withUpload} kills left a multipart upload in flight for the next run to take up`)

  // The last run, once the log has stopped growing: without --follow it stores the rest of the file and exits.
  const bytes = readFileSync(file)
  const last = await collect(startCli(args.filter((a) => a !== '--follow')))
  t.equal(last.status, 0, `the last run stores the rest and exits 0 ${last.stderr}`)

  const { keys, objects, bytes: joined } = await storedUnder(client, Bucket, 'chaos/')
  t.equal(
    joined.length,
    bytes.length,
    `${keys.length} objects hold ${joined.length} of the file's ${bytes.length} bytes`,
  )
  t.ok(joined.equals(bytes), 'the objects, in {index} order, are the file byte for byte: no gap, no duplicate')
  t.same(
    keys.map((k) => Number(/(\d+)\.log$/.exec(k)?.[1])),
    keys.map((_, i) => i),
    'indices from 0 without a gap',
  )
  t.ok(
    objects.every((o) => o.at(-1) === 0x0a),
    'every object holds whole lines',
  )
  t.same(await incompleteUploads(client, Bucket, 'chaos/'), [], 'no incomplete upload left')
  const counts = new Map<string, number>()
  for (const where of landings) counts.set(where, (counts.get(where) ?? 0) + 1)
  t.comment(`${landings.length} kills survived: ${[...counts].map(([w, n]) => `${n} ${w}`).join(', ')}`)
  t.comment(`${keys.length} objects; requests seen: ${summary()}`)
})

function summary(): string {
  const counts = new Map<string, number>()
  for (const r of arrivals) counts.set(r.operation, (counts.get(r.operation) ?? 0) + 1)
  return [...counts].map(([op, n]) => `${op} ${n}`).join(', ')
}
