import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import t, { type Test } from 'tap'
import type { ResumeState } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { type CliRun, collect, connection, runCli, startCli } from './fixtures/cli.js'
import { type FaultProxy, type FaultRule, startFaultProxy } from './fixtures/fault-proxy.js'
import { incompleteUploads, MiB, readObject } from './fixtures/store.js'

const { Bucket, client } = await bucketFor(t, 'cli-interrupted')
const dir = mkdtempSync(join(tmpdir(), 's3-sink-interrupted-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

async function proxyWith(t: Test, rule: FaultRule): Promise<FaultProxy> {
  const proxy = await startFaultProxy(rule)
  t.teardown(() => proxy.close())
  return proxy
}

async function until(what: string, done: () => boolean): Promise<void> {
  for (let waited = 0; waited < 30_000; waited += 20) {
    if (done()) return
    await sleep(20)
  }
  throw new Error(`timed out waiting for ${what}`)
}

/**
 * Starts an upload of `--file` read from a named pipe, and resolves once the command has opened it: from then on a
 * Ctrl-C stops the upload it makes (one that comes first waits for it), and it waits for bytes. `data` is written and the pipe left open, as a
 * producer still running would; `interrupt()` sends SIGINT and, once the command has said how it ended, closes the
 * pipe (the command's last read of it holds a thread until then, and the process with it).
 */
async function uploadFromPipe(name: string, args: string[], data: Buffer) {
  const fifo = join(dir, `${name}.fifo`)
  execFileSync('mkfifo', [fifo])
  const child = startCli([...args, '--file', fifo])
  const run = collect(child)
  const writer = await open(fifo, 'w')
  await writer.write(data)
  let said = ''
  child.stderr?.on('data', (chunk) => {
    said += chunk
  })
  const interrupt = async (): Promise<CliRun> => {
    child.kill('SIGINT')
    await until('a message', () => said.endsWith('\n'))
    await writer.close()
    return run
  }
  return { interrupt }
}

t.test(
  '--checkpoint, Ctrl-C before the first part is stored: kept, said, and resumed by the same command',
  async (t) => {
    const data = Buffer.from('the first bytes of a stream that was interrupted early\n')
    const checkpoint = join(dir, 'early.checkpoint.json')
    const Key = 'early'
    const args = [`s3://${Bucket}/${Key}`, ...connection(), '--checkpoint', checkpoint, '--json']
    const { interrupt } = await uploadFromPipe('early', args, data)
    const first = await interrupt()
    t.equal(first.status, 130, 'exit 130')
    t.match(first.stderr, /^s3-sink: suspended with 0 B stored; run the same command again to resume\n$/)
    const state = JSON.parse(readFileSync(checkpoint, 'utf8')) as ResumeState
    t.match(state, { bucket: Bucket, key: Key, uploadId: String, parts: [] }, 'the checkpoint names the upload')
    t.same(
      (await incompleteUploads(client, Bucket, Key)).map((u) => u.UploadId),
      [state.uploadId],
      'which the store keeps',
    )

    const second = await runCli(args, data)
    t.equal(second.status, 0, second.stderr)
    t.match(JSON.parse(second.stdout), { uploadId: state.uploadId, size: data.length, parts: 1 })
    t.ok((await readObject(client, Bucket, Key)).equals(data), 'the object is the stream')
    t.equal(existsSync(checkpoint), false, 'the checkpoint is removed')
    t.same(await incompleteUploads(client, Bucket, Key), [])
  },
)

t.test('without --checkpoint, Ctrl-C before anything is sent: nothing stored, and it says so', async (t) => {
  const Key = 'nothing'
  const { interrupt } = await uploadFromPipe('nothing', [`s3://${Bucket}/${Key}`, ...connection()], Buffer.from('x'))
  const result = await interrupt()
  t.equal(result.status, 130)
  t.equal(result.stderr, 's3-sink: interrupted; nothing was stored\n')
  t.same(await incompleteUploads(client, Bucket, Key), [])
})

t.test('a second Ctrl-C stops at once and says what may be left behind', async (t) => {
  const Key = 'twice'
  // The abort that follows the first Ctrl-C gets no answer, so that the second Ctrl-C comes while it waits.
  const proxy = await proxyWith(t, (r) => (r.operation === 'AbortMultipartUpload' ? { kind: 'stall' } : undefined))
  const args = [`s3://${Bucket}/${Key}`, ...connection(proxy.endpoint), '--part-size', '5MiB']
  // Stdin stays open: the stream goes on, as a producer's would.
  const child = startCli(args, 'open')
  const run = collect(child)
  child.stdin?.write(Buffer.alloc(6 * MiB))
  await until('the first part', () => proxy.seen.some((r) => r.operation === 'UploadPart'))
  child.kill('SIGINT')
  await until('the abort', () => proxy.seen.some((r) => r.operation === 'AbortMultipartUpload'))
  const second = Date.now()
  child.kill('SIGINT')
  const result: CliRun = await run
  t.ok(Date.now() - second < 5_000, 'without waiting for the abort, which never ends')
  t.equal(result.status, 130)
  t.match(
    result.stderr,
    new RegExp(
      `\\ns3-sink: interrupted again: stopped at once; the upload may be left incomplete: s3-sink ls-incomplete s3://${Bucket}/${Key} lists it\\n$`,
    ),
  )
})

t.test('ls-incomplete, Ctrl-C while it lists: exit 130 and a message', async (t) => {
  const proxy = await proxyWith(t, (r) => (r.operation === 'ListMultipartUploads' ? { kind: 'stall' } : undefined))
  const child = startCli(['ls-incomplete', `s3://${Bucket}`, ...connection(proxy.endpoint)])
  const run = collect(child)
  await until('the listing', () => proxy.seen.some((r) => r.operation === 'ListMultipartUploads'))
  child.kill('SIGINT')
  const result = await run
  t.equal(result.status, 130)
  t.equal(result.stderr, 's3-sink: interrupted\n')
  t.equal(result.stdout, '')
})

t.test('bench, Ctrl-C mid-upload: the upload is aborted, nothing is left, and it says so', async (t) => {
  const proxy = await proxyWith(t, (r) => (r.operation === 'UploadPart' ? { kind: 'delay', ms: 300 } : undefined))
  const chart = join(dir, 'bench.svg')
  const child = startCli([
    'bench',
    `s3://${Bucket}/bench`,
    ...connection(proxy.endpoint),
    '--sizes',
    '5',
    '--concurrency',
    '1',
    '--bytes',
    '30MiB',
    '--chart',
    chart,
  ])
  const run = collect(child)
  await until('a part', () => proxy.seen.some((r) => r.operation === 'UploadPart'))
  child.kill('SIGINT')
  const result = await run
  t.equal(result.status, 130)
  t.match(result.stderr, /(^|\n)s3-sink: interrupted; the upload in progress was aborted, the finished ones deleted\n$/)
  t.same(await incompleteUploads(client, Bucket, 'bench/'), [], 'no upload left')
  const left = await client.send(new ListObjectsV2Command({ Bucket, Prefix: 'bench/' }))
  t.equal(left.KeyCount ?? 0, 0, 'no object left')
  t.equal(existsSync(chart), false, 'no chart of a sweep that did not end')
})
