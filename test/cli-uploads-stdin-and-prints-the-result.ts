import t from 'tap'
import { bucketFor } from './fixtures/bucket.js'
import { connection, runCli } from './fixtures/cli.js'
import { referenceObjectChecksum } from './fixtures/reference-checksums.js'
import { pseudoRandomBytes } from './fixtures/sources.js'
import { headObject, MiB, readObject } from './fixtures/store.js'
import { has, lacks } from './fixtures/store-support.js'

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
  const crc = await referenceObjectChecksum('CRC32', 'FULL_OBJECT', Buffer.from('hello'), [5])
  t.equal(run.stdout.split('\t')[3], `CRC32:${crc}\n`, 'the checksum last')
  t.match(run.stdout, new RegExp(`^s3://${Bucket}/small\\.txt\\t5\\t"[0-9a-f]{32}"\\tCRC32:[^\\t]+\\n$`))
  t.equal(run.stderr, '')
  t.equal((await readObject(client, Bucket, 'small.txt')).toString(), 'hello')
})

t.test(
  '--checksum and --checksum-type: the whole-object checksum in --json and in the summary',
  { skip: lacks('storedCrc32cAndCrc64') },
  async (t) => {
    const data = pseudoRandomBytes(11 * MiB + 3, 93)
    for (const [type, word] of [
      ['FULL_OBJECT', 'full'],
      ['COMPOSITE', 'composite'],
    ] as const) {
      const run = await runCli(
        [`s3://${Bucket}/sum-${word}`, ...connection(), '--part-size', '5MiB', '--json', '--progress'].concat([
          '--checksum',
          'crc32c',
          '--checksum-type',
          word,
        ]),
        data,
      )
      t.equal(run.status, 0, run.stderr)
      const value = await referenceObjectChecksum('CRC32C', type, data, [5 * MiB, 5 * MiB, MiB + 3])
      const verifiedByStore = has('storedChecksums')
      t.strictSame(JSON.parse(run.stdout).checksum, { algorithm: 'CRC32C', type, value, verifiedByStore })
      const what = type === 'FULL_OBJECT' ? 'of the whole object' : 'of its parts'
      const how = verifiedByStore ? 'verified by the store' : 'computed while sending'
      t.ok(run.stderr.includes(`; CRC32C ${what} ${value}, ${how}`), 'and in the summary')
    }
    const bad = await runCli([`s3://${Bucket}/bad`, ...connection(), '--checksum-type', 'whole'], Buffer.from('x'))
    t.equal(bad.status, 2)
    t.match(bad.stderr, /--checksum-type must be full or composite, got whole/)
    const rule = await runCli(
      [`s3://${Bucket}/rule`, ...connection(), '--checksum', 'sha256', '--checksum-type', 'full'],
      Buffer.from('x'),
    )
    t.equal(rule.status, 2, 'a combination S3 does not have is a usage error')
    t.match(rule.stderr, /--checksum-type full needs --checksum CRC32, CRC32C or CRC64NVME, got SHA256/)
  },
)

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
