// The command reads its input straight into the parts, by a way that depends on what the input is: a regular file
// (stdin redirected from it, or --file) with positioned reads, a pipe or a socket as the event loop finds bytes in
// it. Whichever it is, and whatever its length (empty, shorter than a part, parts across several reads), the
// object holds the input's bytes, in the parts the part size makes.
import { spawn } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { bucketFor } from './fixtures/bucket.js'
import { CLI, type CliRun, cliEnv, collect, connection } from './fixtures/cli.js'
import { pseudoRandomBytes } from './fixtures/sources.js'
import { MiB, readObject } from './fixtures/store.js'

const { Bucket, client } = await bucketFor(t, 'cli-input')
const dir = mkdtempSync(join(tmpdir(), 's3-sink-cli-input-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

/** Runs `bash -c script` with the command as "$@" and the input file as $F, stdin from `stdin`. */
function shell(script: string, args: string[], file: string, stdin: 'ignore' | number = 'ignore'): Promise<CliRun> {
  const child = spawn('bash', ['-c', script, 'bash', process.execPath, CLI, ...args], {
    env: { ...cliEnv(), F: file },
    stdio: [stdin, 'pipe', 'pipe'],
  })
  return collect(child)
}

/** Each way the command can be given its input: `file` holds `data`. */
const WAYS: { name: string; run: (file: string, data: Buffer, args: string[]) => Promise<CliRun> }[] = [
  {
    name: 'stdin redirected from a file',
    run: async (file, _data, args) => {
      const fd = openSync(file, 'r')
      try {
        return await shell('"$@"', args, file, fd)
      } finally {
        closeSync(fd)
      }
    },
  },
  { name: 'stdin from a pipe', run: (file, _data, args) => shell('cat "$F" | "$@"', args, file) },
  {
    // What a parent such as Node's child_process hands its child: a socket.
    name: 'stdin from a socket',
    run: (_file, data, args) => {
      const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
      const run = collect(child)
      child.stdin.on('error', () => {})
      child.stdin.end(data)
      return run
    },
  },
  { name: '--file, a regular file', run: (file, _data, args) => shell('"$@" --file "$F"', args, file) },
  { name: '--file, a pipe (<(command))', run: (file, _data, args) => shell('"$@" --file <(cat "$F")', args, file) },
]

/** Lengths: empty, shorter than a part, and three parts that reads cross (4 MiB reads, 5 MiB parts). */
const SIZES = [
  { bytes: 0, parts: 0 },
  { bytes: 3 * MiB + 1, parts: 0 },
  { bytes: 12 * MiB + 5, parts: 3 },
]

for (const [i, { bytes, parts }] of SIZES.entries()) {
  const data = pseudoRandomBytes(bytes, 300 + i)
  const file = join(dir, `input-${bytes}.bin`)
  writeFileSync(file, data)
  for (const way of WAYS) {
    t.test(
      `${way.name}, ${bytes} bytes: the object holds them, in ${parts || 'one PutObject, no'} parts`,
      async (t) => {
        const Key = `${way.name.replace(/[^a-z]+/g, '-')}/${bytes}`
        const run = await way.run(file, data, [
          `s3://${Bucket}/${Key}`,
          ...connection(),
          '--part-size',
          '5MiB',
          '--json',
        ])
        t.equal(run.status, 0, run.stderr)
        const result = JSON.parse(run.stdout)
        t.equal(result.size, bytes)
        t.equal(result.parts, parts)
        t.match(result.etag, parts ? new RegExp(`^"[0-9a-f]{32}-${parts}"$`) : /^"[0-9a-f]{32}"$/)
        t.ok((await readObject(client, Bucket, Key)).equals(data), 'byte-identical')
      },
    )
  }
}

t.test('stdin typed at a terminal: the lines up to Ctrl-D', async (t) => {
  // util-linux `script` runs the command on a pseudo-terminal, types what it reads into it, and Ctrl-D at its end.
  const command = [process.execPath, CLI, `s3://${Bucket}/typed`, ...connection(), '--json']
  const quoted = command.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')
  const child = spawn('script', ['-qefc', quoted, '/dev/null'], { env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
  const run = collect(child)
  child.stdin.end('hello\nworld\n')
  const { status, stdout } = await run
  t.equal(status, 0, stdout)
  t.match(stdout, /"size":12,"parts":0/)
  t.equal((await readObject(client, Bucket, 'typed')).toString(), 'hello\nworld\n')
})
