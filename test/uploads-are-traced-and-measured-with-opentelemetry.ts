// With an OpenTelemetry provider registered, every upload is a span under the caller's active span, every request
// to the store a child span of it (retries as events, failures recorded with their code), and the metrics count
// bytes stored, requests, retries and request durations. Spans from the SDK's in-memory exporter, real store.
import { pipeline } from 'node:stream/promises'
import { trace } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import t, { type Test } from 'tap'
import { S3RollingSink, S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { ndjson } from './fixtures/rolling.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { MiB, storeEnv } from './fixtures/store.js'
import {
  metricValue,
  printTree,
  registerTelemetry,
  requestNames,
  treeUnder,
  uploadSpans,
} from './fixtures/telemetry.js'

const { exporter, reader } = registerTelemetry()
const tracer = trace.getTracer('test')
const { client, Bucket } = await bucketFor(t, 'otel')

/** A span's time ([seconds, nanoseconds]) in nanoseconds, exactly: spans are compared to the nanosecond. */
function nanos([seconds, nanoseconds]: readonly [number, number]): bigint {
  return BigInt(seconds) * 1_000_000_000n + BigInt(nanoseconds)
}

/** Runs `work` inside a span of the caller's own, as a request handler would; returns that span's id. */
async function inCallerSpan(work: () => Promise<unknown>): Promise<string> {
  return tracer.startActiveSpan('handler', async (span) => {
    try {
      await work()
    } catch {}
    span.end()
    return span.spanContext().spanId
  })
}

/** The one upload span of `key`, which must be a child of `parentId`, and the tree of its requests. */
function uploadOf(t: Test, key: string, parentId: string) {
  const spans = exporter.getFinishedSpans()
  const uploads = uploadSpans(spans, key)
  t.equal(uploads.length, 1, 'one upload span')
  const upload = uploads[0] as ReadableSpan
  t.equal(upload.parentSpanContext?.spanId, parentId, "the upload span is a child of the caller's span")
  const requests = treeUnder(spans, upload.spanContext().spanId)
  t.comment(`\n${printTree([{ span: upload, children: requests }])}`)
  return { upload, requests, spans }
}

t.test('a multipart upload: one span, a child per request, attributes after the conventions', async (t) => {
  const Key = 'traced/multipart'
  const data = pseudoRandomBytes(12 * MiB, 41)
  let sink: S3Sink | undefined
  const parent = await inCallerSpan(() => {
    sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, concurrency: 2 })
    return pipeline(randomChunks(data, 64 * 1024, 256 * 1024), sink)
  })
  const { upload, requests } = uploadOf(t, Key, parent)
  const result = sink?.result
  t.ok(result, 'stored')

  t.same(
    requestNames(requests).filter((n) => n !== 'S3.HeadObject'),
    ['S3.CreateMultipartUpload', 'S3.UploadPart 1', 'S3.UploadPart 2', 'S3.UploadPart 3', 'S3.CompleteMultipartUpload'],
    'Create, the parts, Complete (and a HeadObject where the store does not answer Complete with the checksum)',
  )
  t.match(upload.attributes, {
    'aws.s3.bucket': Bucket,
    'aws.s3.key': Key,
    'aws.s3.upload_id': result?.uploadId,
    's3_sink.outcome': 'stored',
    's3_sink.bytes': data.length,
    's3_sink.bytes_written': data.length,
    's3_sink.parts': 3,
    's3_sink.etag': result?.ETag,
    's3_sink.checksum.algorithm': result?.checksum?.algorithm,
    's3_sink.checksum.value': result?.checksum?.value,
  })
  t.equal(upload.status.code, 0, 'status unset (ok)')
  const part2 = requests.find((n) => n.span.attributes['aws.s3.part_number'] === 2)?.span
  t.match(part2?.attributes, {
    'rpc.system': 'aws-api',
    'rpc.service': 'S3',
    'rpc.method': 'UploadPart',
    'aws.s3.bucket': Bucket,
    'aws.s3.key': Key,
    'aws.s3.upload_id': result?.uploadId,
    'http.request.body.size': 5 * MiB,
    's3_sink.attempts': 1,
  })
  t.equal(part2?.kind, 2, 'a CLIENT span')
  for (const { span } of requests) {
    t.equal(span.spanContext().traceId, upload.spanContext().traceId, `${span.name} is in the upload's trace`)
    t.ok(
      nanos(span.startTime) >= nanos(upload.startTime) && nanos(span.endTime) <= nanos(upload.endTime),
      `${span.name} begins and ends within the upload`,
    )
  }
})

