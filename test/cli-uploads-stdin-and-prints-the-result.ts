import t from 'tap'
import { bucketFor } from './fixtures/bucket.js'
import { connection, runCli } from './fixtures/cli.js'
import { pseudoRandomBytes } from './fixtures/sources.js'
import { headObject, MiB, readObject } from './fixtures/store.js'

const { Bucket, client } = await bucketFor(t, 'cli')

t.test('stdin is uploaded; --json prints the result and nothing else on stdout', async (t) => {
  const data = pseudoRandomBytes(12 * MiB + 5, 91)
  const run = await runCli(
    [
      `s3://${Bucket}/dir/from-stdin.bin`,
      ...connection(),
      '--part-size',
      '5MiB',
      '--json',
      '--content-type',
      'application/x-demo',
      '--metadata',
      'origin=cli',
      '--metadata',
      'n=1',
    ],
    data,
  )
  t.equal(run.status, 0, run.stderr)
  const result = JSON.parse(run.stdout)
  t.match(result, {
    bucket: Bucket,
    key: 'dir/from-stdin.bin',
    etag: /^"[0-9a-f]{32}-3"$/,
    size: data.length,
    parts: 3,
    uploadId: String,
    resumedFrom: 0,
    seconds: Number,
    mibPerSecond: Number,
  })
  t.equal(run.stdout.trim().split('\n').length, 1, 'one line of JSON')
  t.match(run.stderr, /^stored s3:\/\/.*dir\/from-stdin\.bin: 12\.0 MiB in 3 parts/m, 'a summary on stderr')
  t.ok((await readObject(client, Bucket, 'dir/from-stdin.bin')).equals(data))
  const head = await headObject(client, Bucket, 'dir/from-stdin.bin')
  t.equal(head.ContentType, 'application/x-demo')
  t.same(head.Metadata, { origin: 'cli', n: '1' })
  t.equal(head.ETag, result.etag)
})

t.test('without --json: one tab-separated line on stdout; --quiet: no summary', async (t) => {
  const run = await runCli([`s3://${Bucket}/small.txt`, ...connection(), '--quiet'], Buffer.from('hello'))
  t.equal(run.status, 0, run.stderr)
  t.match(run.stdout, new RegExp(`^s3://${Bucket}/small\\.txt\\t5\\t"[0-9a-f]{32}"\\n$`))
  t.equal(run.stderr, '')
  t.equal((await readObject(client, Bucket, 'small.txt')).toString(), 'hello')
})

t.test('--part-size with units gives the expected number of parts', async (t) => {
  for (const [size, expected] of [
    ['5MiB', 4],
    ['6M', 3],
    ['16777216', 2],
  ] as const) {
    const run = await runCli(
      [`s3://${Bucket}/sized-${size}`, ...connection(), '--part-size', size, '--json'],
      pseudoRandomBytes(17 * MiB, 92),
    )
    t.equal(run.status, 0, run.stderr)
    t.equal(JSON.parse(run.stdout).parts, expected, `--part-size ${size}`)
  }
})

t.test('--help prints the usage', async (t) => {
  const run = await runCli(['--help'])
  t.equal(run.status, 0)
  t.match(run.stdout, /^usage: s3-sink \[options\] s3:\/\/bucket\/key/)
})
