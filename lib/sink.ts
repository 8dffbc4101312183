import { Writable } from 'node:stream'
import PQueue from 'p-queue'
import { loadHasher } from './checksum.js'
import { describe, errorCode, httpStatus, S3SinkError, type S3SinkErrorCode } from './errors.js'
import { MultipartUpload } from './multipart-upload.js'
import { pickFields, REQUEST_FIELDS, type ResolvedOptions, resolveOptions, type S3SinkOptions } from './options.js'
import { type Part, PartBuffer } from './part-buffer.js'
import { type PartSizeSchedule, partSizeSchedule } from './part-size.js'
import { type AttemptContext, putObjectAttempt, uploadPartAttempt } from './part-upload.js'
import { contiguousPrefix, listStoredParts } from './resume.js'
import { RetriesExhausted, withRetries } from './retry.js'
import type { PartInfo, ProgressInfo, ResumeState, RetryInfo, S3SinkResult, StoredPart } from './types.js'

/** A request's answer, the attempts it took and when the first began. */
interface Outcome {
  value: { ETag?: string } & Record<string, unknown>
  attempts: number
  started: number
  /** The checksum the sink computed and sent. */
  checksum?: string | undefined
}

export interface S3SinkEvents {
  part: [PartInfo]
  progress: [ProgressInfo]
  checkpoint: [ResumeState]
  retry: [RetryInfo]
}

/** The most of one write copied in before the window is checked again. */
const COPY_STEP = 1024 * 1024