t.test('a stream shorter than a part: the upload span holds one PutObject', async (t) => {
  const Key = 'traced/short'
  const data = pseudoRandomBytes(100 * 1024, 42)
  const parent = await inCallerSpan(() =>
    pipeline(randomChunks(data, 1000, 30_000), new S3Sink({ client, params: { Bucket, Key } })),
  )
  const { upload, requests } = uploadOf(t, Key, parent)
  t.same(
    requestNames(requests).filter((n) => n !== 'S3.HeadObject'),
    ['S3.PutObject'],
  )
  t.match(upload.attributes, { 's3_sink.outcome': 'stored', 's3_sink.parts': 0, 's3_sink.bytes': data.length })
  t.notOk('aws.s3.upload_id' in upload.attributes, 'no upload id')
  t.equal(requests[0]?.span.attributes['http.request.body.size'], data.length)
})

t.test('a retried part: its span has the attempts and a retry event; the metrics count it', async (t) => {
  const { client: faulty } = await throughProxy(t, (r) =>
    r.operation === 'UploadPart' && r.partNumber === 2 && r.repeat === 0
      ? { kind: 'error', status: 503, code: 'SlowDown' }
      : undefined,
  )
  const before = {
    retries: await metricValue(reader, 's3_sink.retries', { 'rpc.method': 'UploadPart', 'error.type': 'SlowDown' }),
    parts: await metricValue(reader, 's3_sink.requests', { 'rpc.method': 'UploadPart', 's3_sink.outcome': 'ok' }),
    durations: await metricValue(reader, 's3_sink.request.duration', { 'rpc.method': 'UploadPart' }),
    bytes: await metricValue(reader, 's3_sink.bytes_stored'),
    stored: await metricValue(reader, 's3_sink.uploads', { 's3_sink.outcome': 'stored' }),
  }
  const Key = 'traced/retried'
  const data = pseudoRandomBytes(11 * MiB, 43)
  const parent = await inCallerSpan(() =>
    pipeline(
      randomChunks(data, 64 * 1024, 256 * 1024),
      new S3Sink({ client: faulty, params: { Bucket, Key }, partSize: 5 * MiB, retryBaseDelay: 10 }),
    ),
  )
  const { requests } = uploadOf(t, Key, parent)

  const part2 = requests.find((n) => n.span.attributes['aws.s3.part_number'] === 2)?.span as ReadableSpan
  t.equal(part2.attributes['s3_sink.attempts'], 2, 'two attempts')
  t.equal(part2.status.code, 0, 'the request succeeded in the end')
  t.same(
    part2.events.map((e) => [e.name, e.attributes?.['s3_sink.attempt'], e.attributes?.['error.type']]),
    [['retry', 1, 'SlowDown']],
    'one retry event, with the error code',
  )
  t.equal(
    requests.filter((n) => n.span.attributes['aws.s3.part_number'] === 2).length,
    1,
    'one span for the request, whatever its attempts',
  )

  t.equal(
    (await metricValue(reader, 's3_sink.retries', { 'rpc.method': 'UploadPart', 'error.type': 'SlowDown' })) -
      before.retries,
    1,
    'one retry counted',
  )
  t.equal(
    (await metricValue(reader, 's3_sink.requests', { 'rpc.method': 'UploadPart', 's3_sink.outcome': 'ok' })) -
      before.parts,
    3,
    'three UploadPart requests counted ok',
  )
  t.equal(
    (await metricValue(reader, 's3_sink.request.duration', { 'rpc.method': 'UploadPart' })) - before.durations,
    3,
    'three UploadPart durations recorded',
  )
  t.equal((await metricValue(reader, 's3_sink.bytes_stored')) - before.bytes, data.length, 'bytes stored')
  t.equal((await metricValue(reader, 's3_sink.uploads', { 's3_sink.outcome': 'stored' })) - before.stored, 1)
})

