// s3-sink in a process that registered only OpenTelemetry's AsyncLocalStorage context manager, no tracer or meter
// provider, and uploads inside a context of its own (as an application with context propagation does): the library
// makes no span, and what is left beside plain s3-sink is what carrying the context through every asynchronous
// operation of the process costs. Set beside s3-sink-traced, it splits what tracing costs into that share and the
// spans' and metrics' own.
import { context, createContextKey } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { sinkUploader } from './s3-sink.js'
import type { Impl } from './types.js'

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
const caller = context.active().setValue(createContextKey('bench caller'), true)
const plain = sinkUploader({})

export const impl: Impl = {
  upload: (client, target, c, source) => context.with(caller, () => plain.upload(client, target, c, source)),
}
