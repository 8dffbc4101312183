import t from 'tap'
import { formatBytes, formatDuration, parseDuration, parseS3Url, parseSize } from '../cli/units.js'

t.test('sizes: bytes and binary units, as aws-cli reads them', async (t) => {
  for (const [text, bytes] of [
    ['1048576', 2 ** 20],
    ['16MiB', 16 * 2 ** 20],
    ['8M', 8 * 2 ** 20],
    ['8MB', 8 * 2 ** 20],
    ['1.5GiB', 1.5 * 2 ** 30],
    ['2 t', 2 * 2 ** 40],
    ['512k', 512 * 1024],
  ] as const) {
    t.equal(parseSize(text), bytes, text)
  }
  for (const bad of ['', 'big', '5XB', '-5M', '1e9']) t.throws(() => parseSize(bad), { name: 'UsageError' }, bad)
})

t.test('durations', async (t) => {
  t.equal(parseDuration('90s'), 90_000)
  t.equal(parseDuration('7d'), 7 * 86_400_000)
  t.equal(parseDuration('2w'), 14 * 86_400_000)
  t.throws(() => parseDuration('7'), { name: 'UsageError' })
})

t.test('s3 addresses', async (t) => {
  t.same(parseS3Url('s3://bucket/a/b/c.gz'), { bucket: 'bucket', key: 'a/b/c.gz' })
  t.same(parseS3Url('s3://bucket'), { bucket: 'bucket', key: '' })
  t.same(parseS3Url('s3://bucket/'), { bucket: 'bucket', key: '' })
  t.throws(() => parseS3Url('bucket/key'), { name: 'UsageError' })
})

t.test('formatting for people', async (t) => {
  t.equal(formatBytes(512), '512 B')
  t.equal(formatBytes(5 * 2 ** 20), '5.00 MiB')
  t.equal(formatBytes(12.5 * 2 ** 30), '12.5 GiB')
  t.equal(formatDuration(65_000), '1:05')
  t.equal(formatDuration(3_725_000), '1:02:05')
})
