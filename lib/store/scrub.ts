// Errors as they may leave the library: what users need, and no request, response, credential or key.
import { S3SinkError } from '../core/errors.js'

/**
 * Fields an error from the SDK or the network may keep once it leaves the request path. Everything else is
 * dropped: the SDK hangs the raw HTTP response off `$response` (non-enumerable, and through `body.req` it
 * reaches the signed request: `Authorization`, the session token, SSE-C keys), and copies every element of an
 * error answer onto the error (`StringToSign`, `CanonicalRequest`, `SignatureProvided`, `AWSAccessKeyId`).
 */
const KEPT_FIELDS = ['code', 'Code', 'errno', 'syscall', 'address', 'port', '$fault', 'RequestId', 'HostId'] as const
const KEPT_METADATA = ['httpStatusCode', 'requestId', 'extendedRequestId', 'cfId'] as const
/** Deeper cause chains are cut: nothing the library makes nests this far. */
const MAX_DEPTH = 4

/**
 * A copy of `err` that keeps what users need — class name, message, S3 and Node codes, HTTP status and request
 * ids, stack, and the same for its causes — and holds no reference to a request, a response, credentials or keys.
 * Errors of this library are built from scrubbed causes and pass unchanged.
 */
export function scrub(err: unknown, depth = 0): unknown {
  if (err instanceof S3SinkError) return err
  if (typeof err !== 'object' || err === null) return err
  const source = err as Record<string, unknown> & { message?: unknown; name?: unknown; stack?: unknown }
  const copy = new Error(typeof source.message === 'string' ? source.message : String(source.message ?? ''))
  const fields = copy as unknown as Record<string, unknown>
  copy.name = typeof source.name === 'string' ? source.name : 'Error'
  if (typeof source.stack === 'string') copy.stack = source.stack
  for (const field of KEPT_FIELDS) {
    const value = source[field]
    if (typeof value === 'string' || typeof value === 'number') fields[field] = value
  }
  const metadata = source.$metadata as Record<string, unknown> | undefined
  if (typeof metadata === 'object' && metadata !== null) {
    fields.$metadata = Object.fromEntries(
      KEPT_METADATA.filter((k) => metadata[k] !== undefined).map((k) => [k, metadata[k]]),
    )
  }
  const retryable = source.$retryable as { throttling?: unknown } | undefined
  if (typeof retryable === 'object' && retryable !== null) {
    fields.$retryable = { throttling: retryable.throttling === true }
  }
  if (source.cause !== undefined && source.cause !== err && depth < MAX_DEPTH) {
    fields.cause = scrub(source.cause, depth + 1)
  }
  return copy
}
