// A checkpoint taken up with the input on stdin (a pipe, which cannot start past the stored parts): the command
// reads the input again from its first byte and checks the bytes of the stored parts against their checksums,
// rather than sending them. Input that differs there fails with a clear error and keeps the upload for a
// run with the right input; the right input completes the object, byte-identical.

import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { ResumeState } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { CLI, type CliRun, cliEnv, collect, slowUpload, startCli } from './fixtures/cli.js'
import { pseudoRandomBytes } from './fixtures/sources.js'
import { incompleteUploads, MiB, readObject } from './fixtures/store.js'

const { Bucket, client } = await bucketFor(t, 'cli-replay')
const dir = mkdtempSync(join(tmpdir(), 's3-sink-cli-replay-'))
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

/** The command with `file` piped to its stdin (`cat file |`). */
function piped(file: string, args: string[]): Promise<CliRun> {
  const child = spawn('bash', ['-c', 'cat "$F" | "$@"', 'bash', process.execPath, CLI, ...args], {
    env: { ...cliEnv(), F: file },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return collect(child)
}

t.test(
  'a checkpoint resumed from a pipe: changed bytes fail and keep the upload; the same bytes complete it',
  async (t) => {
    const data = pseudoRandomBytes(23 * MiB + 7, 77)
    const file = join(dir, 'input.bin')
    writeFileSync(file, data)
    const checkpoint = join(dir, 'checkpoint.json')
    const Key = 'replayed'
    // The first run is slowed down and killed once two parts are stored.
    const { args: upload } = await slowUpload(t, Bucket, Key, file)
    const first = startCli([...upload, '--checkpoint', checkpoint])
    const firstRun = collect(first)
    const state = await waitForParts(checkpoint, 2)
    first.kill('SIGKILL')
    await firstRun
    const args = upload.filter((_a, i) => upload[i] !== '--file' && upload[i - 1] !== '--file')

    const changed = Buffer.from(data)
    changed.writeUInt8((changed.readUInt8(MiB + 3) + 1) % 256, MiB + 3)
    const changedFile = join(dir, 'changed.bin')
    writeFileSync(changedFile, changed)
    const refused = await piped(changedFile, [...args, '--checkpoint', checkpoint])
    t.equal(refused.status, 1, 'input that differs from a stored part fails')
    t.match(refused.stderr, /ERR_S3_SINK_SOURCE_CHANGED: part 1 of the source differs/)
    t.match(refused.stderr, /the upload is kept; run the same command again to resume/)
    t.ok(existsSync(checkpoint), 'the checkpoint is kept')
    t.equal((await incompleteUploads(client, Bucket, Key)).length, 1, 'and so is the upload')

    const resumed = await piped(file, [...args, '--checkpoint', checkpoint, '--json'])
    t.equal(resumed.status, 0, resumed.stderr)
    const result = JSON.parse(resumed.stdout)
    t.ok(result.resumedFrom >= state.bytesUploaded, `resumed from ${result.resumedFrom} bytes`)
    t.equal(result.parts, 5)
    t.equal(existsSync(checkpoint), false, 'the checkpoint is removed on success')
    t.ok((await readObject(client, Bucket, Key)).equals(data), 'byte-identical')
    t.same(await incompleteUploads(client, Bucket, Key), [])
  },
)
