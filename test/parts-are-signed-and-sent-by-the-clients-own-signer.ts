// Parts and short streams go out as one signed request each, built from the SDK's own request for the upload and
// signed with the client's own signer and credentials: what must survive that, against the real store.
import { randomBytes } from 'node:crypto'
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import { S3Sink, type S3SinkError } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { upload } from './fixtures/run.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { incompleteUploads, MiB, readObject, storeEnv } from './fixtures/store.js'
import { lacks } from './fixtures/store-support.js'

const { Bucket, client: direct } = await bucketFor(t, 'signed')
const env = storeEnv()
const second =
  process.env.S3_SECOND_ACCESS_KEY_ID && process.env.S3_SECOND_SECRET_ACCESS_KEY
    ? { accessKeyId: process.env.S3_SECOND_ACCESS_KEY_ID, secretAccessKey: process.env.S3_SECOND_SECRET_ACCESS_KEY }
    : undefined
const first = { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey }

/** Two parts and a tail, and a short stream: both request types. */
const SIZES = [11 * MiB + 123, 70_000]

t.test('keys with spaces, unicode, + and the characters S3 escapes its own way', async (t) => {
  for (const Key of ["a b/ü+é (x)*!'~.bin", 'plus+plus/ space /%41%2F', 'ключ/日本語/emoji-🙂.txt']) {
    for (const size of SIZES) {
      const data = pseudoRandomBytes(size, size % 97)
      const sink = new S3Sink({ client: direct, params: { Bucket, Key }, partSize: 5 * MiB })
      const { error } = await upload(randomChunks(data, 32 * 1024, 256 * 1024), sink)
      t.equal(error, undefined, `${Key} (${size} bytes)`)
      t.ok((await readObject(direct, Bucket, Key)).equals(data), `${Key} (${size} bytes): read back whole`)
    }
  }
})

t.test('a secret that holds + / and =', { skip: !second && 'the store has no second user' }, async (t) => {
  const { client, proxy } = await throughProxy(t, () => undefined, { credentials: second })
  for (const size of SIZES) {
    const Key = `second-user-${size}`
    const data = pseudoRandomBytes(size, 3)
    const { error } = await upload(
      randomChunks(data, 64 * 1024, 64 * 1024),
      new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB }),
    )
    t.equal(error, undefined)
    t.ok((await readObject(direct, Bucket, Key)).equals(data))
  }
  t.ok(
    proxy.seen.some(
      (r) => r.operation === 'UploadPart' && String(r.headers.authorization).includes(second?.accessKeyId ?? ''),
    ),
    'the parts were signed with it',
  )
})

t.test(
  'credentials that change mid-upload are followed',
  { skip: !second && 'the store has no second user' },
  async (t) => {
    let calls = 0
    // Expiring within the SDK's refresh window: the client asks the provider again at every request.
    const credentials = async () => {
      calls++
      return { ...(calls % 2 ? first : second), expiration: new Date(Date.now() + 60_000) }
    }
    const { client, proxy } = await throughProxy(t, () => undefined, { credentials: credentials as never })
    const data = pseudoRandomBytes(26 * MiB, 4)
    const Key = 'rotated'
    const { error } = await upload(
      randomChunks(data, 64 * 1024, 64 * 1024),
      new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, concurrency: 2 }),
    )
    t.equal(error, undefined)
    t.ok((await readObject(direct, Bucket, Key)).equals(data))
    const signers = new Set(
      proxy.seen
        .filter((r) => r.operation === 'UploadPart')
        .map((r) => String(r.headers.authorization).match(/Credential=([^/]+)/)?.[1]),
    )
    t.same([...signers].sort(), [first.accessKeyId, second?.accessKeyId].sort(), 'parts signed by both identities')
  },
)