/**
 * A Writable that uploads what is written to it into one S3 object, through the multipart upload API.
 *
 * Bytes are copied once into parts (blocks reused from part to part); full parts are uploaded in the
 * background, at most `concurrency` at once, and writes wait while that many are in flight. On `end` the sink
 * waits for its parts and completes the upload; `'finish'` means the object exists. A stream that ends before its first
 * part is full is stored with one PutObject. On any failure, in-flight requests are cancelled and the
 * multipart upload is aborted (unless `leavePartsOnError`).
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface below only types the event overloads
export class S3Sink extends Writable {
  /** What was stored; set before `'finish'`. */
  result: S3SinkResult | undefined

  readonly #options: ResolvedOptions
  readonly #schedule: PartSizeSchedule
  /** Cancels every request of this sink. */
  readonly #abort = new AbortController()
  readonly #queue: PQueue
  #buffer: PartBuffer | undefined
  #upload: MultipartUpload | undefined
  readonly #completedParts: StoredPart[] = []
  /** Parts handed to the queue and not yet settled. */
  #inFlight = 0
  #inFlightBytes = 0
  /** The write callback held back while the write is being copied in or the in-flight window is full. */
  #heldCallback: ((err?: Error | null) => void) | undefined
  /** What of the current write is still to be copied into parts. */
  #pending: { chunks: Buffer[]; index: number; offset: number } | undefined
  #idleWaiters: (() => void)[] = []
  #failure: Error | undefined
  #bytesWritten = 0
  #bytesSent = 0
  #bytesUploaded = 0
  #peakBufferedBytes = 0
  #onSignalAbort: (() => void) | undefined
  /** When resuming from byte 0: parts 1..#skipThrough are stored already; their bytes are checked, not sent. */
  #skipThrough = 0
  readonly #resumedParts = new Map<number, StoredPart>()
  /** Checks of skipped parts against their stored checksums, still running. */
  #pendingChecks: Promise<void>[] = []
  /** After suspend() or a changed source the upload stays in the store, to be resumed. */
  #keepUpload = false
  #suspending = false

  constructor(options: S3SinkOptions) {
    const resolved = resolveOptions(options)
    super({ highWaterMark: resolved.highWaterMark, decodeStrings: true })
    this.#options = resolved
    this.#schedule = partSizeSchedule(resolved)
    this.#queue = new PQueue({ concurrency: resolved.concurrency })
    const { signal } = resolved
    if (signal) {
      this.#onSignalAbort = () =>
        this.destroy(this.#error('ERR_S3_SINK_ABORTED', 'the upload was aborted', { cause: signal.reason }))
      if (signal.aborted) process.nextTick(this.#onSignalAbort)
      else signal.addEventListener('abort', this.#onSignalAbort, { once: true })
    }
  }

  /** The id of the multipart upload, once one has been created. */
  get uploadId(): string | undefined {
    return this.#upload?.uploadId
  }

  /** Where the upload stands now. */
  get progress(): ProgressInfo {
    return {
      bytesWritten: this.#bytesWritten,
      bytesSent: this.#bytesSent,
      bytesUploaded: this.#bytesUploaded,
      bytesBuffered: this.#bufferedBytes(),
      peakBufferedBytes: this.#peakBufferedBytes,
      partsUploaded: this.#completedParts.length,
      partsInFlight: this.#inFlight,
    }
  }

  override _construct(callback: (err?: Error | null) => void): void {
    const { checksum } = this.#options
    const ready = checksum === false ? Promise.resolve(undefined) : loadHasher(checksum)
    Promise.all([ready, this.#resume()]).then(
      ([hasher, firstPartNumber]) => {
        this.#buffer = new PartBuffer(this.#schedule.sizeOf, hasher, firstPartNumber)
        callback()
      },
      (err: unknown) => callback(err as Error),
    )
  }

  /**
   * Stops taking data, lets the parts in flight finish, and keeps the multipart upload in the store. Resolves
   * with the state to resume it from (`resume` option); the stream then fails with `ERR_S3_SINK_SUSPENDED`,
   * which tells a suspension from a failure. Bytes not yet in a stored part are sent again on resume.
   */
  async suspend(): Promise<ResumeState> {
    if (this.destroyed || this.writableFinished) {
      throw Object.assign(new Error('cannot suspend a sink that has finished or been destroyed'), {
        code: 'ERR_STREAM_DESTROYED',
      })
    }
    this.#suspending = true
    const { client, params, checksum } = this.#options
    // A stream still in its first part has no upload yet: create one, so that there is something to resume.
    this.#upload ??= new MultipartUpload(client, params, checksum)
    await this.#upload.id()
    await this.#whenIdle()
    if (this.#failure) throw this.#failure
    const state = this.#checkpoint()
    this.#keepUpload = true
    this.destroy(
      this.#error(
        'ERR_S3_SINK_SUSPENDED',
        `the upload was suspended with ${state.parts.length} parts (${state.bytesUploaded} bytes) stored; ` +
          'resume it with the state suspend() returned',
      ),
    )
    return state
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#take([chunk], callback)
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (err?: Error | null) => void): void {
    this.#take(
      chunks.map(({ chunk }) => chunk),
      callback,
    )
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#finish().then(
      () => callback(),
      (err: unknown) => callback(err as Error),
    )
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#failure ??= err ?? new Error('destroyed')
    this.#detachSignal()
    this.#abort.abort(this.#failure)
    this.#pending = undefined
    // Parts not yet sent will not be: their blocks go back to the pool (parts in flight give theirs as they settle).
    this.#buffer?.dispose()
    this.#releaseHeld(err)
    this.#cleanUp(err).then(
      () => callback(err),
      (cleanupErr: unknown) => callback(cleanupErr as Error),
    )
  }

  #accept(chunk: Buffer): void {
    const buffer = this.#buffer as PartBuffer
    buffer.push(chunk)
    this.#bytesWritten += chunk.length
    this.#notePeak()
    if (this.#suspending) return
    // A full part is sent once the next byte arrives, so a stream of exactly one part is one PutObject.
    while (buffer.fullParts > 0 && (this.#upload || buffer.fullParts > 1 || buffer.openPartSize > 0)) {
      this.#startPart(buffer.takeFull() as Part)
    }
    if (buffer.openPartNumber > this.#options.maxParts && buffer.openPartSize > 0) {
      const { maxParts, uniformParts } = this.#options
      const fix = uniformParts
        ? 'give expectedSize, or a larger partSize'
        : 'give expectedSize, a larger partSize or a larger maxParts'
      this.destroy(
        this.#error(
          'ERR_S3_SINK_TOO_MANY_PARTS',
          `the stream does not fit in maxParts (${maxParts}) parts: ${this.#bytesWritten} bytes written, ` +
            `more than the ${this.#schedule.maxObjectSize} bytes ${maxParts} parts can hold; ${fix}`,
        ),
      )
    }
  }

  #take(chunks: Buffer[], callback: (err?: Error | null) => void): void {
    this.#heldCallback = callback
    this.#pending = { chunks, index: 0, offset: 0 }
    this.#pump()
  }

  /**
   * Copies the current write into parts, 1 MiB (or up to a part boundary) at a time and only while the window has
   * room: a write larger than the window waits, partly copied, for parts to be stored, so that memory stays
   * bounded whatever the size of a write. Acknowledges the write once it is all copied and the window has room.
   * Runs on every write and again whenever a part settles.
   */
  #pump(): void {
    const pending = this.#pending
    const buffer = this.#buffer as PartBuffer
    while (pending && pending.index < pending.chunks.length) {
      if (this.destroyed || this.#windowFull()) return
      const chunk = pending.chunks[pending.index] as Buffer
      const end = Math.min(chunk.length, pending.offset + buffer.openPartRoom, pending.offset + COPY_STEP)
      this.#accept(pending.offset === 0 && end === chunk.length ? chunk : chunk.subarray(pending.offset, end))
      if (end < chunk.length) {
        pending.offset = end
      } else {
        pending.index++
        pending.offset = 0
      }
    }
    this.#pending = undefined
    if (this.destroyed) this.#releaseHeld(this.#failure ?? null)
    else if (!this.#windowFull()) this.#releaseHeld(null)
  }

  /**
   * Whether writes must wait: `concurrency` parts in flight, or the memory budget reached with at least one
   * part in flight (so a part larger than the budget still goes out, one at a time).
   */
  #windowFull(): boolean {
    if (this.#suspending || this.#inFlight >= this.#options.concurrency) return true
    return this.#inFlight > 0 && this.#bufferedBytes() >= this.#options.maxBufferedBytes
  }

  #startPart(part: Part): void {
    if (part.partNumber <= this.#skipThrough) {
      this.#checkSkipped(part)
      return
    }
    this.#upload ??= new MultipartUpload(this.#options.client, this.#options.params, this.#options.checksum)
    const upload = this.#upload
    this.#inFlight++
    this.#inFlightBytes += part.size
    this.#notePeak()
    const task = async () => {
      let uploadId: string
      try {
        uploadId = await upload.id()
      } catch (err) {
        throw this.#error('ERR_S3_SINK_CREATE_FAILED', `CreateMultipartUpload failed: ${describe(err)}`, {
          cause: err,
          statusCode: httpStatus(err),
        })
      }
      const outcome = await this.#send(part.partNumber, (ctx) => uploadPartAttempt(ctx, uploadId, part))
      return { ...outcome, checksum: await part.checksum }
    }
    this.#queue.add(task, { signal: this.#abort.signal }).then(
      (outcome) => this.#onPartSettled(part, undefined, outcome),
      (err: unknown) => this.#onPartSettled(part, err, undefined),
    )
  }

  /** Sends `part` with retries; the outcome carries the store's answer and the attempts it took. */
  async #send(partNumber: number, attempt: (ctx: AttemptContext) => Promise<object>): Promise<Outcome> {
    const started = Date.now()
    const { maxAttempts, retryBaseDelay, retryMaxDelay } = this.#options
    const base = {
      client: this.#options.client,
      params: this.#options.params,
      checksum: this.#options.checksum,
      stallTimeout: this.#options.stallTimeout,
      signal: this.#abort.signal,
    }
    let sentByAttempt = 0
    const { value, attempts } = await withRetries(
      { maxAttempts, baseDelay: retryBaseDelay, maxDelay: retryMaxDelay },
      this.#abort.signal,
      () => {
        // A retry sends the bytes of the failed attempt again: count each byte once in bytesSent.
        this.#bytesSent -= sentByAttempt
        sentByAttempt = 0
        const onSent = (bytes: number) => {
          sentByAttempt += bytes
          this.#bytesSent += bytes
        }
        return attempt({ ...base, onSent })
      },
      (error, attemptNumber, delayMs) =>
        this.emit('retry', { partNumber, attempt: attemptNumber, delayMs, error } satisfies RetryInfo),
    )
    return { value: value as Outcome['value'], attempts, started }
  }

  /** Every part's outcome comes here: in-flight accounting, events, backpressure, failure. */
  #onPartSettled(part: Part, err: unknown, outcome: Outcome | undefined): void {
    part.release()
    this.#inFlight--
    this.#inFlightBytes -= part.size
    if (err !== undefined || outcome === undefined) {
      if (!this.#abort.signal.aborted) this.destroy(this.#partError(part, err))
    } else {
      this.#recordPart(part, outcome)
    }
    this.#pump()
    if (this.#inFlight === 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve()
    }
  }

  #recordPart(part: Part, outcome: Outcome): void {
    const { checksum } = this.#options
    // Swift's s3api does not echo part checksums and rejects a Complete that carries them: only a
    // checksum the store acknowledged goes into CompleteMultipartUpload.
    const echoed = checksum === false ? undefined : outcome.value[`Checksum${checksum}`]
    const stored: StoredPart = {
      partNumber: part.partNumber,
      size: part.size,
      etag: outcome.value.ETag ?? '',
      ...(outcome.checksum === undefined
        ? {}
        : { checksum: outcome.checksum, checksumAcknowledged: echoed === outcome.checksum }),
    }
    this.#completedParts.push(stored)
    this.#bytesUploaded += part.size
    this.emit('part', {
      ...stored,
      attempts: outcome.attempts,
      durationMs: Date.now() - outcome.started,
    } satisfies PartInfo)
    this.emit('progress', this.progress)
    if (this.listenerCount('checkpoint') > 0) this.emit('checkpoint', this.#checkpoint())
  }

  async #finish(): Promise<void> {
    // suspend() ends the stream with its own error once the parts in flight are stored.
    if (this.#suspending) return new Promise(() => {})
    const buffer = this.#buffer as PartBuffer
    if (!this.#upload && buffer.fullParts <= 1) {
      const part = buffer.fullParts === 1 ? (buffer.takeFull() as Part) : buffer.takeRest()
      await this.#putObject(part)
      return
    }
    while (buffer.fullParts > 0) this.#startPart(buffer.takeFull() as Part)
    if (buffer.openPartSize > 0) this.#startPart(buffer.takeRest())
    if (buffer.openPartNumber <= this.#skipThrough) {
      const stored = [...this.#resumedParts.values()].reduce((sum, p) => sum + p.size, 0)
      this.#keepUpload = true
      throw this.#error(
        'ERR_S3_SINK_SOURCE_CHANGED',
        `the source ended after ${this.#bytesWritten} bytes, before the ${stored} bytes already stored ` +
          'for this upload: it is not the source the upload began with',
      )
    }
    await this.#whenIdle()
    await Promise.all(this.#pendingChecks)
    if (this.#failure) throw this.#failure
    const upload = this.#upload as MultipartUpload
    const parts = [...this.#completedParts].sort((a, b) => a.partNumber - b.partNumber)
    let output: Awaited<ReturnType<MultipartUpload['complete']>>
    try {
      output = await upload.complete(parts, this.#abort.signal)
    } catch (err) {
      throw this.#error('ERR_S3_SINK_COMPLETE_FAILED', `CompleteMultipartUpload failed: ${describe(err)}`, {
        cause: err,
        statusCode: httpStatus(err),
      })
    }
    this.result = {
      Bucket: this.#options.params.Bucket,
      Key: this.#options.params.Key,
      ETag: output.ETag,
      size: this.#bytesUploaded,
      parts: parts.length,
      uploadId: upload.uploadId,
      ...(output.VersionId ? { VersionId: output.VersionId } : {}),
      ...(output.Location ? { Location: output.Location } : {}),
    }
    this.#detachSignal()
  }

  async #putObject(part: Part): Promise<void> {
    this.#inFlightBytes += part.size
    let outcome: Outcome
    try {
      outcome = await this.#send(part.partNumber, (ctx) => putObjectAttempt(ctx, part))
    } catch (err) {
      const cause = err instanceof RetriesExhausted ? err.lastError : err
      throw this.#error('ERR_S3_SINK_PUT_FAILED', `PutObject failed: ${describe(cause)}`, {
        cause,
        statusCode: httpStatus(cause),
        attempts: err instanceof RetriesExhausted ? err.attempts : undefined,
      })
    } finally {
      part.release()
      this.#inFlightBytes -= part.size
    }
    this.#bytesUploaded = part.size
    const value = outcome.value as { ETag?: string; VersionId?: string }
    this.result = {
      Bucket: this.#options.params.Bucket,
      Key: this.#options.params.Key,
      ETag: value.ETag ?? '',
      size: part.size,
      parts: 0,
      ...(value.VersionId ? { VersionId: value.VersionId } : {}),
    }
    this.#detachSignal()
  }

  /**
   * After a failure: abort the multipart upload at once, while the in-flight requests are being cancelled.
   * `pipeline()` rejects as soon as a source fails, without waiting for the sink's cleanup, so the sooner the
   * abort reaches the store the better. A part that was in flight may still land after it (S3 documents this
   * race), so once every request has ended the abort is sent again.
   */
  async #cleanUp(err: Error | null): Promise<void> {
    const upload = this.#upload
    if (!upload || this.result || this.#options.leavePartsOnError || this.#keepUpload) {
      await this.#whenIdle()
      return
    }
    const raced = this.#inFlight > 0
    const first = upload.abort().then(
      () => undefined,
      (e: unknown) => e,
    )
    await this.#whenIdle()
    let abortErr = await first
    if (raced || abortErr !== undefined) {
      const again = await upload.abort().then(
        () => undefined,
        (e: unknown) => e,
      )
      // NoSuchUpload after a first abort that went through means the upload is gone, as wanted.
      abortErr = abortErr === undefined && errorCode(again) === 'NoSuchUpload' ? undefined : again
    }
    if (abortErr === undefined) return
    if (err instanceof S3SinkError) err.abortError = abortErr
    else if (err) Object.assign(err, { abortError: abortErr, uploadId: upload.uploadId })
  }

  #whenIdle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  #releaseHeld(err: Error | null): void {
    const callback = this.#heldCallback
    this.#heldCallback = undefined
    callback?.(err)
  }

  #detachSignal(): void {
    if (this.#onSignalAbort) this.#options.signal?.removeEventListener('abort', this.#onSignalAbort)
  }

  #bufferedBytes(): number {
    return (this.#buffer?.length ?? 0) + this.#inFlightBytes
  }

  #notePeak(): void {
    const buffered = this.#bufferedBytes()
    if (buffered > this.#peakBufferedBytes) this.#peakBufferedBytes = buffered
  }

  /**
   * Takes up the upload of `resume`: finds the parts the store still holds (from part 1, without a gap) and
   * returns the number of the first part this sink's source will fill.
   */
  async #resume(): Promise<number> {
    const { resume, client, params, checksum, sourceOffset } = this.#options
    if (!resume) return 1
    this.#upload = new MultipartUpload(client, params, checksum, resume.uploadId)
    const stored = await listStoredParts(client, resume, pickFields(params, REQUEST_FIELDS))
    const prefix = contiguousPrefix(resume, stored)
    let kept = prefix
    if (sourceOffset > 0) {
      let end = 0
      kept = []
      for (const part of prefix) {
        if (end === sourceOffset) break
        kept.push(part)
        end += part.size
      }
      if (end !== sourceOffset) {
        throw this.#error(
          'ERR_S3_SINK_RESUME_FAILED',
          `sourceOffset ${sourceOffset} is not the end of a stored part (the store holds ${end} bytes ` +
            'from part 1 on): start the source at `await resumeOffset(client, state)`',
          { uploadId: resume.uploadId },
        )
      }
    } else {
      this.#skipThrough = prefix.length
      for (const part of prefix) this.#resumedParts.set(part.partNumber, part)
    }
    this.#completedParts.push(...kept)
    this.#bytesUploaded = kept.reduce((sum, p) => sum + p.size, 0)
    return (sourceOffset > 0 ? kept.length : 0) + 1
  }

  /** A part the store already holds, met again in a source replayed from byte 0: check it, do not send it. */
  #checkSkipped(part: Part): void {
    // Its checksum is already running on its own: the bytes are not needed any more.
    part.release()
    const stored = this.#resumedParts.get(part.partNumber) as StoredPart
    const changed = () => {
      this.#keepUpload = true
      this.destroy(
        this.#error(
          'ERR_S3_SINK_SOURCE_CHANGED',
          `part ${part.partNumber} of the source differs from the part stored by the upload being resumed ` +
            '(size or checksum): it is not the source the upload began with',
          { partNumber: part.partNumber },
        ),
      )
    }
    if (part.size !== stored.size) {
      changed()
      return
    }
    if (stored.checksum === undefined || part.checksum === undefined) return
    this.#pendingChecks.push(
      part.checksum.then((sum) => {
        if (sum !== stored.checksum) changed()
      }),
    )
  }

  #checkpoint(): ResumeState {
    return {
      version: 1,
      bucket: this.#options.params.Bucket,
      key: this.#options.params.Key,
      uploadId: this.#upload?.uploadId ?? '',
      partSize: this.#options.partSize,
      maxParts: this.#options.maxParts,
      uniformParts: this.#options.uniformParts,
      ...(this.#options.expectedSize === undefined ? {} : { expectedSize: this.#options.expectedSize }),
      checksum: this.#options.checksum,
      parts: [...this.#completedParts].sort((a, b) => a.partNumber - b.partNumber),
      bytesUploaded: this.#bytesUploaded,
    }
  }

  #partError(part: Part, err: unknown): Error {
    if (err instanceof S3SinkError) return err
    const cause = err instanceof RetriesExhausted ? err.lastError : err
    if (cause instanceof S3SinkError && cause.code !== 'ERR_S3_SINK_STALLED') return cause
    const attempts = err instanceof RetriesExhausted ? err.attempts : undefined
    const tried = attempts === undefined ? '' : ` after ${attempts} attempt${attempts === 1 ? '' : 's'}`
    return this.#error('ERR_S3_SINK_PART_FAILED', `part ${part.partNumber} failed${tried}: ${describe(cause)}`, {
      cause,
      partNumber: part.partNumber,
      attempts,
      statusCode: httpStatus(cause),
    })
  }

  #error(
    code: S3SinkErrorCode,
    message: string,
    context: ConstructorParameters<typeof S3SinkError>[2] = {},
  ): S3SinkError {
    return new S3SinkError(code, message, {
      bucket: this.#options.params.Bucket,
      key: this.#options.params.Key,
      uploadId: this.#upload?.uploadId,
      bytesWritten: this.#bytesWritten,
      bytesUploaded: this.#bytesUploaded,
      ...context,
    })
  }
}

export declare interface S3Sink {
  on<E extends keyof S3SinkEvents>(event: E, listener: (...args: S3SinkEvents[E]) => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
  once<E extends keyof S3SinkEvents>(event: E, listener: (...args: S3SinkEvents[E]) => void): this
  once(event: string | symbol, listener: (...args: any[]) => void): this
}
