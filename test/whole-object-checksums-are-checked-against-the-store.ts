// What the store says of the object's checksum: sent with Complete for FULL_OBJECT; a store that refuses it, or
// reports another value, ends in ERR_S3_SINK_CHECKSUM_MISMATCH naming both; a store that computes the checksum
// itself (moto) verifies it.
import t from 'tap'
import { type ChecksumAlgorithm, S3Sink, S3SinkError } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { referenceObjectChecksum } from './fixtures/reference-checksums.js'
import { upload } from './fixtures/run.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { incompleteUploads, MiB, makeClient, objectExists, readObject } from './fixtures/store.js'
import { has, lacks } from './fixtures/store-support.js'

const PART = 5 * MiB
const data = pseudoRandomBytes(2 * PART + 777, 91)
const sizes = [PART, PART, 777]

t.test(
  'FULL_OBJECT: Complete carries the type and the whole value; COMPOSITE: no value',
  { skip: lacks('storedCrc32cAndCrc64') },
  async (t) => {
    const { Bucket } = await bucketFor(t, 'complete-sends')
    const { proxy, client } = await throughProxy(t, () => undefined)
    for (const type of ['FULL_OBJECT', 'COMPOSITE', undefined] as const) {
      const Key = String(type)
      const params = { Bucket, Key, ...(type ? { ChecksumType: type } : {}) }
      const sink = new S3Sink({ client, params, partSize: PART, checksum: 'CRC32C' })
      const { error } = await upload(randomChunks(data, 1000, 100_000), sink)
      t.error(error)
      const complete = proxy.seen.find((r) => r.operation === 'CompleteMultipartUpload' && r.path.endsWith(`/${Key}`))
      const create = proxy.seen.find((r) => r.operation === 'CreateMultipartUpload' && r.path.endsWith(`/${Key}`))
      if (type === 'FULL_OBJECT') {
        t.equal(create?.headers['x-amz-checksum-type'], 'FULL_OBJECT', 'Create says FULL_OBJECT')
        t.equal(complete?.headers['x-amz-checksum-type'], 'FULL_OBJECT', 'Complete says FULL_OBJECT')
        t.equal(
          complete?.headers['x-amz-checksum-crc32c'],
          await referenceObjectChecksum('CRC32C', 'FULL_OBJECT', data, sizes),
          'with the CRC32C of all the bytes',
        )
      } else {
        // COMPOSITE is the default for CRC32C: said only when asked for.
        t.equal(complete?.headers['x-amz-checksum-type'], type, `type: ${type}`)
        t.equal(complete?.headers['x-amz-checksum-crc32c'], undefined, 'no whole value')
      }
    }
  },
)

t.test('a store that refuses the whole value (BadDigest): coded, not retried, nothing left', async (t) => {
  const { Bucket, client: direct } = await bucketFor(t, 'bad-digest')
  const { proxy, client } = await throughProxy(t, (r) =>
    r.operation === 'CompleteMultipartUpload'
      ? { kind: 'error', status: 400, code: 'BadDigest', message: 'The CRC32 you specified did not match.' }
      : undefined,
  )
  const sink = new S3Sink({ client, params: { Bucket, Key: 'k', ChecksumType: 'FULL_OBJECT' }, partSize: PART })
  const { error } = await upload(randomChunks(data, 1000, 100_000), sink)
  t.type(error, S3SinkError)
  const expected = await referenceObjectChecksum('CRC32', 'FULL_OBJECT', data, sizes)
  t.match(error, { code: 'ERR_S3_SINK_CHECKSUM_MISMATCH', message: new RegExp(expected.replace(/[+/]/g, '\\$&')) })
  t.equal(proxy.seen.filter((r) => r.operation === 'CompleteMultipartUpload').length, 1, 'Complete sent once')
  t.equal((await incompleteUploads(direct, Bucket, 'k')).length, 0, 'the upload was aborted')
  t.notOk(await objectExists(direct, Bucket, 'k'), 'no object')
})

