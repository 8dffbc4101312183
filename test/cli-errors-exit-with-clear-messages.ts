import t from 'tap'
import { bucketFor } from './fixtures/bucket.js'
import { connection, runCli } from './fixtures/cli.js'

t.test('usage errors exit 2 with one line and the usage hint', async (t) => {
  for (const [args, message] of [
    [[], /missing the s3:\/\/bucket\/key/],
    [['s3://bucket'], /missing the key/],
    [['http://bucket/key'], /not an s3:\/\/ address/],
    [['s3://b/k', '--bogus'], /Unknown option '--bogus'/],
    [['s3://b/k', '--part-size', 'big'], /not a size: "big"/],
    [['s3://b/k', '--part-size', '1K'], /partSize must be between 5 MiB and 5 GiB, got 1024/],
    [['s3://b/k', '--concurrency', '0'], /concurrency must be between 1 and 10000, got 0/],
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
    t.match(run.stderr, /^s3-sink: .*\nTry 's3-sink --help'\.\n$/, 'one line and the hint')
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
