// An upload traced with OpenTelemetry: the upload is a span under the caller's own span, each request to the
// store a child span of it. Spans are printed by the SDK's console exporter as they end, then as a tree.
//
// Besides s3-sink and @aws-sdk/client-s3 it needs the OpenTelemetry API and SDK:
//   npm install @opentelemetry/api @opentelemetry/sdk-trace-base @opentelemetry/context-async-hooks
//
//   AWS_ENDPOINT_URL=… AWS_REGION=… AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… S3_SINK_EXAMPLE_BUCKET=… \
//     node examples/traced-upload.mjs
import { Readable } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import { S3Client } from '@aws-sdk/client-s3'
import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { S3Sink } from 's3-sink'

// What an application does once at start-up (or @opentelemetry/sdk-node does for it): register a tracer provider
// and a context manager. The console exporter prints each span; the in-memory one keeps them for the tree below.
const kept = new InMemorySpanExporter()
trace.setGlobalTracerProvider(
  new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter()), new SimpleSpanProcessor(kept)],
  }),
)
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())

const Bucket = process.env.S3_SINK_EXAMPLE_BUCKET
if (!Bucket) throw new Error('set S3_SINK_EXAMPLE_BUCKET to the bucket to store into')
const client = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) })
const Key = 'examples/traced-upload/export.ndjson'

// The input: 12 MiB of generated records, enough for three parts of 5 MiB.
function* records() {
  for (let n = 0; n < 60_000; n++) yield `${JSON.stringify({ n, at: 1_700_000_000_000 + n, note: 'x'.repeat(150) })}\n`
}

// The caller's span (a request handler's, a job's): the upload's span goes under it.
const tracer = trace.getTracer('traced-upload-example')
const result = await tracer.startActiveSpan('nightly export', async (span) => {
  try {
    const sink = new S3Sink({
      client,
      params: { Bucket, Key, ContentType: 'application/x-ndjson' },
      partSize: 5 * 1024 * 1024,
    })
    try {
      await pipeline(Readable.from(records()), sink)
    } catch (err) {
      // pipeline() may reject before the sink has finished aborting the upload (Node 20 does when the source
      // fails): wait for the sink to close, so that its span has ended too.
      await finished(sink).catch(() => {}) // the sink has closed: its clean-up (the upload aborted) is over
      throw err
    }
    return sink.result
  } finally {
    span.end()
  }
})
client.destroy()

console.log(`\nstored s3://${Bucket}/${Key}: ${result.size} bytes in ${result.parts} parts, ETag ${result.ETag}\n`)
console.log('the trace:')
const spans = kept.getFinishedSpans()
const print = (parentId, depth) => {
  const children = spans
    .filter((s) => s.parentSpanContext?.spanId === parentId)
    .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
  for (const s of children) {
    const a = s.attributes
    const ms = (s.duration[0] * 1e3 + s.duration[1] / 1e6).toFixed(1)
    const what = [
      a['aws.s3.part_number'] !== undefined && `part ${a['aws.s3.part_number']}`,
      a['http.request.body.size'] !== undefined && `${a['http.request.body.size']} bytes`,
      a['s3_sink.attempts'] !== undefined && `${a['s3_sink.attempts']} attempt(s)`,
      a['s3_sink.outcome'] !== undefined &&
        s.name === 's3-sink.upload' &&
        `${a['s3_sink.outcome']}, ${a['s3_sink.parts']} parts`,
    ].filter(Boolean)
    console.log(`${'  '.repeat(depth)}${s.name}  ${ms} ms${what.length ? `  (${what.join(', ')})` : ''}`)
    print(s.spanContext().spanId, depth + 1)
  }
}
print(undefined, 0)
