import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { constants } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { RolledObject } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { CLI, cliEnv, collect, connection } from './fixtures/cli.js'
import { startFaultProxy } from './fixtures/fault-proxy.js'
import { checkRolled, ndjson } from './fixtures/rolling.js'
import { incompleteUploads } from './fixtures/store.js'

const { client, Bucket } = await bucketFor(t, 'cli-roll')

/**
 * `s3-sink roll ARGS`. `untraced`: without the test runner's hooks, which it adds to every process a test starts
 * (NODE_OPTIONS, whatever the test passes): they catch every signal from the start and, when nothing else does,
 * raise it again — a signal's handler in /proc then says nothing of the command's own.
 */
function startRoll(args: string[], { untraced = false } = {}) {
  const argv = [process.execPath, CLI, 'roll', ...args]
  const [command, ...rest] = untraced ? ['env', '-u', 'NODE_OPTIONS', ...argv] : argv
  const child = spawn(command as string, rest, { env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdin.on('error', () => {})
  return child
}

/** Whether process `pid` has a handler for `signal` (Linux: the caught-signals mask in /proc). */
function catches(pid: number, signal: NodeJS.Signals): boolean {
  const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0'
  return (BigInt(`0x${mask}`) >> BigInt(constants.signals[signal] - 1)) % 2n === 1n
}

/** The objects the command printed as --json lines, with their times as Dates again. */
function printed(stdout: string): RolledObject[] {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const { bucket: _, time, ...o } = JSON.parse(line)
      return { ...o, time: new Date(time) }
    })
}

t.test(
  'stdin becomes gzip objects of whole records, one JSON line each; SIGTERM stores the rest, exit 0',
  async (t) => {
    const child = startRoll([
      `s3://${Bucket}/logs/%Y/%m/{id}-{index}.ndjson.gz`,
      ...connection(),
      '--max-object-size',
      '64KiB',
      '--gzip',
      '--json',
      '--id',
      'cli',
    ])
    const run = collect(child)
    const input = ndjson(3000, 200, 7)
    let lines = 0
    child.stdout.on('data', (chunk: Buffer) => {
      lines += chunk.toString().split('\n').length - 1
    })
    // Written in pieces, the last record cut in the middle, and the pipe left open: a log that is still going.
    const cut = input.length - 10
    for (let at = 0; at < cut; at += 4096) child.stdin.write(input.subarray(at, Math.min(at + 4096, cut)))
    while (lines < 2) await sleep(50)
    child.kill('SIGTERM')
    const { status, stdout, stderr } = await run
    t.equal(status, 0, 'exit 0 after storing what was read')
    t.match(stderr, /storing what was read; interrupt again to abort/)
    t.match(stderr, /stored s3:\/\/.*\/logs\/\d{4}\/\d{2}\/cli-00000000\.ndjson\.gz: input bytes 0\.\./)
    const objects = printed(stdout)
    t.ok(objects.length >= 3, `${objects.length} objects`)
    // The signal stops reading: bytes still in the pipe are not read, and every byte read is stored, in order.
    const stored = objects.reduce((sum, o) => sum + o.bytes, 0)
    t.ok(stored > 64 * 1024 && stored <= cut, `${stored} of the ${cut} bytes written were read and stored`)
    await checkRolled(t, client, Bucket, input.subarray(0, stored), objects, { max: 64 * 1024, gzip: true })
  },
)

t.test('SIGHUP ends the object being filled after the bytes written before it', async (t) => {
  const child = startRoll([`s3://${Bucket}/hup/{index}.log`, ...connection(), '--json', '--quiet'], {
    untraced: true,
  })
  const run = collect(child)
  let lines = 0
  child.stdout.on('data', (chunk: Buffer) => {
    lines += chunk.toString().split('\n').length - 1
  })
  const input = ndjson(400, 100, 11)
  const half = input.indexOf('\n', input.length / 2) + 1
  await new Promise<void>((resolve) => child.stdin.write(input.subarray(0, half), () => resolve()))
  // Once the command catches SIGHUP (before, the signal would end it), and has read the bytes: nothing tells when
  // a read has taken them, so it is given the time one takes.
  while (!catches(child.pid as number, 'SIGHUP')) await sleep(20)
  await sleep(1000)
  child.kill('SIGHUP')
  while (lines < 1 && child.exitCode === null) await sleep(50)
  child.stdin.end(input.subarray(half))
  const { status, stdout, stderr } = await run
  t.equal(status, 0, stderr)
  const objects = printed(stdout)
  t.same(
    objects.map((o) => [o.index, o.offset, o.bytes]),
    [
      [0, 0, half],
      [1, half, input.length - half],
    ],
    'one object up to the signal, one after',
  )
  await checkRolled(t, client, Bucket, input, objects, { max: 64 * 1024 * 1024, endedByTime: true })
})

t.test('a second SIGTERM aborts the objects in flight: exit 130, no upload left', async (t) => {
  const proxy = await startFaultProxy((r) => (r.operation === 'UploadPart' ? { kind: 'delay', ms: 2000 } : undefined))
  t.teardown(() => proxy.close())
  const child = startRoll([
    `s3://${Bucket}/slow/{index}`,
    ...connection(proxy.endpoint),
    '--max-object-size',
    '64MiB',
    '--part-size',
    '5MiB',
    '--quiet',
  ])
  const run = collect(child)
  const chunk = Buffer.alloc(1024 * 1024, 'x\n')
  for (let i = 0; i < 7; i++) child.stdin.write(chunk)
  while (!proxy.seen.some((r) => r.operation === 'UploadPart')) await sleep(50)
  child.kill('SIGTERM')
  await sleep(200)
  child.kill('SIGTERM')
  const { status, stderr } = await run
  t.equal(status, 130)
  t.match(stderr, /interrupted; the objects in flight were aborted; 0 objects were stored/)
  t.same(await incompleteUploads(client, Bucket, 'slow/'), [], 'the upload in flight was aborted')
})

t.test('roll takes its own options only', async (t) => {
  const child = startRoll([`s3://${Bucket}/x/{index}`, '--expected-size', '1MiB'])
  child.stdin.end()
  const { status, stderr } = await collect(child)
  t.equal(status, 2)
  t.match(stderr, /--expected-size goes with upload, not roll/)
  const bad = startRoll([`s3://${Bucket}/x/%Q`, ...connection()])
  bad.stdin.end()
  const result = await collect(bad)
  t.equal(result.status, 2)
  t.match(result.stderr, /unknown token "%Q"/)
})