t.test(
  'SSE-C headers go with every part, and the object reads back with the key only',
  { skip: lacks('sseC') },
  async (t) => {
    const { client, proxy } = await throughProxy(t, () => undefined)
    const key = randomBytes(32).toString('base64')
    const sse = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key }
    const Key = 'sse-c'
    const data = pseudoRandomBytes(11 * MiB, 5)
    const { error } = await upload(
      randomChunks(data, 64 * 1024, 64 * 1024),
      new S3Sink({ client, params: { Bucket, Key, ...sse }, partSize: 5 * MiB }),
    )
    t.equal(error, undefined)
    const parts = proxy.seen.filter((r) => r.operation === 'UploadPart')
    t.equal(parts.length, 3)
    t.ok(
      parts.every(
        (r) =>
          r.headers['x-amz-server-side-encryption-customer-algorithm'] === 'AES256' &&
          typeof r.headers['x-amz-server-side-encryption-customer-key-md5'] === 'string' &&
          String(r.headers['x-amz-server-side-encryption-customer-key']).length > 0,
      ),
      'each part carries the SSE-C headers',
    )
    const got = await direct.send(new GetObjectCommand({ Bucket, Key, ...sse }))
    const bytes = Buffer.from(
      await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    )
    t.ok(bytes.equals(data))
    const withoutKey = await direct.send(new HeadObjectCommand({ Bucket, Key })).then(
      () => 200,
      (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode,
    )
    t.equal(withoutKey, 400, 'encrypted: refused without the key')
  },
)

t.test('checksum: false with a default client sends no checksum and no aws-chunked framing', async (t) => {
  const { client, proxy } = await throughProxy(t, () => undefined)
  for (const size of SIZES) {
    const Key = `no-checksum-${size}`
    const data = pseudoRandomBytes(size, 6)
    const { error } = await upload(
      randomChunks(data, 64 * 1024, 64 * 1024),
      new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, checksum: false }),
    )
    t.equal(error, undefined, `${size} bytes stored (Swift answers 501 and Ceph RGW 411 to aws-chunked)`)
    t.ok((await readObject(direct, Bucket, Key)).equals(data))
  }
  const bodies = proxy.seen.filter((r) => r.operation === 'UploadPart' || r.operation === 'PutObject')
  t.ok(bodies.length >= 3)
  for (const r of bodies) {
    t.same(
      Object.keys(r.headers).filter((h) => h.startsWith('x-amz-checksum-') || h === 'x-amz-trailer'),
      [],
      `${r.operation}: no checksum header`,
    )
    t.not(r.headers['content-encoding'], 'aws-chunked')
    t.equal(r.headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD')
    t.equal(r.headers.expect, undefined, 'no Expect: 100-continue')
  }
})

t.test(
  'a signature the store refuses fails the part at once, with its code',
  { skip: lacks('signatures') },
  async (t) => {
    let wrong = false
    const credentials = async () => ({
      ...(wrong ? { ...first, secretAccessKey: 'not-the-secret' } : first),
      expiration: new Date(Date.now() + 60_000),
    })
    // Parts are signed with a wrong secret from the moment the upload is created until the first part is sent.
    const { proxy, client } = await throughProxy(
      t,
      (r) => {
        if (r.operation === 'CreateMultipartUpload') wrong = true
        if (r.operation === 'UploadPart') wrong = false
        return undefined
      },
      { credentials: credentials as never },
    )
    const Key = 'bad-signature'
    const { error } = await upload(
      randomChunks(pseudoRandomBytes(6 * MiB, 7), 64 * 1024, 64 * 1024),
      new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, concurrency: 1 }),
    )
    t.match(error, {
      code: 'ERR_S3_SINK_PART_FAILED',
      partNumber: 1,
      attempts: 1,
      statusCode: 403,
      cause: { name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } },
    })
    t.notOk((error as S3SinkError).abortError, 'the upload was aborted')
    t.equal(proxy.seen.filter((r) => r.operation === 'UploadPart').length, 1, 'not retried')
    t.same(await incompleteUploads(direct, Bucket, Key), [])
  },
)
