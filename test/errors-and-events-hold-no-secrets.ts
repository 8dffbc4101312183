// No credential, session token, SSE-C key, signature or raw request/response is reachable from an error (its
// cause chain and non-enumerable properties included), a 'retry' event or a checkpoint. What users need stays:
// name, Code, HTTP status, request id.
import { randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import t, { type Test } from 'tap'
import { type RetryInfo, S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { upload } from './fixtures/run.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { MiB, storeEnv } from './fixtures/store.js'
import { lacks } from './fixtures/store-support.js'

const { Bucket } = await bucketFor(t, 'secrets')
const env = storeEnv()
const sseKey = randomBytes(32)
const sessionToken = `SESSION${randomBytes(12).toString('hex')}`

/** Everything reachable from `value`, hidden properties and getters' values included, as one string. */
function everything(value: unknown): string {
  return inspect(value, { showHidden: true, depth: Number.POSITIVE_INFINITY, getters: true, maxStringLength: null })
}

function assertClean(t: Test, what: string, text: string, secrets: string[]) {
  for (const secret of secrets) t.notOk(text.includes(secret), `${what} does not hold ${secret.slice(0, 12)}…`)
  t.notOk(/Signature=|AWS4-HMAC-SHA256 Credential|x-amz-server-side-encryption-customer-key:/i.test(text), what)
  t.notOk(/StringToSign|CanonicalRequest|SignatureProvided/.test(text), `${what}: no signing material`)
}

t.test('SSE-C key and session token: not in the error, its causes or retry events', async (t) => {
  // The first attempt at every request meets a 503, so every request type emits a retry event; Complete
  // keeps failing, so the upload ends in an error. Create's answer confirms SSE-C as AWS's does: a store that
  // ignores SSE-C (Swift, moto) does not, and the sink would stop there.
  const { client } = await throughProxy(
    t,
    (r) =>
      r.operation === 'CompleteMultipartUpload'
        ? { kind: 'error', status: 500, code: 'InternalError' }
        : r.repeat === 0
          ? { kind: 'error', status: 503, code: 'SlowDown' }
          : r.operation === 'CreateMultipartUpload'
            ? { kind: 'rewrite', headers: { 'x-amz-server-side-encryption-customer-algorithm': 'AES256' } }
            : undefined,
    { credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey, sessionToken } },
  )
  const sink = new S3Sink({
    client,
    params: {
      Bucket,
      Key: 'sse-c',
      SSECustomerAlgorithm: 'AES256',
      SSECustomerKey: sseKey.toString('base64'),
    },
    partSize: 5 * MiB,
    retryBaseDelay: 5,
    maxAttempts: 3,
  })
  const retries: RetryInfo[] = []
  sink.on('retry', (r) => retries.push(r))
  const checkpoints: unknown[] = []
  sink.on('checkpoint', (c) => checkpoints.push(c))
  const { error } = await upload(randomChunks(pseudoRandomBytes(6 * MiB, 51), 64 * 1024, 64 * 1024), sink)
  t.match(error, { code: 'ERR_S3_SINK_COMPLETE_FAILED', cause: { name: 'InternalError' } })
  t.ok(retries.length > 0, 'and retry events')
  const secrets = [sseKey.toString('base64'), sessionToken, env.secretAccessKey]
  assertClean(t, 'the error', everything(error), secrets)
  assertClean(t, 'the retry events', everything(retries), secrets)
  assertClean(t, 'the checkpoints', JSON.stringify(checkpoints), secrets)
  t.match(retries[0], {
    operation: String,
    attempt: 1,
    error: { name: 'SlowDown', $metadata: { httpStatusCode: 503 } },
  })
})

t.test('a signature error keeps its code and status, not what was signed', { skip: lacks('signatures') }, async (t) => {
  const wrongSecret = `WRONG${randomBytes(12).toString('hex')}`
  const { client } = await throughProxy(t, () => undefined, {
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: wrongSecret },
  })
  const sink = new S3Sink({ client, params: { Bucket, Key: 'bad-signature' }, partSize: 5 * MiB })
  const { error } = await upload(randomChunks(pseudoRandomBytes(6 * MiB, 52), 64 * 1024, 64 * 1024), sink)
  t.match(error, {
    code: 'ERR_S3_SINK_CREATE_FAILED',
    statusCode: 403,
    attempts: 1,
    cause: { name: String, $metadata: { httpStatusCode: 403 } },
  })
  assertClean(t, 'the error', everything(error), [wrongSecret])
})
