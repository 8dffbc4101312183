// The s3-sink command run by the runtime itself (`node`, `bun`, `deno run -A` dist/cli/s3-sink.js): it uploads stdin
// and a file, rolls stdin into objects, aborts forgotten uploads, fails clearly on a missing bucket, and on SIGTERM
// mid-upload exits 130 leaving nothing in the store.
import assert from 'node:assert/strict'
import { Buffer } from 'node:buffer'
import { spawn } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import process from 'node:process'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { CreateMultipartUploadCommand, ListPartsCommand } from '@aws-sdk/client-s3'
import { check, finish, runtimeCommand } from './fixtures/harness.mjs'
import {
  incompleteUploads,
  keysUnder,
  MiB,
  makeBucket,
  makeClient,
  pseudoRandomBytes,
  readObject,
  storeEnv,
} from './fixtures/store.mjs'

const cli = fileURLToPath(new URL('../../dist/cli/s3-sink.js', import.meta.url))
const client = makeClient()
const { Bucket, drop } = await makeBucket(client, 'command')
const dir = await mkdtemp(join(tmpdir(), 's3-sink-runtime-'))
const store = storeEnv()
const connection = ['--endpoint', store.endpoint, '--path-style']
const env = {
  ...process.env,
  AWS_ACCESS_KEY_ID: store.accessKeyId,
  AWS_SECRET_ACCESS_KEY: store.secretAccessKey,
  AWS_REGION: store.region,
}

/** The commands still running: a check that failed by its timeout leaves its command behind, ended at the end. */
const children = new Set()

/** Starts the command under this runtime; `stdin` is written and ended, or left open with 'open'. */
function start(args, stdin) {
  const [command, commandArgs] = runtimeCommand(cli, ...args)
  const child = spawn(command, commandArgs, { env, stdio: ['pipe', 'pipe', 'pipe'] })
  children.add(child)
  child.on('close', () => children.delete(child))
  child.stdin.on('error', () => {}) // a command that fails early stops reading: its answer, not the check's failure
  const run = { stdout: '', stderr: '', child }
  child.stdout.on('data', (chunk) => {
    run.stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    run.stderr += chunk
  })
  run.ended = new Promise((resolve) => child.on('close', (status, signal) => resolve({ ...run, status, signal })))
  if (stdin !== 'open') child.stdin.end(stdin)
  return run
}

const data = pseudoRandomBytes(12 * MiB + 7, 33)

await check('--version exits 0', async () => {
  const run = await start(['--version']).ended
  assert.equal(run.status, 0, run.stderr)
  assert.match(run.stdout, /^s3-sink \d+\.\d+\.\d+ \(@aws-sdk\/client-s3 [\d.]+, Node\.js v[\d.]+\)\n$/)
})

await check('uploads 12 MiB from stdin and prints the result as JSON', async () => {
  const run = await start([`s3://${Bucket}/stdin.bin`, ...connection, '--part-size', '5MiB', '--json'], data).ended
  assert.equal(run.status, 0, run.stderr)
  const result = JSON.parse(run.stdout)
  assert.deepEqual(
    { bucket: result.bucket, key: result.key, size: result.size, parts: result.parts },
    { bucket: Bucket, key: 'stdin.bin', size: data.length, parts: 3 },
  )
  assert.ok((await readObject(client, Bucket, 'stdin.bin')).equals(data), 'the store holds stdin')
})

await check('uploads a file with a checkpoint, which is removed once the object is stored', async () => {
  const file = join(dir, 'data.bin')
  const checkpoint = join(dir, 'upload.checkpoint')
  writeFileSync(file, data)
  const args = [`s3://${Bucket}/file.bin`, ...connection, '--file', file, '--part-size', '5MiB', '--checkpoint']
  const run = await start([...args, checkpoint, '--quiet']).ended
  assert.equal(run.status, 0, run.stderr)
  assert.equal(existsSync(checkpoint), false, 'the checkpoint is gone')
  assert.ok((await readObject(client, Bucket, 'file.bin')).equals(data), 'the store holds the file')
})

