import t from 'tap'
import { loadHasher } from '../lib/checksum/checksum.js'
import { type ChecksumAlgorithm, S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { upload } from './fixtures/run.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { MiB, readObject } from './fixtures/store.js'
import { has, lacks } from './fixtures/store-support.js'

const { Bucket, client: direct } = await bucketFor(t, 'checksums')
const partSize = 5 * MiB

for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256', false] as (ChecksumAlgorithm | false)[]) {
  // A store that reports wrong CRC32C and CRC64NVME values fails those uploads, rightly.
  const wrongValues = algorithm === 'CRC32C' || algorithm === 'CRC64NVME' ? lacks('storedCrc32cAndCrc64') : false
  t.test(`checksum ${algorithm}`, { skip: wrongValues }, async (t) => {
    // Without a checksum of ours, the SDK must not add its own either (it would send aws-chunked).
    const { proxy, client } = await throughProxy(
      t,
      () => undefined,
      algorithm === false ? { requestChecksumCalculation: 'WHEN_REQUIRED' } : {},
    )
    const Key = `sum-${algorithm}`
    const data = pseudoRandomBytes(2 * partSize + 4321, 31)
    const sink = new S3Sink({ client, params: { Bucket, Key }, partSize, checksum: algorithm })
    const { error, parts } = await upload(randomChunks(data, 1, 128 * 1024), sink)
    t.equal(error, undefined)
    t.ok((await readObject(direct, Bucket, Key)).equals(data), 'stored bytes intact')
    t.equal(parts.length, 3)

    const uploads = proxy.seen.filter((r) => r.operation === 'UploadPart')
    t.equal(uploads.length, 3)
    const header = algorithm === false ? undefined : `x-amz-checksum-${algorithm.toLowerCase()}`
    const newHasher = algorithm === false ? undefined : await loadHasher(algorithm)
    for (const req of uploads) {
      const n = req.partNumber!
      t.equal(req.headers['content-encoding'], undefined, `part ${n}: no aws-chunked framing`)
      t.equal(req.headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD', `part ${n}: no SHA-256 pass over the body`)
      t.equal(Number(req.headers['content-length']), Math.min(partSize, data.length - (n - 1) * partSize))
      if (header && newHasher) {
        const h = newHasher()
        h.update(data.subarray((n - 1) * partSize, n * partSize))
        t.equal(req.headers[header], await h.digest(), `part ${n}: ${header} is the checksum of its bytes`)
      } else {
        t.notOk(
          Object.keys(req.headers).some((name) => name.startsWith('x-amz-checksum-')),
          `part ${n}: no checksum header`,
        )
      }
    }
    const create = proxy.seen.find((r) => r.operation === 'CreateMultipartUpload')
    t.equal(create?.headers['x-amz-checksum-algorithm'], algorithm === false ? undefined : algorithm)
    // Swift does not echo part checksums, and rejects a Complete that lists them: a part's checksum goes into
    // Complete only when the store echoed it (moto does; AWS does).
    const complete = proxy.seen.find((r) => r.operation === 'CompleteMultipartUpload')
    t.match(complete?.body, /<PartNumber>3<\/PartNumber>/)
    const echoed = algorithm !== false && has('echoesPartChecksums')
    t.same(
      parts.map((p) => p.checksumAcknowledged),
      parts.map(() => (algorithm === false ? undefined : echoed)),
      echoed ? 'the store echoed every part checksum' : 'the store echoed no part checksum',
    )
    const listed = complete?.body?.match(/<Checksum[A-Z0-9]+>/g) ?? []
    t.equal(listed.length, echoed ? 3 : 0, 'Complete lists the checksums the store acknowledged, and no other')
  })
}

t.test('a PutObject carries the checksum of the whole object', async (t) => {
  const { proxy, client } = await throughProxy(t, () => undefined)
  const data = pseudoRandomBytes(300_000, 32)
  const sink = new S3Sink({ client, params: { Bucket, Key: 'put-sum' }, checksum: 'CRC32C' })
  await upload(randomChunks(data, 1000, 50_000), sink)
  const put = proxy.seen.find((r) => r.operation === 'PutObject')
  const h = (await loadHasher('CRC32C'))()
  h.update(data)
  t.equal(put?.headers['x-amz-checksum-crc32c'], await h.digest())
  t.equal(put?.headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD')
  t.ok((await readObject(direct, Bucket, 'put-sum')).equals(data))
})
