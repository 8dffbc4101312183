import { S3Client } from '@aws-sdk/client-s3'
import t from 'tap'
import { S3RollingSink } from '../lib/index.js'

const client = new S3Client({
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:9',
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
})
const base = { client, params: { Bucket: 'b' }, key: 'logs/{index}' }

// [what, options, error class, code, message pattern]
const cases: [string, unknown, typeof TypeError | typeof RangeError, string, RegExp][] = [
  ['no options', undefined, TypeError, 'ERR_INVALID_ARG_TYPE', /^options must be an object/],
  [
    'no key',
    { ...base, key: undefined },
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    /^key must be a template string or a function/,
  ],
  ['an unknown token', { ...base, key: 'logs/%F/{index}' }, TypeError, 'ERR_INVALID_ARG_VALUE', /unknown token "%F"/],
  [
    'params.Key',
    { ...base, params: { Bucket: 'b', Key: 'k' } },
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    /^params\.Key must be absent/,
  ],
  [
    'no Bucket',
    { ...base, params: {} },
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    /^params\.Bucket must be a non-empty string/,
  ],
  // A rolling state, not an S3Sink's ResumeState: checked for its shape before anything is sent.
  ['resume', { ...base, resume: {} }, TypeError, 'ERR_INVALID_ARG_VALUE', /^resume\.version must be 1/],
  ['expectedSize', { ...base, expectedSize: 10 }, TypeError, 'ERR_INVALID_ARG_VALUE', /^expectedSize must be absent/],
  [
    'maxObjectBytes 0',
    { ...base, maxObjectBytes: 0 },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^maxObjectBytes must be between 1 and/,
  ],
  [
    'maxObjectAge 0',
    { ...base, maxObjectAge: 0 },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^maxObjectAge must be between 1 and/,
  ],
  [
    'maxObjectAge "1m"',
    { ...base, maxObjectAge: '1m' },
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    /^maxObjectAge must be a number/,
  ],
  [
    'an empty delimiter',
    { ...base, delimiter: '' },
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    /^delimiter must be at least one byte/,
  ],
  ['a numeric delimiter', { ...base, delimiter: 10 }, TypeError, 'ERR_INVALID_ARG_TYPE', /^delimiter must be a string/],
  ['gzip "yes"', { ...base, gzip: 'yes' }, TypeError, 'ERR_INVALID_ARG_TYPE', /^gzip must be a boolean/],
  ['an empty id', { ...base, id: '' }, TypeError, 'ERR_INVALID_ARG_TYPE', /^id must be a non-empty string/],
  [
    'a per-object option out of range',
    { ...base, partSize: 1024 },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^partSize must be between 5 MiB/,
  ],
  [
    "the objects' cleanupTimeout out of range",
    { ...base, cleanupTimeout: -1 },
    RangeError,
    'ERR_OUT_OF_RANGE',
    /^cleanupTimeout must be between 0 and 2147483647, got -1$/,
  ],
]

for (const [what, options, type, code, message] of cases) {
  t.test(what, async (t) => {
    t.throws(() => new S3RollingSink(options as never), { constructor: type, code, message })
  })
}

t.test('Infinity turns the age off; a Buffer delimiter and zlib options are taken', async (t) => {
  const sink = new S3RollingSink({
    ...base,
    maxObjectAge: Number.POSITIVE_INFINITY,
    delimiter: Buffer.from([0]),
    gzip: { level: 1 },
  })
  t.match(sink.id, /^[0-9a-f]{12}$/, 'a random id by default')
  sink.destroy()
})