await check('roll stores stdin as objects of whole lines', async () => {
  const lines = Buffer.from(Array.from({ length: 50_000 }, (_, i) => `line ${i} ${'-'.repeat(i % 40)}\n`).join(''))
  const args = ['roll', `s3://${Bucket}/roll/{index}.log`, ...connection, '--max-object-size', '512KiB', '--quiet']
  const rolled = await start(args, lines).ended
  assert.equal(rolled.status, 0, rolled.stderr)
  const keys = await keysUnder(client, Bucket, 'roll/')
  assert.ok(keys.length >= 3, `${keys.length} objects`)
  const objects = []
  for (const key of keys.sort((a, b) => Number(a.match(/\d+/)) - Number(b.match(/\d+/)))) {
    objects.push(await readObject(client, Bucket, key))
  }
  for (const object of objects) assert.equal(object.at(-1), 0x0a, 'each object ends with a whole line')
  assert.ok(Buffer.concat(objects).equals(lines), 'the objects, in index order, are stdin')
})

await check('roll: SIGTERM with stdin still open stores what was read and exits 0', async () => {
  const lines = Buffer.from(Array.from({ length: 2_000 }, (_, i) => `record ${i}\n`).join(''))
  const args = ['roll', `s3://${Bucket}/stopped/{index}.log`, ...connection, '--max-object-size', '4KiB', '--json']
  const run = start(args, 'open')
  run.child.stdin.write(lines)
  // The command is running, its signal handlers set, once it has told of stored objects.
  while (run.stdout.split('\n').length < 3) await sleep(20)
  process.kill(run.child.pid, 'SIGTERM')
  const ended = await run.ended
  run.child.stdin.destroy()
  assert.equal(ended.status, 0, ended.stderr)
  assert.match(ended.stderr, /storing what was read/)
  const objects = []
  for (const line of ended.stdout.trim().split('\n'))
    objects.push(await readObject(client, Bucket, JSON.parse(line).key))
  assert.ok(Buffer.concat(objects).equals(lines), 'the objects hold every record written')
  assert.deepEqual(await incompleteUploads(client, Bucket, 'stopped/'), [])
})

await check('abort-incomplete aborts a forgotten upload', async () => {
  const Key = 'forgotten.bin'
  await client.send(new CreateMultipartUploadCommand({ Bucket, Key }))
  assert.equal((await incompleteUploads(client, Bucket, Key)).length, 1)
  const run = await start(['abort-incomplete', `s3://${Bucket}/${Key}`, ...connection, '--older-than', '0s']).ended
  assert.equal(run.status, 0, run.stderr)
  assert.deepEqual(await incompleteUploads(client, Bucket, Key), [], 'the store holds no upload')
})

await check('a missing bucket: exit 1, a clear message, no secret, nothing stored', async () => {
  const run = await start([`s3://${Bucket}-missing/k`, ...connection], data).ended
  assert.equal(run.status, 1)
  assert.match(run.stderr, /bucket/i)
  assert.ok(!run.stderr.includes(store.secretAccessKey), 'no secret on stderr')
})

await check('SIGTERM with parts stored and stdin still open: exit 130, no upload left', async () => {
  const Key = 'interrupted.bin'
  const run = start([`s3://${Bucket}/${Key}`, ...connection, '--part-size', '5MiB', '--concurrency', '1'], 'open')
  run.child.stdin.write(data)
  // The upload is in the store, with a part stored, before the signal.
  for (;;) {
    const [upload] = await incompleteUploads(client, Bucket, Key)
    const parts = upload && (await client.send(new ListPartsCommand({ Bucket, Key, UploadId: upload.UploadId })))
    if (parts?.Parts?.length) break
    await sleep(20)
  }
  // process.kill rather than child.kill: after child.kill(), Deno's child_process reports the child as ended by the
  // signal (status null) even when it handled the signal and exited 130 itself, as it does here.
  process.kill(run.child.pid, 'SIGTERM')
  const ended = await run.ended
  run.child.stdin.destroy()
  assert.equal(ended.status, 130, ended.stderr)
  assert.match(ended.stderr, /interrupted|stopped/)
  assert.deepEqual(await incompleteUploads(client, Bucket, Key), [], 'no incomplete upload')
  assert.deepEqual(await keysUnder(client, Bucket, Key), [], 'no object')
})

for (const child of children) child.kill('SIGKILL')
await drop()
await rm(dir, { recursive: true, force: true })
client.destroy()
finish()