for (const [what, operation, size, rewrite] of [
  [
    'Complete answers with another composite value',
    'CompleteMultipartUpload',
    data.length,
    {
      kind: 'rewrite',
      body: (xml: string) => xml.replace('</ETag>', '</ETag><ChecksumCRC32>AAECAw==-3</ChecksumCRC32>'),
    },
  ],
  [
    'PutObject answers with another value',
    'PutObject',
    1000,
    { kind: 'rewrite', headers: { 'x-amz-checksum-crc32': 'AAECAw==' } },
  ],
] as const) {
  t.test(`${what}: coded, both values named, the object stays`, async (t) => {
    const { Bucket, client: direct } = await bucketFor(t, 'other-value')
    const { client } = await throughProxy(t, (r) => (r.operation === operation ? rewrite : undefined))
    const bytes = data.subarray(0, size)
    const sink = new S3Sink({ client, params: { Bucket, Key: 'k' }, partSize: PART })
    const { error } = await upload(randomChunks(bytes, 1000, 100_000), sink)
    const type = operation === 'PutObject' ? 'FULL_OBJECT' : 'COMPOSITE'
    const ours = await referenceObjectChecksum('CRC32', type, bytes, operation === 'PutObject' ? [size] : sizes)
    t.type(error, S3SinkError)
    const err = error as S3SinkError
    t.equal(err.code, 'ERR_S3_SINK_CHECKSUM_MISMATCH')
    t.ok(err.message.includes('AAECAw==') && err.message.includes(ours), 'the message names both values')
    t.match(err.result, { Key: 'k', size, checksum: { algorithm: 'CRC32', type, value: ours, verifiedByStore: false } })
    t.strictSame(sink.result, err.result, 'sink.result says what is stored')
    t.ok((await readObject(direct, Bucket, 'k')).equals(bytes), 'the object is stored')
    t.equal((await incompleteUploads(direct, Bucket, 'k')).length, 0, 'no upload left')
  })
}

t.test(
  'a store that keeps checksums (moto) verifies them: CRC32 and SHA values, both types',
  { skip: lacks('storedChecksums') },
  async (t) => {
    const { Bucket, client } = await bucketFor(t, 'verify')
    for (const [algorithm, type] of [
      ['CRC32', 'FULL_OBJECT'],
      ['CRC32', 'COMPOSITE'],
      ['SHA1', 'COMPOSITE'],
      ['SHA256', 'COMPOSITE'],
    ] as [ChecksumAlgorithm, 'FULL_OBJECT' | 'COMPOSITE'][]) {
      for (const bytes of [data.subarray(0, 1000), data]) {
        const Key = `${algorithm}/${type}/${bytes.length}`
        const sink = new S3Sink({
          client,
          params: { Bucket, Key, ChecksumType: type },
          partSize: PART,
          checksum: algorithm,
        })
        const { error, parts } = await upload(randomChunks(bytes, 1000, 100_000), sink)
        t.error(error, Key)
        const storedAs = parts.length === 0 ? 'FULL_OBJECT' : type
        const value = await referenceObjectChecksum(algorithm, storedAs, bytes, parts.length ? sizes : [bytes.length])
        t.strictSame(sink.result?.checksum, { algorithm, type: storedAs, value, verifiedByStore: true }, Key)
      }
    }
  },
)

t.test(
  "a store that reports a wrong CRC32C (moto without Python's crc32c): the sink says so",
  {
    skip:
      lacks('storedChecksums') ||
      (has('storedCrc32cAndCrc64') && 'this store reports right CRC32C values: there is no wrong one to catch'),
  },
  async (t) => {
    // Reading it back, the SDK would check the store's wrong CRC32C itself.
    const client = makeClient({ responseChecksumValidation: 'WHEN_REQUIRED' })
    const { Bucket } = await bucketFor(t, 'wrong-crc32c')
    const sink = new S3Sink({
      client,
      params: { Bucket, Key: 'k', ChecksumType: 'FULL_OBJECT' },
      partSize: PART,
      checksum: 'CRC32C',
    })
    const { error } = await upload(randomChunks(data, 1000, 100_000), sink)
    const theirs = await referenceObjectChecksum('CRC32', 'FULL_OBJECT', data, sizes)
    const ours = await referenceObjectChecksum('CRC32C', 'FULL_OBJECT', data, sizes)
    t.match(error, { code: 'ERR_S3_SINK_CHECKSUM_MISMATCH' })
    t.ok((error as Error).message.includes(theirs) && (error as Error).message.includes(ours), 'naming both values')
    t.ok((await readObject(client, Bucket, 'k')).equals(data), 'the object is stored')
    client.destroy()
  },
)
