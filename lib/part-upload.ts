import {
  PutObjectCommand,
  type PutObjectCommandOutput,
  type S3Client,
  UploadPartCommand,
  type UploadPartCommandOutput,
} from '@aws-sdk/client-s3'
import { checksumMember } from './checksum.js'
import { S3SinkError } from './errors.js'
import { type ChecksumAlgorithm, pickFields, REQUEST_FIELDS, type S3SinkParams } from './options.js'
import { PartBody } from './part-body.js'
import type { Part } from './part-buffer.js'

export interface AttemptContext {
  client: S3Client
  params: S3SinkParams
  checksum: ChecksumAlgorithm | false
  stallTimeout: number
  /** Aborts every request of the sink. */
  signal: AbortSignal
  /** Called as the HTTP client takes the part's bytes, with how many it took. */
  onSent: (bytes: number) => void
}

/** One attempt at UploadPart: the part's Buffers as a fresh stream, with its checksum and length. */
export async function uploadPartAttempt(
  ctx: AttemptContext,
  uploadId: string,
  part: Part,
): Promise<UploadPartCommandOutput> {
  const input: Record<string, unknown> = {
    ...pickFields(ctx.params, REQUEST_FIELDS),
    Bucket: ctx.params.Bucket,
    Key: ctx.params.Key,
    UploadId: uploadId,
    PartNumber: part.partNumber,
    ContentLength: part.size,
  }
  return attempt(ctx, part, input, (body) => {
    const command = new UploadPartCommand({ ...input, Body: body } as never)
    command.middlewareStack.add(withoutExpectContinue as never, WITHOUT_EXPECT_CONTINUE)
    return command
  })
}

/**
 * The S3 client sends `Expect: 100-continue` with every body of 2 MB or more, and its Node handler sends such a
 * request on a connection of its own, outside its keep-alive pool: a new TCP (and TLS) connection and a wait for
 * the 100 answer for every part. The upload exists by the time a part is sent (credentials, bucket and region
 * have answered CreateMultipartUpload), so parts go without the header, over the client's kept-alive
 * connections. Measured on the null endpoint: 132 connections for 134 requests, then 8. The header is not signed.
 */
const withoutExpectContinue =
  (next: (args: { request: unknown }) => Promise<unknown>) => (args: { request: unknown }) => {
    const request = args.request as { headers?: Record<string, string> }
    if (request?.headers) {
      delete request.headers.Expect
      delete request.headers.expect
    }
    return next(args)
  }
const WITHOUT_EXPECT_CONTINUE = { step: 'build', priority: 'low', name: 's3SinkWithoutExpectContinue' } as const

/** One attempt at PutObject, for a stream that ended before its first part was full. */
export async function putObjectAttempt(ctx: AttemptContext, part: Part): Promise<PutObjectCommandOutput> {
  const { ChecksumType: _, ...params } = ctx.params
  const input: Record<string, unknown> = { ...params, ContentLength: part.size }
  return attempt(ctx, part, input, (body) => new PutObjectCommand({ ...input, Body: body } as never))
}

async function attempt<T>(
  ctx: AttemptContext,
  part: Part,
  input: Record<string, unknown>,
  command: (body: PartBody) => UploadPartCommand | PutObjectCommand,
): Promise<T> {
  if (ctx.checksum !== false && part.checksum) {
    // With the checksum given, the SDK sends a plain UNSIGNED-PAYLOAD request with a Content-Length:
    // no SHA-256 pass over the body and no aws-chunked framing (which Swift and Ceph reject).
    input.ChecksumAlgorithm = ctx.checksum
    input[checksumMember(ctx.checksum)] = await part.checksum
  }
  const watchdog = new StallWatchdog(ctx.stallTimeout, part.partNumber)
  const body = new PartBody(part.chunks, (bytes) => {
    watchdog.progress()
    ctx.onSent(bytes)
  })
  const signal = AbortSignal.any([ctx.signal, watchdog.signal])
  try {
    const send = ctx.client.send.bind(ctx.client) as (c: unknown, o: { abortSignal: AbortSignal }) => Promise<T>
    return await send(command(body), { abortSignal: signal })
  } catch (err) {
    body.abandon()
    // An attempt the watchdog cancelled fails with the SDK's AbortError; report the stall instead.
    if (watchdog.signal.aborted && !ctx.signal.aborted) throw watchdog.signal.reason
    throw err
  } finally {
    watchdog.stop()
    body.destroy()
  }
}

/**
 * Cancels an attempt that neither sends bytes nor gets its answer for `timeout` ms. One timer per attempt,
 * re-armed lazily: progress only records the time, so the byte path does not touch timers.
 */
class StallWatchdog {
  readonly #controller = new AbortController()
  readonly #timeout: number
  readonly #partNumber: number
  #last = Date.now()
  #timer: NodeJS.Timeout | undefined

  constructor(timeout: number, partNumber: number) {
    this.#timeout = timeout
    this.#partNumber = partNumber
    if (timeout > 0) this.#arm(timeout)
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  progress(): void {
    this.#last = Date.now()
  }

  stop(): void {
    clearTimeout(this.#timer)
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => {
      const idle = Date.now() - this.#last
      if (idle < this.#timeout) return this.#arm(this.#timeout - idle)
      this.#controller.abort(
        new S3SinkError('ERR_S3_SINK_STALLED', `part ${this.#partNumber} made no progress for ${this.#timeout} ms`, {
          partNumber: this.#partNumber,
        }),
      )
    }, ms)
    this.#timer.unref()
  }
}