t.test(
  'a failed upload: its span and the failed request record the error, scrubbed; the abort is traced',
  async (t) => {
    const { client: faulty } = await throughProxy(t, (r) =>
      r.operation === 'UploadPart' && r.partNumber === 2
        ? { kind: 'error', status: 403, code: 'AccessDenied', early: true }
        : undefined,
    )
    const failedBefore = await metricValue(reader, 's3_sink.requests', {
      'rpc.method': 'UploadPart',
      's3_sink.outcome': 'error',
    })
    const Key = 'traced/failed'
    const parent = await inCallerSpan(() =>
      pipeline(
        randomChunks(pseudoRandomBytes(16 * MiB, 44), 64 * 1024, 256 * 1024),
        new S3Sink({ client: faulty, params: { Bucket, Key }, partSize: 5 * MiB }),
      ),
    )
    const { upload, requests } = uploadOf(t, Key, parent)

    t.equal(upload.status.code, 2, 'the upload span has status ERROR')
    t.match(upload.attributes, { 's3_sink.outcome': 'failed', 'error.type': 'ERR_S3_SINK_PART_FAILED' })
    t.match(upload.events.find((e) => e.name === 'exception')?.attributes, {
      'exception.type': 'ERR_S3_SINK_PART_FAILED',
      'exception.message': /part 2 failed after 1 attempt: AccessDenied/,
    })
    const part2 = requests.find((n) => n.span.attributes['aws.s3.part_number'] === 2)?.span as ReadableSpan
    t.equal(part2.status.code, 2, 'the part request has status ERROR')
    t.equal(part2.attributes['error.type'], 'ERR_S3_SINK_PART_FAILED')
    t.match(part2.events.find((e) => e.name === 'exception')?.attributes, {
      'exception.message': /AccessDenied \(403\)/,
    })
    for (const other of requests.filter((n) => n.span.name === 'S3.UploadPart' && n.span !== part2)) {
      // Parts cut short by the failure did not fail themselves.
      t.match(other.span.attributes, { 's3_sink.outcome': /^(ok|cancelled)$/ })
      t.equal(other.span.status.code, 0, `part ${other.span.attributes['aws.s3.part_number']} is not an error`)
    }
    t.ok(
      requestNames(requests).includes('S3.AbortMultipartUpload'),
      'the AbortMultipartUpload is a request of the upload',
    )
    const env = storeEnv()
    const everything = JSON.stringify(
      [upload, ...requests.map((n) => n.span)].map((s) => [s.attributes, s.events, s.status]),
    )
    for (const secret of [env.secretAccessKey, 'Signature=', 'Authorization', 'x-amz-security-token']) {
      t.notOk(everything.includes(secret), `no ${secret === env.secretAccessKey ? 'secret key' : secret} in the spans`)
    }
    t.equal(
      (await metricValue(reader, 's3_sink.requests', { 'rpc.method': 'UploadPart', 's3_sink.outcome': 'error' })) -
        failedBefore,
      1,
      'the failed request is counted',
    )
  },
)

t.test("a rolling sink's three objects: three upload spans under the span the sink was made in", async (t) => {
  const records = ndjson(1500, 300, 45)
  let sink: S3RollingSink | undefined
  const parent = await inCallerSpan(async () => {
    sink = new S3RollingSink({
      client,
      params: { Bucket },
      key: 'traced/rolled/{index}.ndjson',
      maxObjectBytes: Math.ceil(records.length / 3) + 400,
    })
  })
  // Written outside the caller's span: the objects still belong to the span the sink was made in.
  await pipeline(randomChunks(records, 1000, 40_000), sink as S3RollingSink)
  const objects = (sink as S3RollingSink).objects
  t.equal(objects.length, 3, 'three objects')
  for (const object of objects) {
    const { upload } = uploadOf(t, object.key, parent)
    t.match(upload.attributes, { 's3_sink.outcome': 'stored', 's3_sink.bytes': object.storedBytes })
  }
})
