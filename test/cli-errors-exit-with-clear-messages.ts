import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { bucketFor } from './fixtures/bucket.js'
import { cliEnv, connection, runCli } from './fixtures/cli.js'
import { incompleteUploads, objectExists } from './fixtures/store.js'

t.test('usage errors exit 2 with one line and the usage hint', async (t) => {
  for (const [args, message] of [
    [[], /missing the s3:\/\/bucket\/key/],
    [['s3://bucket'], /missing the key/],
    [['http://bucket/key'], /not an s3:\/\/ address/],
    [['s3://b/k', '--bogus'], /^s3-sink: unknown option --bogus\n/],
    [['s3://b/k', '--part-size'], /--part-size needs a value/],
    [['s3://b/k', '--json=yes'], /--json takes no value/],
    [['s3://b/k', '--part-size', 'big'], /not a size: "big"/],
    [['s3://b/k', '--part-size', '3MiB'], /--part-size must be between 5MiB and 5GiB, got 3MiB/],
    [['s3://b/k', '--part-size', '6GiB'], /--part-size must be between 5MiB and 5GiB, got 6GiB/],
    [['s3://b/k', '--concurrency', '0'], /--concurrency must be between 1 and 10000, got 0/],
    [['s3://b/k', '--max-parts', '10001'], /--max-parts must be between 1 and 10000, got 10001/],
    [
      ['s3://b/k', '--max-parts', '2', '--expected-size', '11GiB'],
      /--expected-size must be between 0 and 10GiB, got 11GiB/,
    ],
    [['s3://b/k', '--checksum', 'none', '--checksum-type', 'full'], /--checksum-type needs a checksum/],
    [['s3://b/k', '--checksum', 'crc64nvme', '--checksum-type', 'composite'], /composite does not exist for CRC64NVME/],
    [[`s3://b/${'k'.repeat(1025)}`], /the key is 1025 bytes long in UTF-8; S3 takes at most 1024/],
    [['s3://b/k', '--older-than', '7d'], /--older-than goes with abort-incomplete, not upload/],
    [['s3://b/k', '--sizes', '5'], /--sizes goes with bench, not upload/],
    [['ls-incomplete', 's3://b', '--dry-run'], /--dry-run goes with abort-incomplete, not ls-incomplete/],
    [['s3://b/k', '--concurrency', 'two'], /--concurrency must be a whole number/],
    [['s3://b/k', '--checksum', 'md5'], /--checksum must be CRC32/],
    [['s3://b/k', '--metadata', 'novalue'], /--metadata takes KEY=VALUE/],
    [['s3://b/k', '--file', '/no/such/file'], /no such file/],
    [['abort-incomplete', 's3://b'], /needs --older-than/],
    [['abort-incomplete', 's3://b', '--older-than', 'soon'], /not a duration/],
    [['s3://b/k', 'extra'], /unexpected argument: extra/],
  ] as [string[], RegExp][]) {
    const run = await runCli(args)
    t.equal(run.status, 2, `${args.join(' ')}: exit 2`)
    t.match(run.stderr, message, `${args.join(' ')}: says what is wrong`)
    const help = ['ls-incomplete', 'abort-incomplete'].includes(args[0] as string)
      ? `s3-sink ${args[0]} --help`
      : 's3-sink --help'
    t.equal(run.stderr.split('\n').length, 3, 'one line and the hint')
    t.ok(run.stderr.endsWith(`\nTry '${help}'.\n`), `the hint: ${help}`)
    t.equal(run.stdout, '')
  }
})

t.test('a missing bucket exits 1 with the store error code and no stack trace', async (t) => {
  const { Bucket } = await bucketFor(t, 'cli-errors')
  for (const size of [10, 6 * 1024 * 1024]) {
    const run = await runCli([`s3://${Bucket}-missing/k`, ...connection(), '--part-size', '5MiB'], Buffer.alloc(size))
    t.equal(run.status, 1, `${size} bytes: exit 1`)
    t.match(run.stderr, /^s3-sink: ERR_S3_SINK_(PUT|CREATE)_FAILED: .*NoSuchBucket \(404\)/m)
    t.notMatch(run.stderr, /\n\s+at /, 'no stack trace')
    t.notMatch(run.stderr, /non-retryable streaming/, 'no SDK retry warning')
  }
  const debug = await runCli([`s3://${Bucket}-missing/k`, ...connection(), '--debug'], Buffer.alloc(10))
  t.equal(debug.status, 1)
  t.match(debug.stderr, /\n\s+at /, '--debug prints the stack')
})

t.test('a missing region or missing credentials: exit 2 with the ways to give them, before any request', async (t) => {
  const { Bucket, client } = await bucketFor(t, 'cli-setup')
  // No region, no credentials, no profile: an empty home and an environment without AWS_*.
  const home = mkdtempSync(join(tmpdir(), 's3-sink-home-'))
  t.teardown(() => rmSync(home, { recursive: true, force: true }))
  const bare = Object.fromEntries(Object.entries(cliEnv()).filter(([name]) => !name.startsWith('AWS_')))
  // The instance metadata service is the chain's last resort: not asked here, where there is none.
  const base = { ...bare, HOME: home, AWS_EC2_METADATA_DISABLED: 'true' }
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION } = cliEnv()
  for (const [what, env, message] of [
    [
      'no region',
      { ...base, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY },
      /no region: give --region REGION or set AWS_REGION/,
    ],
    [
      'no credentials',
      { ...base, AWS_REGION },
      /no credentials \(.*\): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE/,
    ],
  ] as const) {
    for (const args of [[`s3://${Bucket}/k`], ['ls-incomplete', `s3://${Bucket}`]]) {
      const run = await runCli([...args, ...connection()], Buffer.from('x'), env)
      t.equal(run.status, 2, `${what}, ${args[0]}: exit 2`)
      t.match(run.stderr, message, `${what}, ${args[0]}: says how to give it`)
    }
  }
  t.equal(await objectExists(client, Bucket, 'k'), false, 'nothing was stored')
})

t.test('credentials the store refuses: exit 1, the store error and what to check', async (t) => {
  const { Bucket, client } = await bucketFor(t, 'cli-refused')
  const env = { ...cliEnv(), AWS_SECRET_ACCESS_KEY: 'not-the-secret' }
  for (const size of [10, 6 * 1024 * 1024]) {
    const run = await runCli([`s3://${Bucket}/k`, ...connection(), '--part-size', '5MiB'], Buffer.alloc(size), env)
    t.equal(run.status, 1, `${size} bytes: exit 1`)
    t.match(run.stderr, /^s3-sink: ERR_S3_SINK_(PUT|CREATE)_FAILED: .*SignatureDoesNotMatch \(403\)/m)
    t.match(
      run.stderr,
      /^s3-sink: the store refused the credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/m,
    )
  }
  t.equal(await objectExists(client, Bucket, 'k'), false, 'nothing was stored')
  t.same(await incompleteUploads(client, Bucket), [], 'no upload was made')
})
