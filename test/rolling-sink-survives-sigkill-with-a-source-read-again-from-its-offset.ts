// The library's own durable delivery, without a file: a process ships a source it can read again from an offset
// (numbered records, as a log partition gives them), saving each 'checkpoint'; it is killed with SIGKILL at
// random moments and started again from the saved state's offset. The seed is printed; S3_SINK_CHAOS_SEED replays.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import t from 'tap'
import { bucketFor } from './fixtures/bucket.js'
import { record } from './fixtures/rolling-child.js'
import { incompleteUploads, readObject, storeEnv } from './fixtures/store.js'

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
  const records = 90_000
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
  let kills = 0
  for (let i = 0; i < 8; i++) {
    const { proc, exited } = start()
    await sleep(1200 + Math.floor(random() * 2500))
    proc.kill('SIGKILL')
    const { signal, code } = await exited
    if (signal === 'SIGKILL') kills++
    else t.equal(code, 0, 'a run that ended by itself before its kill succeeded')
  }
  const last = await start().exited
  t.equal(last.code, 0, 'the last run completes')

  const listed = await client.send(new ListObjectsV2Command({ Bucket, Prefix: 'lib/' }))
  const keys = (listed.Contents ?? []).map((o) => o.Key as string).sort()
  const parts: Buffer[] = []
  for (const key of keys) parts.push(await readObject(client, Bucket, key))
  const expected = Buffer.concat(Array.from({ length: records }, (_, n) => record(n, seed)))
  const joined = Buffer.concat(parts)
  t.equal(joined.length, expected.length, `${keys.length} objects, ${joined.length} bytes`)
  t.ok(joined.equals(expected), `after ${kills} kills the objects are the records, each once, in order`)
  t.same(await incompleteUploads(client, Bucket, 'lib/'), [], 'no upload left')
})
