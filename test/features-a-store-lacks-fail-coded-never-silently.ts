// What a store does not support — server-side encryption, SSE-C, conditional writes — ends in
// ERR_S3_SINK_NOT_SUPPORTED naming the feature, whether the store refuses it (501 Not Implemented, or encryption
// refused over plain HTTP) or takes the headers and ignores them; never in a raw 501 or a silent success. Where
// the store supports it, the object is stored as asked. Against the real store: its answers decide which.
import { randomBytes } from 'node:crypto'
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import t, { type Test } from 'tap'
import { S3Sink, type S3SinkError, type S3SinkParams } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { upload } from './fixtures/run.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { incompleteUploads, MiB, objectExists, readObject } from './fixtures/store.js'
import { type Feature, has, lacks } from './fixtures/store-support.js'

const { Bucket, client } = await bucketFor(t, 'features')
const customerKey = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: randomBytes(32).toString('base64') }

/** A stream shorter than a part (one PutObject) and one of three parts (a multipart upload). */
const SHAPES = [
  ['PutObject', 1000],
  ['multipart', 11 * MiB],
] as const

async function store(Key: string, size: number, params: Partial<S3SinkParams>) {
  const data = pseudoRandomBytes(size, size % 251)
  const sink = new S3Sink({ client, params: { Bucket, Key, ...params }, partSize: 5 * MiB })
  const { error } = await upload(randomChunks(data, 16 * 1024, 256 * 1024), sink)
  return { data, error: error as S3SinkError | undefined }
}

/** A failure for want of `feature`: coded, naming it, not retried, no upload left; the message says what is stored. */
async function assertNotSupported(t: Test, Key: string, error: S3SinkError | undefined, named: RegExp) {
  t.match(error, { name: 'S3SinkError', code: 'ERR_S3_SINK_NOT_SUPPORTED', message: named })
  t.notOk(error?.attempts && error.attempts > 1, 'not retried')
  t.same(await incompleteUploads(client, Bucket, Key), [], 'no upload left')
  t.equal(
    await objectExists(client, Bucket, Key),
    /the object was stored/.test(error?.message ?? ''),
    'stored only if the message says so',
  )
}

for (const [feature, params, named] of [
  ['sse', { ServerSideEncryption: 'AES256' }, /does not support server-side encryption/],
  ['sseC', customerKey, /does not support server-side encryption with customer keys \(SSE-C\)/],
] as [Feature, Partial<S3SinkParams>, RegExp][]) {
  for (const [shape, size] of SHAPES) {
    t.test(`${feature}, ${shape}: stored encrypted where supported, else ERR_S3_SINK_NOT_SUPPORTED`, async (t) => {
      const Key = `${feature}/${shape}`
      const { data, error } = await store(Key, size, params)
      if (!has(feature)) {
        t.comment(`where not supported: ${lacks(feature)}`)
        return assertNotSupported(t, Key, error, named)
      }
      t.error(error, 'stored')
      if (feature === 'sse') {
        const head = await client.send(new HeadObjectCommand({ Bucket, Key }))
        t.equal(head.ServerSideEncryption, 'AES256', 'the store says it is encrypted')
        t.ok((await readObject(client, Bucket, Key)).equals(data), 'read back whole')
      } else {
        const withoutKey = await client.send(new HeadObjectCommand({ Bucket, Key })).then(
          () => 200,
          (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode,
        )
        t.equal(withoutKey, 400, 'encrypted: refused without the key')
        const head = await client.send(new HeadObjectCommand({ Bucket, Key, ...customerKey }))
        t.equal(head.ContentLength, size, 'readable with the key only')
      }
    })
  }
}

for (const [shape, size] of SHAPES) {
  const feature: Feature = shape === 'PutObject' ? 'conditionalPut' : 'conditionalComplete'
  const refused = shape === 'PutObject' ? 'ERR_S3_SINK_PUT_FAILED' : 'ERR_S3_SINK_COMPLETE_FAILED'
  // A store that refuses it says so (501); one that ignores it on Complete (Ceph RGW) overwrites the object,
  // which the sink cannot see: skipped there, and docs/stores.md says so.
  t.test(
    `IfNoneMatch: '*', ${shape}: an existing object is kept (412), a new key is stored`,
    { skip: shape === 'multipart' && lacks(feature) },
    async (t) => {
      const Key = `conditional/${shape}`
      await client.send(new PutObjectCommand({ Bucket, Key, Body: 'first' }))
      const { error } = await store(Key, size, { IfNoneMatch: '*' })
      if (has(feature)) {
        t.match(error, { code: refused, statusCode: 412 }, 'refused: the key exists')
        t.same(await incompleteUploads(client, Bucket, Key), [], 'no upload left')
      } else {
        t.match(error, {
          code: 'ERR_S3_SINK_NOT_SUPPORTED',
          statusCode: 501,
          message: /does not support conditional writes \(IfNoneMatch\)/,
        })
      }
      t.equal((await readObject(client, Bucket, Key)).toString(), 'first', 'the object is unchanged')
      if (!has(feature)) return
      const fresh = await store(`${Key}/new`, size, { IfNoneMatch: '*' })
      t.error(fresh.error, 'a new key is stored')
      t.ok((await readObject(client, Bucket, `${Key}/new`)).equals(fresh.data))
    },
  )
}

t.test('encryption refused over plain HTTP (400 InvalidRequest, as Ceph RGW answers it): names TLS', async (t) => {
  const { client: proxied } = await throughProxy(t, (r) =>
    r.operation === 'CreateMultipartUpload' ? { kind: 'error', status: 400, code: 'InvalidRequest' } : undefined,
  )
  const sink = new S3Sink({ client: proxied, params: { Bucket, Key: 'over-http', ...customerKey }, partSize: 5 * MiB })
  const { error } = await upload(randomChunks(pseudoRandomBytes(6 * MiB, 3), 64 * 1024, 64 * 1024), sink)
  t.match(error, {
    code: 'ERR_S3_SINK_NOT_SUPPORTED',
    statusCode: 400,
    message:
      /refuses server-side encryption with customer keys \(SSE-C\) \(SSECustomerAlgorithm, SSECustomerKey.*over plain HTTP.*https:\/\//,
  })
  t.notOk(String((error as Error).message).includes(customerKey.SSECustomerKey), 'the key is not in the message')
  t.same(await incompleteUploads(client, Bucket, 'over-http'), [])
})

t.test('a 501 to a request that asks for nothing special names the request', async (t) => {
  const { client: proxied } = await throughProxy(t, (r) =>
    r.operation === 'CreateMultipartUpload'
      ? { kind: 'error', status: 501, code: 'NotImplemented', message: 'A header you provided implies functionality' }
      : undefined,
  )
  for (const [checksum, named] of [
    [false, /CreateMultipartUpload failed after 1 attempt: the store does not implement CreateMultipartUpload/],
    ['CRC32', /the store does not support checksums .*\(ChecksumAlgorithm\)/],
  ] as const) {
    const sink = new S3Sink({ client: proxied, params: { Bucket, Key: 'plain' }, partSize: 5 * MiB, checksum })
    const { error } = await upload(randomChunks(pseudoRandomBytes(6 * MiB, 4), 64 * 1024, 64 * 1024), sink)
    t.match(error, { code: 'ERR_S3_SINK_NOT_SUPPORTED', statusCode: 501, attempts: 1, message: named })
  }
})
