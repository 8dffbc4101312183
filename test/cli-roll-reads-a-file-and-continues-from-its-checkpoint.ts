import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { bucketFor } from './fixtures/bucket.js'
import { collect, connection, runCli, startCli } from './fixtures/cli.js'
import { ndjson } from './fixtures/rolling.js'
import { incompleteUploads, storedUnder, storeEnv } from './fixtures/store.js'

const { client, Bucket } = await bucketFor(t, 'cli-roll-file')
const dir = mkdtempSync(join(tmpdir(), 's3-sink-roll-file-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

const stored = (prefix: string) => storedUnder(client, Bucket, prefix)

t.test('without --follow: the file to its end, exit 0; the next run stores only what was appended', async (t) => {
  const file = join(dir, 'once.log')
  const checkpoint = join(dir, 'once.checkpoint')
  const first = ndjson(3000, 200, 3)
  writeFileSync(file, first)
  const args = [
    'roll',
    `s3://${Bucket}/once/{index}.log`,
    ...connection(),
    '--file',
    file,
    '--checkpoint',
    checkpoint,
    '--max-object-size',
    '100KiB',
    '--quiet',
  ]
  const run = await runCli(args)
  t.equal(run.status, 0, run.stderr)
  t.ok((await stored('once/')).bytes.equals(first), 'the objects are the file')
  const saved = JSON.parse(readFileSync(checkpoint, 'utf8'))
  t.equal(saved.state.offset, first.length, 'the checkpoint is kept, at the end of the file')
  t.same(saved.state.objects, [], 'with nothing in flight')
  t.notMatch(JSON.stringify(saved), /secret|AWS_SECRET|testing/i, 'and no secret in it')
  const { secretAccessKey } = storeEnv()
  t.ok(secretAccessKey.length > 0, 'the store has a secret key to look for')
  t.notOk(readFileSync(checkpoint, 'utf8').includes(secretAccessKey), "nor the store's secret key")
  t.notOk(`${run.stdout}${run.stderr}`.includes(secretAccessKey), 'nor in what the command printed')

  const more = ndjson(500, 200, 4)
  appendFileSync(file, more)
  const again = await runCli(args)
  t.equal(again.status, 0, again.stderr)
  const now = await stored('once/')
  t.ok(now.bytes.equals(Buffer.concat([first, more])), 'the second run stored the appended bytes, once')
  const lines = again.stdout.trim().split('\n')
  t.match(
    lines[0],
    new RegExp(`once/0*${now.keys.length - lines.length}\\.log\\t${first.length}\\t`),
    'in the next index',
  )

  const idle = await runCli(args)
  t.equal(idle.status, 0)
  t.equal(idle.stdout, '', 'a third run with nothing new stores nothing')
})

t.test('--follow: appends, a rotation and a truncation are followed; SIGTERM stores what was read', async (t) => {
  const file = join(dir, 'app.log')
  const checkpoint = join(dir, 'app.checkpoint')
  const a = ndjson(400, 100, 5)
  const b = ndjson(800, 100, 6)
  const c = ndjson(200, 100, 7)
  const d = ndjson(100, 100, 8)
  writeFileSync(file, a.subarray(0, 1000))
  const child = startCli(
    [
      'roll',
      `s3://${Bucket}/follow/{index}.log`,
      ...connection(),
      '--file',
      file,
      '--follow',
      '--checkpoint',
      checkpoint,
      '--max-object-size',
      '16KiB',
      '--max-object-age',
      '1s',
    ],
    undefined,
  )
  const run = collect(child)
  // The command has the file open once it has begun an object (and saved that).
  while (!existsSync(checkpoint)) await sleep(50)
  appendFileSync(file, a.subarray(1000))
  // A line still being written when the file is rotated: it ends the old file.
  appendFileSync(file, 'the last line of the old file, without its newline')
  await sleep(500)
  renameSync(file, `${file}.1`)
  appendFileSync(`${file}.1`, ' and its end\n')
  await sleep(300)
  writeFileSync(file, b)
  await sleep(800)
  // copytruncate: the file is emptied in place and written again from its first byte (less than was read of it,
  // so that the truncation shows).
  truncateSync(file, 0)
  await sleep(300)
  appendFileSync(file, c)
  await sleep(500)
  appendFileSync(file, d)
  appendFileSync(file, 'a record still being written')
  await sleep(1500)
  child.kill('SIGTERM')
  const { status, stderr } = await run
  t.equal(status, 0, stderr)
  const expected = Buffer.concat([
    a,
    Buffer.from('the last line of the old file, without its newline and its end\n'),
    b,
    c,
    d,
  ])
  const now = await stored('follow/')
  t.equal(now.bytes.length, expected.length, `${now.keys.length} objects, ${now.bytes.length} bytes`)
  t.ok(now.bytes.equals(expected), 'the old file, the new one, and the new one again after its truncation, in order')
  t.same(await incompleteUploads(client, Bucket, 'follow/'), [], 'no upload left')
  const saved = JSON.parse(readFileSync(checkpoint, 'utf8'))
  t.equal(saved.state.offset, expected.length, 'the record still being written is left for the next run')
})

t.test('what --checkpoint refuses', async (t) => {
  const file = join(dir, 'refused.log')
  writeFileSync(file, 'a\n')
  const base = [...connection(), '--file', file, '--checkpoint', join(dir, 'refused.checkpoint')]
  const noIndex = await runCli(['roll', `s3://${Bucket}/refused/%Y.log`, ...base])
  t.equal(noIndex.status, 2)
  t.match(noIndex.stderr, /with --checkpoint the template needs \{index\}/)
  const stdin = await runCli(['roll', `s3://${Bucket}/refused/{index}`, ...connection(), '--checkpoint', 'x.json'])
  t.equal(stdin.status, 2)
  t.match(stdin.stderr, /--checkpoint needs --file: stdin cannot be read again/)
  const first = await runCli(['roll', `s3://${Bucket}/refused/{index}`, ...base])
  t.equal(first.status, 0, first.stderr)
  const other = await runCli(['roll', `s3://${Bucket}/refused/{index}`, ...base, '--max-object-size', '1MiB'])
  t.equal(other.status, 2)
  t.match(other.stderr, /checkpoint .* does not fit these options: .*maxObjectBytes 67108864/)
})
