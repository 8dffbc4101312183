// The library's own durable delivery, without a file: a process ships a source it can read again from an offset
// (numbered records, as a log partition gives them), saving each 'checkpoint'; it is killed with SIGKILL at
// random moments, or just after it began storing a new object's parts, and started again from the saved state's
// offset. Every other kill is aimed so: some kills must leave a multipart upload in flight for the next run to take
// up. The seed is printed; S3_SINK_CHAOS_SEED replays the random ones.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { RollingResumeState } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { record } from './fixtures/rolling-child.js'
import { incompleteUploads, storedUnder, storeEnv } from './fixtures/store.js'

const child = fileURLToPath(new URL('./fixtures/rolling-child.ts', import.meta.url))
const { client, Bucket } = await bucketFor(t, 'rolling-sigkill')
const dir = mkdtempSync(join(tmpdir(), 's3-sink-rolling-sigkill-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

const seed = Number(process.env.S3_SINK_CHAOS_SEED ?? Date.now() % 1_000_000)
t.comment(`seed ${seed} (S3_SINK_CHAOS_SEED=${seed} replays these choices)`)
let x = seed >>> 0 || 1
const random = () => {
  x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
  return x / 2 ** 32
}

t.test('killed with SIGKILL and restarted from its checkpoint, each record is stored once, in order', async (t) => {
  // About 56 MB: more than eight runs cut short store, so that every run is killed, not ended by itself (each run
  // replays the object in flight at the source's pace before it gets further).
  const records = 270_000
  const checkpoint = join(dir, 'state.json')
  const start = () => {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', child, storeEnv().endpoint, Bucket, 'lib/', checkpoint, String(records), String(seed)],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    )
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      proc.on('exit', (code, signal) => resolve({ code, signal })),
    )
    return { proc, exited }
  }
  const saved = () =>
    existsSync(checkpoint) ? (JSON.parse(readFileSync(checkpoint, 'utf8')) as RollingResumeState) : undefined
  const uploadsOf = (state: RollingResumeState | undefined) =>
    (state?.objects ?? []).flatMap((o) => (o.upload ? [o.upload.uploadId] : []))
  let kills = 0
  /** Kills after which the saved state held a multipart upload in flight: the next run takes it up. */
  let inUpload = 0
  let before: string[] = []
  const held: string[] = []
  for (let i = 0; i < 8; i++) {
    const { proc, exited } = start()
    let ended = false
    exited.then(() => {
      ended = true
    })
    if (i % 2 === 0) {
      await sleep(1200 + Math.floor(random() * 2500))
    } else {
      // Aimed: once the saved state holds an upload it did not hold at the last kill (a new object's parts are
      // being stored), after a random moment more.
      const until = Date.now() + 6000
      while (!ended && Date.now() < until && uploadsOf(saved()).every((id) => before.includes(id))) await sleep(20)
      await sleep(Math.floor(random() * 300))
    }
    proc.kill('SIGKILL')
    const { signal, code } = await exited
    if (signal === 'SIGKILL') {
      kills++
      const state = saved()
      before = uploadsOf(state)
      if (before.length > 0) inUpload++
      held.push(`offset ${state?.offset}: ${state?.objects.length ?? 0} objects, ${before.length} uploads`)
    } else t.equal(code, 0, 'a run that ended by itself before its kill succeeded')
  }
  t.comment(`the saved state at each kill: ${held.join('; ')}`)
  t.ok(kills >= 4, `${kills} of 8 runs were killed, not ended by themselves`)
  t.ok(inUpload > 0, `${inUpload} kills left a multipart upload in flight for the next run to take up`)
  const last = await start().exited
  t.equal(last.code, 0, 'the last run completes')

  const { keys, bytes: joined } = await storedUnder(client, Bucket, 'lib/')
  const expected = Buffer.concat(Array.from({ length: records }, (_, n) => record(n, seed)))
  t.equal(joined.length, expected.length, `${keys.length} objects, ${joined.length} bytes`)
  t.ok(joined.equals(expected), `after ${kills} kills the objects are the records, each once, in order`)
  t.same(await incompleteUploads(client, Bucket, 'lib/'), [], 'no upload left')
})
