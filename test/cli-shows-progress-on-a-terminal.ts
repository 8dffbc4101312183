import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { bucketFor } from './fixtures/bucket.js'
import { CLI, cliEnv, slowUpload } from './fixtures/cli.js'
import { pseudoRandomBytes } from './fixtures/sources.js'
import { MiB, readObject } from './fixtures/store.js'

const { Bucket, client } = await bucketFor(t, 'cli-tty')

/** Runs the command on a pseudo-terminal (util-linux `script`), as a person would; resolves with what it drew. */
function onTerminal(args: string[]): Promise<{ status: number | null; screen: string }> {
  const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')
  const child = spawn('script', ['-qefc', quoted, '/dev/null'], { env: { ...cliEnv(), COLUMNS: '200' } })
  let screen = ''
  child.stdout.on('data', (chunk) => {
    screen += chunk
  })
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, screen })))
}

t.test('on a terminal, a progress line with percent and ETA is redrawn, then the summary', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 's3-sink-tty-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'data.bin')
  const data = pseudoRandomBytes(16 * MiB, 111)
  writeFileSync(file, data)

  const { args } = await slowUpload(t, Bucket, 'tty', file)
  const run = await onTerminal(args)
  t.equal(run.status, 0, 'exit 0')
  const redraws = run.screen.split('\r').filter((line) => /sent {2}.* stored/.test(line))
  t.ok(redraws.length >= 3, `the line was redrawn ${redraws.length} times`)
  t.match(run.screen, /\[[#.]{20}\] \d+\.\d% {2}[\d.]+ (B|KiB|MiB) sent {2}[\d.]+ (B|KiB|MiB) stored {2}ETA \d+:\d\d/)
  t.match(run.screen, /\d in flight {2}\d+:\d\d/)
  t.match(run.screen, /stored s3:\/\/.*\/tty: 16\.0 MiB in 4 parts/)
  t.ok((await readObject(client, Bucket, 'tty')).equals(data))
})
