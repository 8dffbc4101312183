// The first SIGTERM of `s3-sink roll` stores what was read: every byte the command took from stdin, including
// what stdin had read and not yet handed to the sink, held back while a slow store kept its writes waiting.
// stdin is a FIFO whose read end the test keeps open too: what is left in it after the command exits tells how
// many bytes the command read.
import { execFileSync, spawn } from 'node:child_process'
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { bucketFor } from './fixtures/bucket.js'
import { CLI, cliEnv, collect, connection } from './fixtures/cli.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { ndjson } from './fixtures/rolling.js'
import { storedUnder } from './fixtures/store.js'

const { client, Bucket } = await bucketFor(t, 'cli-roll-stop')

/** Writes what the FIFO takes of `bytes` from `from` on, without blocking; returns where it stopped. */
function writeSome(fd: number, bytes: Buffer, from: number): number {
  let at = from
  while (at < bytes.length) {
    try {
      at += writeSync(fd, bytes, at, Math.min(64 * 1024, bytes.length - at))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break
      throw err
    }
  }
  return at
}

/**
 * The bytes left in the FIFO, read without blocking through a read end of its own (the command, exiting, may have
 * set the one it shared back to blocking).
 */
function leftIn(fifo: string): number {
  const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)
  try {
    return drain(fd)
  } finally {
    closeSync(fd)
  }
}

function drain(fd: number): number {
  const buffer = Buffer.alloc(1024 * 1024)
  let left = 0
  for (;;) {
    try {
      const n = readSync(fd, buffer, 0, buffer.length, null)
      if (n === 0) return left
      left += n
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return left
      throw err
    }
  }
}

t.test('SIGTERM while writes wait for a slow store: every byte read from stdin is stored', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 's3-sink-roll-stop-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const fifo = join(dir, 'stdin')
  execFileSync('mkfifo', [fifo])
  const readEnd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)
  const writeEnd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK)
  t.teardown(() => {
    closeSync(readEnd)
    closeSync(writeEnd)
  })

  // The first object's PutObject is answered after 2 s: with one request at a time, the writes behind it wait.
  const { proxy } = await throughProxy(t, (req) =>
    req.operation === 'PutObject' && req.repeat === 0 && req.path.endsWith('/00000000')
      ? { kind: 'hold', ms: 2000 }
      : undefined,
  )
  const child = spawn(
    process.execPath,
    [
      CLI,
      'roll',
      `s3://${Bucket}/stop/{index}`,
      ...connection(proxy.endpoint),
      '--max-object-size',
      '16KiB',
      '--concurrency',
      '1',
      '--json',
      '--quiet',
    ],
    { env: cliEnv(), stdio: [readEnd, 'pipe', 'pipe'] },
  )
  const run = collect(child)
  const input = ndjson(20_000, 200, 11)
  let written = writeSome(writeEnd, input, 0)
  while (!proxy.seen.some((r) => r.operation === 'PutObject')) {
    written = writeSome(writeEnd, input, written)
    await sleep(20)
  }
  // The command reads on while its writes wait, until stdin holds back a full buffer and the FIFO fills.
  for (let i = 0; i < 25; i++) {
    written = writeSome(writeEnd, input, written)
    await sleep(20)
  }
  t.ok(written < input.length, `the FIFO is full: ${written} of ${input.length} bytes written`)
  child.kill('SIGTERM')
  const { status, stdout, stderr } = await run
  t.equal(status, 0, stderr)
  const read = written - leftIn(fifo)

  const printed = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { bytes: number })
  const stored = await storedUnder(client, Bucket, 'stop/')
  t.equal(stored.keys.length, printed.length, 'an object for each line printed')
  t.equal(stored.bytes.length, read, `the ${read} bytes read from stdin are stored`)
  t.ok(stored.bytes.equals(input.subarray(0, read)), 'in order, byte for byte')
})
