import t from 'tap'
import { S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { upload } from './fixtures/run.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { MiB, readObject } from './fixtures/store.js'
import { has, lacks } from './fixtures/store-support.js'

t.test(
  'a store that echoes part checksums (as AWS does) gets them back in Complete',
  { skip: lacks('partChecksumsInComplete') },
  async (t) => {
    const { Bucket, client: direct } = await bucketFor(t, 'echo')
    // Where the store does not echo the header itself, the proxy answers as AWS does, with the header echoed.
    const { proxy, client } = await throughProxy(t, (r) =>
      r.operation === 'UploadPart'
        ? { kind: 'rewrite', headers: { 'x-amz-checksum-crc32': String(r.headers['x-amz-checksum-crc32']) } }
        : undefined,
    )
    const data = pseudoRandomBytes(11 * MiB, 81)
    const sink = new S3Sink({ client, params: { Bucket, Key: 'k' }, partSize: 5 * MiB, checksum: 'CRC32' })
    const { error, parts } = await upload(randomChunks(data, 64 * 1024, 64 * 1024), sink)
    t.equal(error, undefined)
    t.ok(
      parts.every((p) => p.checksumAcknowledged === true),
      'every part checksum was acknowledged',
    )
    const complete = proxy.seen.find((r) => r.operation === 'CompleteMultipartUpload')?.body ?? ''
    for (const p of parts) {
      const element = `<ChecksumCRC32>${p.checksum}</ChecksumCRC32><PartNumber>${p.partNumber}</PartNumber>`
      t.ok(complete.includes(element), `part ${p.partNumber}'s checksum is in Complete`)
    }
    t.ok((await readObject(direct, Bucket, 'k')).equals(data))
    t.equal(
      sink.result?.checksum?.verifiedByStore,
      has('storedChecksums'),
      'verified where the store keeps checksums: its own composite CRC32 of the object agrees',
    )
  },
)

t.test('an empty ETag from Complete (Ceph RGW) is read back with HeadObject', async (t) => {
  const { Bucket, client: direct } = await bucketFor(t, 'empty-etag')
  const { proxy, client } = await throughProxy(t, (r) =>
    r.operation === 'CompleteMultipartUpload'
      ? { kind: 'rewrite', body: (xml) => xml.replace(/<ETag>[^<]*<\/ETag>/, '<ETag></ETag>') }
      : undefined,
  )
  const sink = new S3Sink({ client, params: { Bucket, Key: 'k' }, partSize: 5 * MiB })
  const { error } = await upload(randomChunks(pseudoRandomBytes(6 * MiB, 82), 64 * 1024, 64 * 1024), sink)
  t.equal(error, undefined)
  t.ok(
    proxy.seen.some((r) => r.operation === 'HeadObject'),
    'the sink asked HeadObject',
  )
  const { HeadObjectCommand } = await import('@aws-sdk/client-s3')
  const head = await direct.send(new HeadObjectCommand({ Bucket, Key: 'k' }))
  t.equal(sink.result?.ETag, head.ETag)
  t.match(sink.result?.ETag, /-2"$/)
})
