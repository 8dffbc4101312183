import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { type ResumeState, S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { startFaultProxy } from './fixtures/fault-proxy.js'
import { upload } from './fixtures/run.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { headObject, incompleteUploads, MiB, readObject } from './fixtures/store.js'

const { Bucket, client } = await bucketFor(t, 'crash')
const child = fileURLToPath(new URL('./fixtures/upload-child.ts', import.meta.url))

t.test('a process killed with SIGKILL mid-upload is resumed by another from its last checkpoint', async (t) => {
  // Slow parts, so the child is still uploading when it is killed.
  const proxy = await startFaultProxy((r) => (r.operation === 'UploadPart' ? { kind: 'delay', ms: 250 } : undefined))
  const dir = mkdtempSync(join(tmpdir(), 's3-sink-crash-'))
  t.teardown(async () => {
    await proxy.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const Key = 'crashed'
  const size = 60 * MiB
  const seed = 51
  const file = join(dir, 'checkpoint.json')
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', child, proxy.endpoint, Bucket, Key, file, String(size), String(seed)],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  )
  const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)))
  let state: ResumeState | undefined
  for (let waited = 0; waited < 60_000; waited += 50) {
    if (existsSync(file)) {
      state = JSON.parse(readFileSync(file, 'utf8')) as ResumeState
      if (state.parts.length >= 3) break
    }
    await sleep(50)
  }
  proc.kill('SIGKILL')
  t.equal(await exited, 'SIGKILL', 'the child was killed')
  t.ok(state && state.parts.length >= 3 && state.parts.length < 12, `killed with ${state?.parts.length} parts stored`)
  t.equal((await incompleteUploads(client, Bucket, Key)).length, 1, 'the upload is left in the store')

  const data = pseudoRandomBytes(size, seed)
  const sink = new S3Sink({ client, params: { Bucket, Key }, resume: state })
  const { error, parts } = await upload(randomChunks(data, 64 * 1024, 64 * 1024), sink)
  t.equal(error, undefined)
  t.equal(parts.length, 12 - state!.parts.length, `the second process uploaded only ${parts.length} of 12 parts`)
  t.ok(
    parts.every((p) => p.partNumber > state!.parts.length),
    'none of the stored parts again',
  )
  t.ok((await readObject(client, Bucket, Key)).equals(data), 'the object is byte-identical')
  t.match((await headObject(client, Bucket, Key)).ETag, /-12"$/)
  t.equal(sink.result?.parts, 12)
  t.equal(sink.result?.size, size)
  t.same(await incompleteUploads(client, Bucket, Key), [])
})
