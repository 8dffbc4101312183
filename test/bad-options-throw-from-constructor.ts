import t from 'tap'
import { S3Sink, type S3SinkOptions } from '../lib/index.js'
import { sdkClient } from './fixtures/store.js'

const client = sdkClient({
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:9',
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
})
const params = { Bucket: 'b', Key: 'k' }
const MiB = 1024 * 1024
const state = {
  version: 1,
  bucket: 'b',
  key: 'k',
  uploadId: 'u',
  partSize: 8 * MiB,
  maxParts: 10_000,
  uniformParts: false,
  checksum: 'CRC32',
  parts: [],
  bytesUploaded: 0,
}

// [what, options, error class, code, message pattern]
const cases: [string, unknown, typeof TypeError | typeof RangeError, string, RegExp][] = [
  ['no options', undefined, TypeError, 'ERR_INVALID_ARG_TYPE', /^options must be an object, got undefined$/],
  ['no client', { params }, TypeError, 'ERR_INVALID_ARG_TYPE', /^client must be an S3Client, got undefined$/],
  ['a client without send', { client: {}, params }, TypeError, 'ERR_INVALID_ARG_TYPE', /^client must be an S3Client/],
  ['no params', { client }, TypeError, 'ERR_INVALID_ARG_TYPE', /^params must be an object with Bucket and Key/],
  [
    'no Bucket',
    { client, params: { Key: 'k' } },
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    /^params\.Bucket must be a non-empty string, got undefined$/,
  ],
  [
    'a Key over 1,024 bytes in UTF-8',
    { client, params: { Bucket: 'b', Key: 'é'.repeat(513) } },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^params\.Key must be at most 1024 bytes long in UTF-8 \(S3's limit\), got 1026 bytes$/,
  ],
  [
    'empty Key',
    { client, params: { Bucket: 'b', Key: '' } },
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    /^params\.Key must be a non-empty string, got type string \(""\)$/,
  ],
  [
    'numeric Key',
    { client, params: { Bucket: 'b', Key: 7 } },
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    /^params\.Key must be a non-empty string, got type number \(7\)$/,
  ],
  [
    'partSize too small',
    { client, params, partSize: 1024 },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^partSize must be between 5 MiB and 5 GiB, got 1024$/,
  ],
  [
    'partSize too large',
    { client, params, partSize: 5 * 1024 * MiB + 1 },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^partSize must be between 5 MiB and 5 GiB, got 5368709121$/,
  ],
  [
    'fractional partSize',
    { client, params, partSize: 5 * MiB + 0.5 },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^partSize must be an integer between 5 MiB and 5 GiB, got 5242880\.5$/,
  ],
  [
    'partSize as a string',
    { client, params, partSize: '8MiB' },
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    /^partSize must be a number, got type string \("8MiB"\)$/,
  ],
  [
    'concurrency 0',
    { client, params, concurrency: 0 },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^concurrency must be between 1 and 10000, got 0$/,
  ],
  [
    'concurrency NaN',
    { client, params, concurrency: Number.NaN },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^concurrency must be an integer between 1 and 10000, got NaN$/,
  ],
  [
    'maxParts 0',
    { client, params, maxParts: 0 },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^maxParts must be between 1 and 10000, got 0$/,
  ],
  [
    'maxParts 10001',
    { client, params, maxParts: 10_001 },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^maxParts must be between 1 and 10000, got 10001$/,
  ],
  [
    'maxAttempts 0',
    { client, params, maxAttempts: 0 },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^maxAttempts must be between 1 and 1000, got 0$/,
  ],
  [
    'negative stallTimeout',
    { client, params, stallTimeout: -1 },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^stallTimeout must be between 0 and/,
  ],
  [
    'negative cleanupTimeout',
    { client, params, cleanupTimeout: -1 },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^cleanupTimeout must be between 0 and 2147483647, got -1$/,
  ],
  [
    'cleanupTimeout past the longest timer',
    { client, params, cleanupTimeout: 2 ** 31 },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^cleanupTimeout must be between 0 and 2147483647, got 2147483648$/,
  ],
  [
    'fractional cleanupTimeout',
    { client, params, cleanupTimeout: 1.5 },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^cleanupTimeout must be an integer between 0 and 2147483647, got 1\.5$/,
  ],
  [
    'cleanupTimeout as a string',
    { client, params, cleanupTimeout: '30s' },
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    /^cleanupTimeout must be a number, got type string \("30s"\)$/,
  ],
  [
    'negative retryBaseDelay',
    { client, params, retryBaseDelay: -5 },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^retryBaseDelay must be between 0 and/,
  ],
  [
    'leavePartsOnError as a string',
    { client, params, leavePartsOnError: 'yes' },
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    /^leavePartsOnError must be a boolean, got type string \("yes"\)$/,
  ],
  [
    'unknown checksum',
    { client, params, checksum: 'MD5' },
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    /^checksum must be one of CRC32, CRC32C, CRC64NVME, SHA1, SHA256 or false, got type string \("MD5"\)$/,
  ],
  [
    'checksum against params.ChecksumAlgorithm',
    { client, params: { ...params, ChecksumAlgorithm: 'SHA256' }, checksum: 'CRC32' },
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    /^checksum must be the same as params\.ChecksumAlgorithm \(SHA256\), got type string \("CRC32"\)$/,
  ],
  [
    'FULL_OBJECT with SHA256',
    { client, params: { ...params, ChecksumType: 'FULL_OBJECT' }, checksum: 'SHA256' },
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    /^params\.ChecksumType must be COMPOSITE with SHA256 \(a whole-object checksum of a multipart upload exists for CRC32, CRC32C and CRC64NVME only\), got type string \("FULL_OBJECT"\)$/,
  ],
  [
    'FULL_OBJECT with SHA1',
    { client, params: { ...params, ChecksumType: 'FULL_OBJECT', ChecksumAlgorithm: 'SHA1' } },
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    /^params\.ChecksumType must be COMPOSITE with SHA1/,
  ],
  [
    'COMPOSITE with CRC64NVME',
    { client, params: { ...params, ChecksumType: 'COMPOSITE' }, checksum: 'CRC64NVME' },
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    /^params\.ChecksumType must be FULL_OBJECT with CRC64NVME \(S3 has no composite CRC64NVME\)/,
  ],
  [
    'a ChecksumType without a checksum',
    { client, params: { ...params, ChecksumType: 'FULL_OBJECT' }, checksum: false },
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    /^params\.ChecksumType must be absent with checksum: false/,
  ],
  [
    'an unknown ChecksumType',
    { client, params: { ...params, ChecksumType: 'full' } },
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    /^params\.ChecksumType must be 'FULL_OBJECT' or 'COMPOSITE', got type string \("full"\)$/,
  ],
  [
    'a ChecksumType that contradicts the resumed state',
    { client, params: { ...params, ChecksumType: 'FULL_OBJECT' }, resume: { ...state, checksumType: 'COMPOSITE' } },
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    /^params\.ChecksumType must be the same as in the resumed state \(COMPOSITE\)/,
  ],
  [
    'a resumed state with an unknown checksumType',
    { client, params, resume: { ...state, checksumType: 'WHOLE' } },
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    /^resume\.checksumType must be 'FULL_OBJECT' or 'COMPOSITE'/,
  ],
  [
    'a signal that is not an AbortSignal',
    { client, params, signal: {} },
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    /^signal must be an AbortSignal, got an instance of Object$/,
  ],
  [
    'resume that is not an object',
    { client, params, resume: 'state.json' },
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    /^resume must be a ResumeState object, got type string \("state\.json"\)$/,
  ],
  [
    'resume of another version',
    { client, params, resume: { ...state, version: 2 } },
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    /^resume\.version must be 1, got type number \(2\)$/,
  ],
  [
    'resume of another key',
    { client, params, resume: { ...state, key: 'other' } },
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    /^resume\.key must be params\.Key \(k\), got type string \("other"\)$/,
  ],
  [
    'resume without an upload id',
    { client, params, resume: { ...state, uploadId: '' } },
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    /^resume\.uploadId must be a non-empty string/,
  ],
  [
    'resume with broken parts',
    { client, params, resume: { ...state, parts: [{ partNumber: 1 }] } },
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    /^resume\.parts\[\] must be parts with partNumber, size and etag/,
  ],
  [
    'a partSize that contradicts the resumed state',
    { client, params, resume: state, partSize: 16 * MiB },
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    /^partSize must be the same as in the resumed state \(8388608\), got type number \(16777216\)$/,
  ],
  [
    'a checksum that contradicts the resumed state',
    { client, params, resume: state, checksum: 'SHA256' },
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    /^checksum must be the same as in the resumed state \(CRC32\)/,
  ],
  [
    'sourceOffset without resume',
    { client, params, sourceOffset: 5 * MiB },
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    /^sourceOffset must be 0 unless resuming, got type number \(5242880\)$/,
  ],
  [
    'expectedSize past 48.8 TiB',
    { client, params, expectedSize: 10_000 * 5 * 1024 * MiB + 1 },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^expectedSize must be between 0 and 50000 GiB, got 53687091200001$/,
  ],
  [
    'maxBufferedBytes 0',
    { client, params, maxBufferedBytes: 0 },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^maxBufferedBytes must be between 1 and/,
  ],
  [
    'uniformParts as a number',
    { client, params, uniformParts: 1 },
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    /^uniformParts must be a boolean, got type number \(1\)$/,
  ],
]

for (const [what, options, ErrorClass, code, message] of cases) {
  t.test(what, async (t) => {
    t.throws(() => new S3Sink(options as S3SinkOptions), ErrorClass)
    t.throws(() => new S3Sink(options as S3SinkOptions), { code, message })
  })
}

t.test('the limits themselves are accepted', async (t) => {
  for (const options of [
    { partSize: 5 * MiB, concurrency: 1, maxParts: 1 },
    { partSize: 5 * 1024 * MiB, maxParts: 10_000, stallTimeout: 0, retryBaseDelay: 0 },
    { checksum: false as const },
    { checksum: 'CRC64NVME' as const },
    { checksum: 'CRC64NVME' as const, params: { ...params, ChecksumType: 'FULL_OBJECT' as const } },
    { checksum: 'CRC32C' as const, params: { ...params, ChecksumType: 'FULL_OBJECT' as const } },
    { checksum: 'SHA256' as const, params: { ...params, ChecksumType: 'COMPOSITE' as const } },
  ]) {
    const sink = new S3Sink({ client, params, ...options })
    t.ok(sink.writable, JSON.stringify({ ...options, client: undefined }))
    sink.destroy()
  }
  const longest = new S3Sink({ client, params: { Bucket: 'b', Key: 'é'.repeat(512) } })
  t.ok(longest.writable, 'a Key of exactly 1,024 bytes')
  longest.destroy()
})

t.test('secrets in params never appear in an option error', async (t) => {
  const secret = 'c2VjcmV0LWtleS0zMi1ieXRlcy1sb25nLXh4eHg='
  let caught: unknown
  try {
    new S3Sink({ client, params: { ...params, SSECustomerKey: secret }, partSize: 1 })
  } catch (err) {
    caught = err
  }
  t.type(caught, RangeError)
  t.notOk(String((caught as Error).stack).includes(secret), 'the key is not in the message or stack')
})
