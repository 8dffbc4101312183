// OpenTelemetry: a span per upload, a child span per request to the store (its retries as events), and the
// library's metrics, through `@opentelemetry/api` (an optional peer dependency). Nothing is loaded unless the
// application has registered something with that API (a tracer or meter provider); then the API is imported once,
// while the first sink is constructed, and every upload costs a span and a few calls per request.
import type { Context, Counter, Histogram, Span, Tracer } from '@opentelemetry/api'
import { errorCode } from '../core/errors.js'
import type { Operation, S3SinkResult } from '../core/types.js'
import { scrub } from './scrub.js'

/** The API's five globals (`trace`, `metrics`, `context`…), as `import('@opentelemetry/api')` gives them. */
type Api = typeof import('@opentelemetry/api').default

/**
 * Where every copy of `@opentelemetry/api` 1.x keeps what the application registered (its tracer and meter
 * providers, its context manager): one object on `globalThis`, under a symbol shared by all copies of the API's
 * major version. Read here so that an application that registered nothing makes the library load nothing.
 */
const REGISTRY = Symbol.for('opentelemetry.js.api.1')

interface Registry {
  trace?: unknown
  metrics?: unknown
  context?: { active(): Context }
}

function registry(): Registry | undefined {
  return (globalThis as Record<symbol, Registry | undefined>)[REGISTRY]
}

/** An OpenTelemetry context, opaque to the rest of the library. */
export type TelemetryContext = object

/**
 * The option under which an `S3RollingSink` hands its objects' sinks the context their upload spans go under (the
 * one active when the rolling sink was made). A symbol that `lib/index.ts` does not export, as the shared window's.
 */
export const TELEMETRY_PARENT: unique symbol = Symbol('s3-sink telemetry parent')

/** Options with the parent of the upload's span; only the library's own sinks are made with it. */
export interface TelemetryParentOption {
  [TELEMETRY_PARENT]?: TelemetryContext | undefined
}

/**
 * The caller's active OpenTelemetry context, to parent uploads that start later (a rolling sink's objects);
 * undefined when no context manager is registered.
 */
export function activeContext(): TelemetryContext | undefined {
  return registry()?.context?.active()
}

const SPAN_KIND_INTERNAL = 0
const SPAN_KIND_CLIENT = 2
const STATUS_ERROR = 2

/** The name of the tracer and meter. */
const SCOPE = 's3-sink'

/** Bucket boundaries of the request duration histogram, in seconds: small requests to multi-second parts. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

let loading: Promise<Api | undefined> | undefined

/**
 * `@opentelemetry/api`, imported once; undefined when it is not installed. A dynamic import, as the optional
 * checksum modules are loaded: the sinks' constructors stay synchronous (the span's start time and parent are
 * taken there, the API is awaited in `_construct`), and no top-level await keeps `require()` of the package from
 * working.
 */
function loadApi(): Promise<Api | undefined> {
  loading ??= import('@opentelemetry/api').then(
    (m) => (m.default ?? m) as Api,
    () => undefined,
  )
  return loading
}

interface Instruments {
  provider: unknown
  bytesStored: Counter
  uploads: Counter
  requests: Counter
  retries: Counter
  duration: Histogram
}

/** The instruments of the meter provider registered now, made once per provider. */
let instruments: Instruments | undefined

