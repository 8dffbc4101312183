import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { ResumeState } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { collect, connection, runCli, slowUpload, startCli } from './fixtures/cli.js'
import { pseudoRandomBytes } from './fixtures/sources.js'
import { incompleteUploads, MiB, readObject } from './fixtures/store.js'
import { lacks } from './fixtures/store-support.js'

const { Bucket, client } = await bucketFor(t, 'cli-resume')
const dir = mkdtempSync(join(tmpdir(), 's3-sink-cli-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

async function waitForParts(file: string, parts: number): Promise<ResumeState> {
  for (let waited = 0; waited < 60_000; waited += 50) {
    if (existsSync(file)) {
      const state = JSON.parse(readFileSync(file, 'utf8')) as ResumeState
      if (state.parts.length >= parts) return state
    }
    await sleep(50)
  }
  throw new Error(`no checkpoint with ${parts} parts in ${file}`)
}

for (const [how, signal] of [
  ['killed with SIGKILL', 'SIGKILL'],
  ['interrupted with SIGINT', 'SIGINT'],
] as const) {
  t.test(`--checkpoint: a run ${how} is resumed by running the same command again`, async (t) => {
    const data = pseudoRandomBytes(41 * MiB, signal.length)
    const file = join(dir, `${signal}.bin`)
    writeFileSync(file, data)
    const checkpoint = join(dir, `${signal}.checkpoint.json`)
    const Key = `resumed-${signal}`
    const { args: upload } = await slowUpload(t, Bucket, Key, file)
    const args = [...upload, '--checkpoint', checkpoint, '--json']
    const first = startCli(args)
    const firstRun = collect(first)
    const state = await waitForParts(checkpoint, 2)
    first.kill(signal)
    const killed = await firstRun
    if (signal === 'SIGINT') {
      t.equal(killed.status, 130, 'an interrupted run exits 130')
      t.match(killed.stderr, /suspended with .* stored; run the same command again to resume/)
    } else {
      t.equal(killed.signal, 'SIGKILL')
    }
    t.ok(existsSync(checkpoint), 'the checkpoint file is kept')
    t.equal((await incompleteUploads(client, Bucket, Key)).length, 1, 'and so is the upload')

    const second = await runCli(args)
    t.equal(second.status, 0, second.stderr)
    const result = JSON.parse(second.stdout)
    t.ok(result.resumedFrom >= state.bytesUploaded, `resumed from ${result.resumedFrom} bytes`)
    t.equal(result.parts, 9)
    t.equal(existsSync(checkpoint), false, 'the checkpoint is removed on success')
    t.ok((await readObject(client, Bucket, Key)).equals(data), 'byte-identical')
    t.same(await incompleteUploads(client, Bucket, Key), [])
  })
}

t.test('without --checkpoint, SIGINT aborts the upload: exit 130, nothing left', async (t) => {
  const file = join(dir, 'interrupted.bin')
  writeFileSync(file, pseudoRandomBytes(31 * MiB, 99))
  const Key = 'interrupted'
  const { proxy, args } = await slowUpload(t, Bucket, Key, file)
  const child = startCli(args)
  const run = collect(child)
  // Interrupt once the multipart upload exists and a part is on its way.
  for (let waited = 0; waited < 30_000 && !proxy.seen.some((r) => r.operation === 'UploadPart'); waited += 20) {
    await sleep(20)
  }
  child.kill('SIGINT')
  const result = await run
  t.equal(result.status, 130)
  t.match(result.stderr, /interrupted; the upload was aborted/)
  t.same(await incompleteUploads(client, Bucket, Key), [], 'the upload was aborted')
})

t.test('ls-incomplete lists a left upload; abort-incomplete removes it', async (t) => {
  const { CreateMultipartUploadCommand } = await import('@aws-sdk/client-s3')
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: 'left/behind' }))

  const listed = await runCli(['ls-incomplete', `s3://${Bucket}/left/`, ...connection(), '--json'])
  t.equal(listed.status, 0, listed.stderr)
  // One JSON object per line, in the fields and case of upload's --json.
  const lines = listed.stdout.trimEnd().split('\n')
  t.equal(lines.length, 1)
  t.match(JSON.parse(lines[0] as string), {
    bucket: Bucket,
    key: 'left/behind',
    uploadId: UploadId,
    initiated: String,
    ageMs: Number,
    parts: 0,
    size: 0,
  })
  t.match(listed.stderr, /^1 upload incomplete/)

  const text = await runCli(['ls-incomplete', `s3://${Bucket}/left/`, ...connection()])
  t.match(text.stdout, new RegExp(`\\tleft/behind\\t${UploadId}\\n$`))

  await t.test('--older-than spares a young upload', { skip: lacks('initiatedTimes') }, async (t) => {
    const young = await runCli(['abort-incomplete', `s3://${Bucket}/left/`, ...connection(), '--older-than', '7d'])
    t.equal(young.status, 0)
    t.match(young.stderr, /^0 uploads aborted/)
  })
  const dry = await runCli([
    'abort-incomplete',
    `s3://${Bucket}/left/`,
    ...connection(),
    '--older-than',
    '0s',
    '--dry-run',
    '--json',
  ])
  t.match(dry.stderr, /^1 upload would be aborted/)
  t.match(JSON.parse(dry.stdout), { bucket: Bucket, key: 'left/behind', uploadId: UploadId }, 'the same --json shape')
  t.equal((await incompleteUploads(client, Bucket, 'left/behind')).length, 1, 'a dry run leaves it')

  const done = await runCli(['abort-incomplete', `s3://${Bucket}/left/`, ...connection(), '--older-than', '0s'])
  t.equal(done.status, 0, done.stderr)
  t.match(done.stderr, /^1 upload aborted/)
  t.same(await incompleteUploads(client, Bucket, 'left/behind'), [])
})
