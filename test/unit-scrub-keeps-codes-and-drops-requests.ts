import t from 'tap'
import { S3SinkError } from '../lib/index.js'
import { scrub } from '../lib/store/scrub.js'

t.test('an SDK error keeps name, message, codes, status and request ids; nothing else', async (t) => {
  const request = { headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIA/…, Signature=abc' } }
  const sdkError = Object.assign(new Error('The request signature we calculated does not match'), {
    name: 'SignatureDoesNotMatch',
    Code: 'SignatureDoesNotMatch',
    $fault: 'client',
    $metadata: { httpStatusCode: 403, requestId: 'req-1', extendedRequestId: 'ext-1', attempts: 1 },
    StringToSign: 'AWS4-HMAC-SHA256\n…',
    CanonicalRequest: 'PUT\n/b/k\n…',
    AWSAccessKeyId: 'AKIAEXAMPLE',
  })
  Object.defineProperty(sdkError, '$response', { value: { body: { req: request } }, enumerable: false })
  const copy = scrub(sdkError) as Record<string, unknown> & Error
  t.not(copy, sdkError)
  t.equal(copy.name, 'SignatureDoesNotMatch')
  t.equal(copy.message, sdkError.message)
  t.equal(copy.Code, 'SignatureDoesNotMatch')
  t.equal(copy.$fault, 'client')
  t.same(copy.$metadata, { httpStatusCode: 403, requestId: 'req-1', extendedRequestId: 'ext-1' })
  t.equal(copy.stack, sdkError.stack)
  for (const gone of ['$response', 'StringToSign', 'CanonicalRequest', 'AWSAccessKeyId']) {
    t.equal(Object.getOwnPropertyDescriptor(copy, gone), undefined, `no ${gone}`)
  }
})

t.test('network errors keep their codes; causes are scrubbed too; our own errors pass unchanged', async (t) => {
  const net = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
    code: 'ECONNREFUSED',
    errno: -111,
    syscall: 'connect',
    address: '127.0.0.1',
    port: 9,
    socket: { secret: 'x' },
  })
  const outer = new Error('socket hang up', { cause: net })
  const copy = scrub(outer) as Error & { cause: Record<string, unknown> }
  t.match(copy.cause, { code: 'ECONNREFUSED', errno: -111, syscall: 'connect', address: '127.0.0.1', port: 9 })
  t.equal(copy.cause.socket, undefined)
  const own = new S3SinkError('ERR_S3_SINK_STALLED', 'stalled')
  t.equal(scrub(own), own)
  t.equal(scrub('text'), 'text')
  t.equal(scrub(undefined), undefined)
})

t.test('a cause chain that loops or runs deep is cut', async (t) => {
  const a = new Error('a')
  const b = new Error('b', { cause: a })
  ;(a as { cause?: unknown }).cause = b
  let depth = 0
  for (let e = scrub(a) as { cause?: unknown } | undefined; e; e = e.cause as { cause?: unknown } | undefined) depth++
  t.ok(depth <= 5, `stops after ${depth} levels`)
})