function instrumentsOf(api: Api): Instruments {
  const provider = api.metrics.getMeterProvider()
  if (instruments?.provider === provider) return instruments
  const meter = provider.getMeter(SCOPE)
  instruments = {
    provider,
    bytesStored: meter.createCounter('s3_sink.bytes_stored', {
      description: 'Bytes of the objects stored',
      unit: 'By',
    }),
    uploads: meter.createCounter('s3_sink.uploads', {
      description: 'Uploads ended, by outcome (stored, failed, aborted, suspended)',
      unit: '{upload}',
    }),
    requests: meter.createCounter('s3_sink.requests', {
      description:
        'Requests to the store, by operation and outcome (ok, error, cancelled); each counts once, whatever its attempts',
      unit: '{request}',
    }),
    retries: meter.createCounter('s3_sink.retries', {
      description: 'Attempts that failed and were tried again, by operation and error',
      unit: '{retry}',
    }),
    duration: meter.createHistogram('s3_sink.request.duration', {
      description: "Requests to the store, from the first attempt's start to the last one's end",
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
  }
  return instruments
}

/** What an upload ended with, for its span and metrics. */
export interface UploadSummary {
  result: S3SinkResult | undefined
  uploadId: string | undefined
  bytesWritten: number
  bytesUploaded: number
  parts: number
}

/** What a request is, for its span. */
export interface RequestFacts {
  partNumber?: number | undefined
  /** The body's size (UploadPart, PutObject). */
  bytes?: number | undefined
}

/**
 * The telemetry of one upload (one object): its span, a parent of its requests' spans, and the metrics it adds to.
 * Made only when the application registered a tracer or meter provider; {@link ready} once the API is loaded.
 */
export class UploadTelemetry {
  readonly #bucket: string
  readonly #key: string
  readonly #parent: Context | undefined
  readonly #startTime: number
  readonly #tracing: boolean
  readonly #metering: boolean
  readonly #ready: Promise<void>
  #api: Api | undefined
  #tracer: Tracer | undefined
  #span: Span | undefined
  /** The upload span's context: the parent of its requests' spans. */
  #context: Context | undefined
  #instruments: Instruments | undefined
  #ended = false

  /**
   * The telemetry of an upload of `key` that starts now, under `parent` (by default the caller's active
   * context); undefined when no tracer or meter provider is registered.
   */
  static start(bucket: string, key: string, parent?: TelemetryContext): UploadTelemetry | undefined {
    const registered = registry()
    if (!registered || (registered.trace === undefined && registered.metrics === undefined)) return undefined
    return new UploadTelemetry(
      bucket,
      key,
      (parent as Context | undefined) ?? registered.context?.active(),
      registered.trace !== undefined,
      registered.metrics !== undefined,
    )
  }

  private constructor(bucket: string, key: string, parent: Context | undefined, tracing: boolean, metering: boolean) {
    this.#bucket = bucket
    this.#key = key
    this.#parent = parent
    this.#tracing = tracing
    this.#metering = metering
    this.#startTime = performance.timeOrigin + performance.now()
    this.#ready = loadApi().then((api) => safely(() => this.#begin(api)))
  }

  /** Resolves once the API is loaded and the upload's span started (never rejects). */
  ready(): Promise<void> {
    return this.#ready
  }

  #begin(api: Api | undefined): void {
    if (!api || this.#ended) return
    this.#api = api
    if (this.#metering) this.#instruments = instrumentsOf(api)
    if (!this.#tracing) return
    const tracer = api.trace.getTracer(SCOPE)
    const parent = this.#parent ?? api.context.active()
    const span = tracer.startSpan(
      's3-sink.upload',
      {
        kind: SPAN_KIND_INTERNAL,
        startTime: this.#startTime,
        attributes: { 'aws.s3.bucket': this.#bucket, 'aws.s3.key': this.#key },
      },
      parent,
    )
    // Not sampled (or a no-op provider): its requests would not be either.
    if (!span.isRecording()) return
    this.#tracer = tracer
    this.#span = span
    this.#context = api.trace.setSpan(parent, span)
  }

  /** The telemetry of a request of this upload that starts now; undefined before {@link ready}. */
  request(operation: Operation, facts: RequestFacts): RequestTelemetry | undefined {
    if (!this.#api || (!this.#span && !this.#instruments)) return undefined
    return safely(() => this.#request(operation, facts))
  }

  #request(operation: Operation, facts: RequestFacts): RequestTelemetry {
    const api = this.#api as Api
    let span: Span | undefined
    if (this.#tracer && this.#context) {
      const attributes: Record<string, string | number> = {
        'rpc.system': 'aws-api',
        'rpc.service': 'S3',
        'rpc.method': operation,
        'aws.s3.bucket': this.#bucket,
        'aws.s3.key': this.#key,
      }
      if (facts.partNumber !== undefined) attributes['aws.s3.part_number'] = facts.partNumber
      if (facts.bytes !== undefined) attributes['http.request.body.size'] = facts.bytes
      span = this.#tracer.startSpan(`S3.${operation}`, { kind: SPAN_KIND_CLIENT, attributes }, this.#context)
    }
    return new RequestSpan(api, operation, span, this.#instruments)
  }

  /**
   * The upload ended: stored (`error` null and a result), or not (its error, or null for a sink destroyed
   * without one). Only the first call counts.
   */
  end(error: unknown, summary: UploadSummary): void {
    if (this.#ended) return
    this.#ended = true
    safely(() => this.#end(error, summary))
  }

  #end(error: unknown, summary: UploadSummary): void {
    const outcome = uploadOutcome(error, summary)
    this.#instruments?.uploads.add(1, { 'aws.s3.bucket': this.#bucket, 's3_sink.outcome': outcome })
    if (outcome === 'stored' && summary.result) {
      this.#instruments?.bytesStored.add(summary.result.size, { 'aws.s3.bucket': this.#bucket })
    }
    const span = this.#span
    if (!span) return
    const { result } = summary
    const uploadId = result?.uploadId ?? summary.uploadId
    span.setAttributes({
      's3_sink.outcome': outcome,
      's3_sink.bytes_written': summary.bytesWritten,
      's3_sink.bytes': result?.size ?? summary.bytesUploaded,
      's3_sink.parts': result ? result.parts : summary.parts,
      ...(uploadId ? { 'aws.s3.upload_id': uploadId } : {}),
      ...(result?.ETag ? { 's3_sink.etag': result.ETag } : {}),
      ...(result?.VersionId ? { 's3_sink.version_id': result.VersionId } : {}),
      ...(result?.checksum
        ? {
            's3_sink.checksum.algorithm': result.checksum.algorithm,
            's3_sink.checksum.type': result.checksum.type,
            's3_sink.checksum.value': result.checksum.value,
            's3_sink.checksum.verified_by_store': result.checksum.verifiedByStore,
          }
        : {}),
    })
    if (outcome !== 'stored') recordError(span, error ?? new Error('the sink was destroyed before it finished'))
    span.end()
  }
}

/** The telemetry of one request: its span (if traced), its attempts, and the metrics it adds to. */
export interface RequestTelemetry {
  /** Attempts made so far. */
  attempts: number
  within<T>(attempt: () => T): T
  /** Attempt `attempt` failed with `error` (scrubbed) and another follows after `delayMs`. */
  retry(attempt: number, delayMs: number, error: unknown): void
  /** The request ended: answered (`error` undefined), failed for good, or cancelled by the sink's signal. */
  end(uploadId: string | undefined, error?: unknown, cancelled?: boolean): void
}

class RequestSpan implements RequestTelemetry {
  readonly #api: Api
  readonly #operation: Operation
  readonly #span: Span | undefined
  readonly #instruments: Instruments | undefined
  readonly #started = performance.now()
  attempts = 0

  constructor(api: Api, operation: Operation, span: Span | undefined, instruments: Instruments | undefined) {
    this.#api = api
    this.#operation = operation
    this.#span = span
    this.#instruments = instruments
  }

  within<T>(attempt: () => T): T {
    const span = this.#span
    if (!span) return attempt()
    return this.#api.context.with(this.#api.trace.setSpan(this.#api.context.active(), span), attempt)
  }

  retry(attempt: number, delayMs: number, error: unknown): void {
    safely(() => this.#retry(attempt, delayMs, error))
  }

  #retry(attempt: number, delayMs: number, error: unknown): void {
    const type = errorType(error)
    this.#instruments?.retries.add(1, { 'rpc.method': this.#operation, 'error.type': type })
    this.#span?.addEvent('retry', {
      's3_sink.attempt': attempt,
      's3_sink.retry.delay_ms': delayMs,
      'error.type': type,
      'exception.message': error instanceof Error ? error.message : String(error),
    })
  }

  end(uploadId: string | undefined, error?: unknown, cancelled = false): void {
    safely(() => this.#end(uploadId, error, cancelled))
  }

  #end(uploadId: string | undefined, error: unknown, cancelled: boolean): void {
    const outcome = error === undefined ? 'ok' : cancelled ? 'cancelled' : 'error'
    const attributes = { 'rpc.method': this.#operation, 's3_sink.outcome': outcome }
    this.#instruments?.requests.add(1, attributes)
    this.#instruments?.duration.record((performance.now() - this.#started) / 1000, attributes)
    const span = this.#span
    if (!span) return
    span.setAttributes({ 's3_sink.attempts': this.attempts, 's3_sink.outcome': outcome })
    if (uploadId) span.setAttribute('aws.s3.upload_id', uploadId)
    // A request the sink cancelled (it failed or was aborted) did not fail itself: the upload's span tells why.
    if (outcome === 'error') recordError(span, error)
    span.end()
  }
}

/** stored, failed, aborted (the sink's signal, an abort, or a destroy without error) or suspended. */
function uploadOutcome(error: unknown, summary: UploadSummary): string {
  if (error === null || error === undefined) return summary.result ? 'stored' : 'aborted'
  const code = errorCode(error)
  if (code === 'ERR_S3_SINK_SUSPENDED') return 'suspended'
  if (code === 'ERR_S3_SINK_ABORTED' || code === 'AbortError' || code === 'ABORT_ERR') return 'aborted'
  return 'failed'
}

/** The error's code (S3's, Node's or the library's), else its class name. */
function errorType(error: unknown): string {
  return errorCode(error) ?? (error instanceof Error ? error.name : typeof error)
}

/** Records `error` on `span` as errors leave the library: scrubbed of requests, responses and credentials. */
function recordError(span: Span, error: unknown): void {
  const clean = scrub(error)
  const type = errorType(clean)
  span.setAttribute('error.type', type)
  if (clean instanceof Error) {
    span.recordException({
      name: clean.name,
      message: clean.message,
      code: type,
      ...(clean.stack ? { stack: clean.stack } : {}),
    })
  } else {
    span.recordException(String(clean))
  }
  span.setStatus({ code: STATUS_ERROR, message: clean instanceof Error ? clean.message : String(clean) })
}

/**
 * Runs a call into OpenTelemetry (the application's providers, processors and exporters): whatever it throws is
 * dropped, so that telemetry never fails or stalls an upload.
 */
function safely<T>(call: () => T): T | undefined {
  try {
    return call()
  } catch {
    return undefined
  }
}
