// Without an OpenTelemetry provider the library loads nothing of @opentelemetry/api (installed here, as a
// devDependency) and makes no span; once one is registered, the next sink made is traced, and one made before is not.
import { createRequire } from 'node:module'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { S3RollingSink, S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { MiB } from './fixtures/store.js'

const { client, Bucket } = await bucketFor(t, 'otel-off')

/** Whether any file of @opentelemetry/api has been loaded into this process. */
function apiLoaded(): boolean {
  return Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes('@opentelemetry'))
}

t.test('uploads with nothing registered load nothing of the API', async (t) => {
  t.notOk(apiLoaded(), 'not loaded at the start')
  const data = pseudoRandomBytes(6 * MiB, 51)
  await pipeline(randomChunks(data, 64 * 1024, 256 * 1024), new S3Sink({ client, params: { Bucket, Key: 'off/one' } }))
  await pipeline(
    randomChunks(data, 64 * 1024, 256 * 1024),
    new S3RollingSink({
      client,
      params: { Bucket },
      key: 'off/rolled/{index}',
      maxObjectBytes: 2 * MiB,
      delimiter: null,
    }),
  )
  t.notOk(apiLoaded(), 'still not loaded after an upload and a rolling upload')
  t.notOk(Symbol.for('opentelemetry.js.api.1') in globalThis, 'nothing registered with the API')
})

t.test('once a provider is registered, the next upload is traced (and the one before was not)', async (t) => {
  // A sink made while nothing is registered, which uploads only after the provider is: whether the upload is traced
  // is settled when the sink is made, so it makes no span, though the exporter is there to receive one.
  const madeBefore = new S3Sink({ client, params: { Bucket, Key: 'off/made-before' } })
  const { registerTelemetry, uploadSpans } = await import('./fixtures/telemetry.js')
  t.ok(apiLoaded(), 'the test loaded the API')
  const { exporter } = registerTelemetry()
  const data = pseudoRandomBytes(MiB, 52)
  await pipeline(randomChunks(data, 64 * 1024, 256 * 1024), new S3Sink({ client, params: { Bucket, Key: 'on/one' } }))
  await pipeline(randomChunks(data, 64 * 1024, 256 * 1024), madeBefore)
  const spans = exporter.getFinishedSpans()
  t.equal(uploadSpans(spans, 'on/one').length, 1, 'the upload after registration has its span')
  t.equal(uploadSpans(spans, 'off/made-before').length, 0, 'the sink made before it has none')
  t.same(
    [...new Set(spans.map((s) => s.attributes['aws.s3.key']))],
    ['on/one'],
    'every span (the uploads and their requests) is of the upload after registration',
  )
})
