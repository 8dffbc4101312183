// s3-sink with OpenTelemetry on, as an application would set it up: a tracer provider with a batching span
// processor, a meter provider with a periodic reader, the AsyncLocalStorage context manager, and the upload made
// inside a span of the caller's. The exporters keep what they are given in memory (a real one sends it out of the
// process, off the upload's path). Set beside s3-sink (nothing registered, so nothing of the API is even loaded),
// it shows what tracing costs.
import { context, metrics, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { sinkUploader } from './s3-sink.js'
import type { Impl } from './types.js'

const spans = new InMemorySpanExporter()
const processor = new BatchSpanProcessor(spans)
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [processor] }))
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
metrics.setGlobalMeterProvider(
  new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
        exportIntervalMillis: 1000,
      }),
    ],
  }),
)
const tracer = trace.getTracer('bench')
const untraced = sinkUploader({})

export const impl: Impl = {
  upload(client, target, c, source) {
    return tracer.startActiveSpan('bench upload', async (span) => {
      try {
        const out = await untraced.upload(client, target, c, source)
        await processor.forceFlush()
        return { ...out, spans: spans.getFinishedSpans().length }
      } finally {
        span.end()
        spans.reset()
      }
    })
  },
}
