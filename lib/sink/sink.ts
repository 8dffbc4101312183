import { setMaxListeners } from 'node:events'
import { checksumMember, type HasherFactory, loadedHasher, loadHasher } from '../checksum/checksum.js'
import { ObjectChecksummer } from '../checksum/object-checksum.js'
import { S3SinkError, type S3SinkErrorCode, type S3SinkErrorContext } from '../core/errors.js'
import type {
  ChecksumType,
  Part,
  PartInfo,
  ProgressInfo,
  ResumeState,
  RetryInfo,
  S3SinkResult,
  StoredPart,
} from '../core/types.js'
import { completeAnswer } from '../store/head-object.js'
import { type Completed, MultipartUpload } from '../store/multipart-upload.js'
import { PartSender } from '../store/part-upload.js'
import { RequestPath, type Sent } from '../store/request.js'
import { isThrottling } from '../store/retry.js'
import {
  TELEMETRY_PARENT,
  type TelemetryParentOption,
  type UploadSummary,
  UploadTelemetry,
} from '../store/telemetry.js'
import { ByteWritable } from './byte-writable.js'
import { type ResolvedOptions, requestPolicy, resolveOptions, type S3SinkOptions } from './options.js'
import { BlockPool, PartBuffer } from './part-buffer.js'
import { type PartSizeSchedule, partSizeSchedule } from './part-size.js'
import { type ReplayCheck, takeUp } from './resume.js'
import type { WritableEvents } from './typed-events.js'
import { budgetWindow, type Seat, SHARED_WINDOW, type SharedWindowOption, UploadWindow } from './window.js'

/** A part's answer, the attempts it took, when the first began, and the checksum the sink sent. */
type Outcome = Sent<{ ETag?: string | undefined }> & { checksum?: string | undefined }

/** Every event of an `S3Sink` and its listener's arguments: `sink.on('part', (info) => …)` is typed from here. */
export interface S3SinkEvents extends WritableEvents {
  /** A part the store acknowledged: its number, size, ETag, checksum, attempts and duration. */
  part: [info: PartInfo]
  /** Where the upload stands, after each part the store acknowledged (as `sink.progress`). */
  progress: [progress: ProgressInfo]
  /**
   * After each part the store acknowledged: what it takes to resume the upload, JSON-serializable and without
   * secrets. Save it (write and rename) to resume after a crash with the `resume` option. Computed only while
   * someone listens.
   */
  checkpoint: [state: ResumeState]
  /** An attempt at a request failed and another follows after `delayMs`; the error is scrubbed. */
  retry: [info: RetryInfo]
  /** An `S3SinkError` for the upload's own failures; the source's error, or Node's, when the stream fails for them. */
  error: [err: S3SinkError | Error]
}

/** What a part that got its place after another part failed ends with: it was not sent. */
const NOT_SENT = new Error('not sent: another part failed')

/** The most of one write copied in before the window is checked again. */
const COPY_STEP = 1024 * 1024
/** What ready() writes: a write is taken once the writes before it are and the window has room. */
const EMPTY = Buffer.alloc(0)

/**
 * A Writable that uploads what is written to it into one S3 object, through the multipart upload API.
 *
 * Bytes are copied once into parts (blocks reused from part to part); full parts are uploaded in the
 * background, at most `concurrency` at once, and writes wait while that many are in flight. On `end` the sink
 * waits for its parts and completes the upload; `'finish'` means the object exists. A stream that ends before its first
 * part is full is stored with one PutObject. On any failure, in-flight requests are cancelled and the
 * multipart upload is aborted (unless `leavePartsOnError`).
 *
 * @example A file through gzip into an object
 * ```ts
 * import { createReadStream } from 'node:fs'
 * import { pipeline } from 'node:stream/promises'
 * import { createGzip } from 'node:zlib'
 * import { S3Client } from '@aws-sdk/client-s3'
 * import { S3Sink } from 's3-sink'
 *
 * const sink = new S3Sink({
 *   client: new S3Client({}),
 *   params: { Bucket: 'my-bucket', Key: 'logs/app.log.gz', ContentEncoding: 'gzip' },
 * })
 * sink.on('progress', (p) => console.log(`${p.bytesUploaded} bytes stored`))
 * await pipeline(createReadStream('app.log'), createGzip(), sink) // resolves once the object exists
 * console.log(sink.result) // { Bucket, Key, ETag, size, parts, checksum, … }
 * ```
 */
export class S3Sink extends ByteWritable<S3SinkEvents> {
  /** What was stored; set before `'finish'`. */
  result: S3SinkResult | undefined

  readonly #options: ResolvedOptions
  readonly #schedule: PartSizeSchedule
  /** Cancels every request of this sink. */
  readonly #abort = new AbortController()
  /** Every request of the sink goes this way: watchdog, retries, this sink's signal, scrubbed errors. */
  readonly #path: RequestPath
  /** The upload's span and metrics; undefined unless an OpenTelemetry provider is registered. */
  readonly #telemetry: UploadTelemetry | undefined
  /** Sends the parts' bytes. */
  readonly #sender: PartSender
  /** The requests and memory this sink's parts may take: its own, or one shared with other sinks. */
  readonly #window: UploadWindow
  readonly #seat: Seat
  #buffer: PartBuffer | undefined
  /** The whole object's checksum, from the parts' (absent with `checksum: false`). */
  #objectChecksum: ObjectChecksummer | undefined
  #upload: MultipartUpload | undefined
  readonly #completedParts: StoredPart[] = []
  /** Parts handed to the queue and not yet settled. */
  #inFlight = 0
  /** Parts handed to the queue that wait for a place: writes wait while one does. */
  #partsQueued = 0
  /** Parts being sent now. */
  #partsSending = 0
  /** A part failed: those that get their place after it are not sent. */
  #partFailed = false
  /** Parts whose blocks went back. */
  readonly #released = new WeakSet<Part>()
  /** The sink's own `concurrency` when it shares a window (an `UploadBudget`'s); its own window applies it otherwise. */
  readonly #ownLimit: number
  /** The single PutObject of a short stream is queued or in flight. */
  #putting = false
  #inFlightBytes = 0
  /** The write callback held back while the write is being copied in or the in-flight window is full. */
  #heldCallback: ((err?: Error | null) => void) | undefined
  /** `#pump()` is running, and was called again meanwhile. */
  #pumping = false
  #pumpAgain = false
  /** What of the current write is still to be copied into parts. */
  #pending: { chunks: Buffer[]; index: number; offset: number } | undefined
  #idleWaiters: (() => void)[] = []
  #failure: Error | undefined
  #bytesWritten = 0
  #bytesSent = 0
  #bytesUploaded = 0
  #peakBufferedBytes = 0
  #onSignalAbort: (() => void) | undefined
  /** When resuming from byte 0: the stored parts the source meets again, checked rather than sent. */
  #replay: ReplayCheck | undefined
  /** The length of the room lent by room(), until fill(). */
  #lent: number | undefined
  /** After suspend() or a changed source the upload stays in the store, to be resumed. */
  #keepUpload = false
  #suspending = false
  /** `end()` was called and `_final` is storing the object: a destroy now must not pass for success. */
  #completing = false
  /** Resolves once `_construct` has ended, well or not: a resumed upload has been taken up (or failed to be). */
  readonly #constructed: Promise<void>
  #onConstructed: (() => void) | undefined

  /**
   * Checks the options and prepares the upload; nothing is sent before the first part is full (or `end()`).
   * @param options The client, the object's params, and the options of {@link S3SinkOptions}.
   * @throws TypeError (`ERR_INVALID_ARG_TYPE`) when an option has the wrong type or `client`, `params.Bucket` or
   *   `params.Key` is missing; (`ERR_INVALID_ARG_VALUE`) when options contradict each other or the `resume`
   *   state (`checksum` and `params.ChecksumAlgorithm` differing, a state of another bucket or key, …).
   * @throws RangeError (`ERR_OUT_OF_RANGE`) when a number is out of its range (`partSize` outside 5 MiB..5 GiB,
   *   `concurrency` below 1, `maxParts` outside 1..10,000, a key longer than 1,024 bytes, …). The message
   *   names the option, the limit and the value.
   */
  constructor(options: S3SinkOptions) {
    const resolved = resolveOptions(options)
    super({ highWaterMark: resolved.highWaterMark, decodeStrings: true })
    this.#options = resolved
    this.#constructed = new Promise((resolve) => {
      this.#onConstructed = resolve
    })
    this.#schedule = partSizeSchedule(resolved)
    // The sinks of one S3RollingSink share its window, and those given one budget share the budget's; any other
    // sink has one of its own.
    this.#window =
      (options as SharedWindowOption)[SHARED_WINDOW] ??
      (resolved.budget && budgetWindow(resolved.budget)) ??
      new UploadWindow({ concurrency: resolved.concurrency, maxBufferedBytes: resolved.maxBufferedBytes })
    const shared = (options as SharedWindowOption)[SHARED_WINDOW] ?? resolved.budget
    this.#ownLimit = shared && resolved.concurrency !== undefined ? resolved.concurrency : Number.POSITIVE_INFINITY
    this.#seat = this.#window.join({
      pump: () => this.#pump(),
      partRoom: () => (this.#buffer && this.#buffer.fullParts === 0 ? this.#buffer.openPartRoom : 0),
    })
    // The objects of an S3RollingSink go under the context the rolling sink was made in; any other upload under
    // the caller's active context.
    this.#telemetry = UploadTelemetry.start(
      resolved.params.Bucket,
      resolved.params.Key,
      (options as TelemetryParentOption)[TELEMETRY_PARENT],
    )
    // Every part queued in the window listens to the signal: up to the window's limit and more.
    setMaxListeners(256, this.#abort.signal)
    this.#path = new RequestPath(
      resolved.client,
      requestPolicy(resolved),
      this.#abort.signal,
      (failed) => {
        if (isThrottling(failed.error)) this.#window.throttled()
        this.emit('retry', failed satisfies RetryInfo)
      },
      () => this.#context(),
      this.#telemetry,
    )
    this.#sender = new PartSender({
      path: this.#path,
      params: resolved.params,
      checksum: resolved.checksum,
      onSent: (bytes) => {
        this.#bytesSent += bytes
      },
    })
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
    this.#notePeak()
    return {
      bytesWritten: this.#bytesWritten,
      bytesSent: this.#bytesSent - this.#sender.queuedBytes(),
      bytesUploaded: this.#bytesUploaded,
      bytesBuffered: this.#bufferedBytes(),
      peakBufferedBytes: this.#peakBufferedBytes,
      partsUploaded: this.#completedParts.length,
      partsInFlight: this.#inFlight,
      concurrency: this.#window.limit,
    }
  }

  /** @internal Writable's hook, called by Node's stream machinery, not by users. */
  override _construct(done: (err?: Error | null) => void): void {
    const callback = (err?: Error | null) => {
      // Node destroys the stream with `err` a tick later: suspend(), waiting on this, must see the failure now.
      if (err) this.#failure ??= err
      done(err)
      this.#onConstructed?.()
    }
    const { checksum, resume } = this.#options
    const loaded = checksum === false ? undefined : loadedHasher(checksum)
    // The usual case, with nothing to wait for: ready at once. (With telemetry, the upload's span starts first.)
    if (!resume && !this.#telemetry && (checksum === false || loaded)) {
      this.#ready(loaded, 1)
      callback()
      return
    }
    const ready = checksum === false ? Promise.resolve(undefined) : loadHasher(checksum)
    // The first request (a resumed upload's ListParts) waits for the upload's span.
    const takenUp = this.#telemetry ? this.#telemetry.ready().then(() => this.#takeUp()) : this.#takeUp()
    Promise.all([ready, takenUp]).then(
      ([hasher, firstPartNumber]) => {
        this.#ready(hasher, firstPartNumber)
        callback()
      },
      (err: unknown) => {
        // An upload that could not be taken up stays in the store, for another try at resuming it.
        if (this.#options.resume) this.#keepUpload = true
        callback(err as Error)
      },
    )
  }

  #ready(hasher: HasherFactory | undefined, firstPartNumber: number): void {
    const { checksum } = this.#options
    const window = this.#window
    const seat = this.#seat
    const account = {
      reserve: (bytes: number, now?: boolean) => window.reserve(seat, bytes, now),
      release: (bytes: number) => window.release(seat, bytes),
    }
    const pool = window.blockSize === undefined ? undefined : BlockPool.shared(window.blockSize)
    this.#buffer = new PartBuffer(this.#schedule.sizeOf, hasher, firstPartNumber, account, pool)
    if (hasher && checksum !== false) this.#objectChecksum = new ObjectChecksummer(checksum, hasher)
  }

  /**
   * Stops taking data, lets the parts in flight finish, and keeps the multipart upload in the store. Resolves
   * with the state to resume it from (`resume` option); the stream then fails with `ERR_S3_SINK_SUSPENDED`,
   * which tells a suspension from a failure. Bytes not yet in a stored part are sent again on resume, and so are
   * the writes still waiting in the Writable's buffer: the state tells where the source is to be read again from
   * (`bytesUploaded`). A sink given `resume` suspends the upload it resumes, once it has taken it up.
   */
  async suspend(): Promise<ResumeState> {
    if (this.destroyed || this.writableFinished) {
      throw Object.assign(new Error('cannot suspend a sink that has finished or been destroyed'), {
        code: 'ERR_STREAM_DESTROYED',
      })
    }
    this.#suspending = true
    // A resumed upload is this sink's once `_construct` has taken it up: creating one before would leave it behind.
    await this.#constructed
    if (this.#failure) throw this.#failure
    // A stream still in its first part has no upload yet: create one, so that there is something to resume.
    await this.#multipartUpload().id()
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

  /**
   * Writing without a copy, for a reader that can read into memory it is given (`fs.read`, a socket's `onread`):
   * the free bytes of the part being filled, lent until {@link S3Sink.fill} says how many were written there.
   * Never empty; at most the rest of the part's current block (up to 16 MiB), so a reader takes `room()` again
   * after each `fill()`. End the stream with `end()` as after writes; a source that fails, with `destroy(err)`.
   *
   * Use it after {@link S3Sink.ready} resolved, with no `write()` pending or made until `fill()`. Asked while the
   * sink waits (as a socket asks for its next buffer right after a read), it lends the next block at once, beyond
   * the memory bound if need be: read into it only once `ready()` resolves.
   *
   * @throws Error with code `ERR_INVALID_STATE` before the sink is ready, while writes are pending or a room is
   *   already lent; `ERR_STREAM_DESTROYED` once the sink is destroyed.
   *
   * @example A file read straight into the parts
   * ```ts
   * import { open } from 'node:fs/promises'
   * import { finished } from 'node:stream/promises'
   *
   * const file = await open('backup.tar')
   * await sink.ready()
   * for (;;) {
   *   const { bytesRead } = await file.read(sink.room(), 0, undefined, null)
   *   const more = sink.fill(bytesRead)
   *   if (bytesRead === 0) break
   *   if (!more) await sink.ready()
   * }
   * await file.close()
   * sink.end()
   * await finished(sink) // the object is stored: sink.result
   * ```
   */
  room(): Buffer {
    if (this.destroyed) throw Object.assign(new Error('the sink is destroyed'), { code: 'ERR_STREAM_DESTROYED' })
    const buffer = this.#buffer
    const why = !buffer
      ? 'before the sink is ready (await ready())'
      : this.#lent !== undefined
        ? 'while a room is lent (fill() first)'
        : this.writableLength > 0
          ? 'while writes are pending (await ready())'
          : undefined
    if (why || !buffer) throw Object.assign(new Error(`room() called ${why}`), { code: 'ERR_INVALID_STATE' })
    // After fill() returned true or ready() resolved, the block being filled has room. A reader may also ask
    // while the sink waits — a socket asks for its next buffer right after each read, and reads into it only once
    // resumed — and gets the next block at once, beyond the memory bound if need be: one block per reader.
    if (buffer.blockRoom === 0) {
      while (buffer.fullParts > 0 && !this.#suspending) this.#startPart(buffer.takeFull() as Part)
      buffer.grow(true)
    }
    const room = buffer.room()
    this.#lent = room.length
    return room
  }

  /**
   * Takes in the first `n` bytes of the last {@link S3Sink.room}, which a reader wrote there, and ends the loan
   * (`fill(0)`: nothing was written). As for a write, full parts go out with their checksums. Returns whether
   * the sink takes more at once; when false, wait for {@link S3Sink.ready} before the next `room()`. Once the
   * sink has failed, takes nothing and returns false (the block lent goes back to its pool only now, so that a
   * read still under way at the failure wrote into memory nobody else had).
   *
   * @throws RangeError (`ERR_OUT_OF_RANGE`) when `n` is not a whole number within the room lent; Error
   *   (`ERR_INVALID_STATE`) when no room is lent.
   */
  fill(n: number): boolean {
    const lent = this.#lent
    if (lent === undefined) {
      throw Object.assign(new Error('fill() called without a room lent (room() first)'), { code: 'ERR_INVALID_STATE' })
    }
    if (!Number.isInteger(n) || n < 0 || n > lent) {
      const message = `fill(n): n must be a whole number from 0 to ${lent} (the room lent), got ${n}`
      throw Object.assign(new RangeError(message), { code: 'ERR_OUT_OF_RANGE' })
    }
    this.#lent = undefined
    const buffer = this.#buffer as PartBuffer
    buffer.fill(this.destroyed ? 0 : n)
    if (this.destroyed) return false
    if (n > 0) this.#accepted(n)
    return !this.destroyed && !this.#mustWait() && (buffer.blockRoom > 0 || this.#growForReader(buffer))
  }

  /** The next block for a reader: a full part goes out first (more bytes come), then memory is asked. */
  #growForReader(buffer: PartBuffer): boolean {
    while (buffer.fullParts > 0 && !this.#suspending) this.#startPart(buffer.takeFull() as Part)
    return !this.destroyed && !this.#mustWait() && buffer.grow()
  }

  /**
   * Resolves once the sink takes bytes: it is ready (a resumed upload's stored parts looked up), the writes made
   * before are taken in, and its window has room. Rejects once the sink has failed or ended.
   */
  ready(): Promise<void> {
    // A write after end() would fail the stream, and with it an upload that may be completing.
    if (this.writableEnded || this.destroyed) {
      const ended = Object.assign(new Error('the sink has ended'), { code: 'ERR_STREAM_WRITE_AFTER_END' })
      return Promise.reject(this.#failure ?? ended)
    }
    return new Promise((resolve, reject) => this.write(EMPTY, (err) => (err ? reject(err) : resolve())))
  }

  /** @internal Writable's hook, called by Node's stream machinery, not by users. */
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.#lent !== undefined) {
      callback(Object.assign(new Error('write() while a room is lent (fill() first)'), { code: 'ERR_INVALID_STATE' }))
      return
    }
    // Most writes fit in the block being filled while no part of the sink waits for a place: copied in at once,
    // with nothing allocated for them and nothing asked of the window (a write of 16 KiB and one of 64 KiB are
    // called 65,536 and 16,384 times per GiB). An empty write (`ready()`) takes the slow way: it waits for a block.
    this.#heldCallback = callback
    const buffer = this.#buffer as PartBuffer
    if (chunk.length <= buffer.blockRoom && chunk.length > 0 && !this.#mustWait() && !this.destroyed) {
      this.#accept(chunk)
      if (this.destroyed) this.#releaseHeld(this.#failure ?? null)
      else if (!this.#mustWait()) this.#releaseHeld(null)
      return
    }
    this.#take([chunk])
  }

  /** @internal Writable's hook, called by Node's stream machinery, not by users. */
  override _writev(chunks: { chunk: Buffer }[], callback: (err?: Error | null) => void): void {
    this.#heldCallback = callback
    this.#take(chunks.map(({ chunk }) => chunk))
  }

  /** @internal Writable's hook, called by Node's stream machinery, not by users. */
  override _final(callback: (err?: Error | null) => void): void {
    this.#finish().then(
      () => {
        this.#telemetry?.end(null, this.#summary())
        callback()
      },
      (err: unknown) => callback(err as Error),
    )
  }

  /** @internal Writable's hook, called by Node's stream machinery, not by users. */
  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (err === null && this.result && this.writableFinished) {
      // Stored: nothing is in flight and nothing is left to clean up (this runs after every object).
      this.#detachSignal()
      this.#window.leave(this.#seat)
      callback(null)
      return
    }
    // The moment the upload is known to have failed: the clean-up's deadline starts now.
    const failedAt = Date.now()
    this.#failure ??= err ?? new Error('destroyed')
    this.#detachSignal()
    const putting = this.#putting
    this.#abort.abort(this.#failure)
    this.#pending = undefined
    this.#notePeak()
    // Parts not yet sent will not be: their blocks go back to the pool (parts in flight give theirs as they settle).
    this.#buffer?.dispose()
    this.#releaseHeld(err)
    const report = (reported: Error | null) => {
      if (reported instanceof S3SinkError) reported.cleanupMs = Date.now() - failedAt
      this.#telemetry?.end(reported, this.#summary())
      callback(reported)
    }
    this.#cleanUp(err)
      .finally(() => this.#window.leave(this.#seat))
      .then(
        (stored) => report(err ?? this.#destroyedWhileCompleting(stored, putting)),
        (cleanupErr: unknown) => report(cleanupErr as Error),
      )
  }

  /**
   * `destroy()` without an error after `end()` never passes for success: the object may not exist. If it does
   * (the Complete went through before the destroy), the error says so and carries the result. A PutObject cut
   * off in flight may have reached the store all the same: the error says that too.
   */
  #destroyedWhileCompleting(stored: S3SinkResult | undefined, putting: boolean): Error | null {
    if (!this.#completing || this.writableFinished) return null
    if (stored) {
      return this.#error(
        'ERR_S3_SINK_DESTROYED',
        'the sink was destroyed while completing the upload, but the object was stored: see `result`',
        { result: stored },
      )
    }
    return this.#error(
      'ERR_S3_SINK_DESTROYED',
      putting
        ? 'the sink was destroyed while its PutObject was in flight: the store may or may not hold the object'
        : 'the sink was destroyed before the object was stored; nothing was stored',
    )
  }

  #accept(chunk: Buffer): void {
    ;(this.#buffer as PartBuffer).push(chunk)
    this.#accepted(chunk.length)
  }

  /** `n` more bytes are in the part buffer (copied in, or filled in place): full parts go out. */
  #accepted(n: number): void {
    const buffer = this.#buffer as PartBuffer
    this.#bytesWritten += n
    if (this.#suspending) return
    if (buffer.fullParts > 0) {
      // Bytes held only grow from one part taken or settled to the next: the peak is noted there, not per write.
      this.#notePeak()
      // A full part is sent once the next byte arrives, so a stream of exactly one part is one PutObject.
      while (buffer.fullParts > 0 && (this.#upload || buffer.fullParts > 1 || buffer.openPartSize > 0)) {
        this.#startPart(buffer.takeFull() as Part)
      }
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

  /** A write that crosses a block boundary, meets a part waiting for a place, or a `_writev`. */
  #take(chunks: Buffer[]): void {
    this.#pending = { chunks, index: 0, offset: 0 }
    this.#pump()
  }

  /**
   * Copies the current write into parts, 1 MiB (or up to a block's end) at a time, and only while no part of the
   * sink waits for a place and the window grants each block's memory: a write larger than the window waits,
   * partly copied, for parts to be stored, so that memory stays bounded whatever the size of a write.
   * Acknowledges the write once it is all copied and no part waits. Runs on a write that does not fit the block,
   * when a part of the sink gets its place, and when the window grants the memory asked.
   */
  #pump(): void {
    // Called again while it runs — a part started while copying got its place at once, or the write it
    // acknowledged brought the next one (the Writable calls `_write` from within the callback): the running pump
    // copies that too, rather than two copying at once.
    if (this.#pumping) {
      this.#pumpAgain = true
      return
    }
    this.#pumping = true
    try {
      do {
        this.#pumpAgain = false
        this.#copyPending()
      } while (this.#pumpAgain)
    } finally {
      this.#pumping = false
    }
  }

  #copyPending(): void {
    const pending = this.#pending
    const buffer = this.#buffer
    if (!buffer) return
    while (pending && pending.index < pending.chunks.length) {
      if (this.destroyed || this.#mustWait()) return
      if (buffer.blockRoom === 0) {
        // More bytes come: a full part held back in case it was the last (a stream of one part is one PutObject)
        // is not, and goes out before the sink asks for memory, which it gives back once stored.
        if (buffer.fullParts > 0 && !this.#suspending) {
          this.#startPart(buffer.takeFull() as Part)
          continue
        }
        if (!buffer.grow()) return
      }
      const chunk = pending.chunks[pending.index] as Buffer
      const end = Math.min(chunk.length, pending.offset + buffer.blockRoom, pending.offset + COPY_STEP)
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
    else if (!this.#mustWait()) this.#releaseHeld(null)
  }

  /**
   * Whether writes must wait: a full part of the sink waits for a place in the window (so a fast source holds
   * at most one part beyond those in flight), the sink is at its own `concurrency` under a shared window, or it
   * is suspending.
   */
  #mustWait(): boolean {
    return this.#suspending || this.#partsQueued > 0 || this.#inFlight >= this.#ownLimit
  }

  #startPart(part: Part): void {
    if (this.#replay?.covers(part.partNumber)) {
      this.#replay.check(part, (err) => {
        this.#keepUpload = true
        this.destroy(err)
      })
      return
    }
    const upload = this.#multipartUpload()
    this.#inFlight++
    this.#partsQueued++
    this.#inFlightBytes += part.size
    this.#notePeak()
    let placed = false
    const task = async (): Promise<Outcome> => {
      placed = true
      this.#partsQueued--
      // The part has its place: writes held back for it go on.
      if (this.#partsQueued === 0) this.#pump()
      // Another part failed a moment ago (the sink learns it just after the window gives this part its place):
      // this one is not sent.
      if (this.#partFailed) throw NOT_SENT
      this.#partsSending++
      try {
        const uploadId = await upload.id()
        const outcome = await this.#sender.uploadPart(uploadId, part)
        return { ...outcome, checksum: await part.checksum }
      } catch (err) {
        this.#partFailed = true
        throw err
      } finally {
        this.#partsSending--
        // Its memory goes back now, before the window gives the next part its place.
        this.#releasePart(part)
      }
    }
    this.#window.run(task, { signal: this.#abort.signal, bytes: part.size }).then(
      (outcome) => this.#onPartSettled(part, undefined, outcome),
      (err: unknown) => {
        // A part cancelled before it had its place.
        if (!placed) this.#partsQueued--
        this.#onPartSettled(part, err, undefined)
      },
    )
  }

  #multipartUpload(): MultipartUpload {
    const { params, checksum, cleanupTimeout } = this.#options
    this.#upload ??= new MultipartUpload(this.#path, params, { checksum, cleanupTimeout })
    return this.#upload
  }

  /** Every part's outcome comes here: in-flight accounting, events, backpressure, failure. */
  #onPartSettled(part: Part, err: unknown, outcome: Outcome | undefined): void {
    this.#notePeak()
    this.#releasePart(part)
    this.#inFlight--
    if (err !== undefined || outcome === undefined) {
      if (!this.#abort.signal.aborted && err !== NOT_SENT) this.destroy(err as Error)
    } else {
      this.#recordPart(part, outcome)
    }
    // Below its own concurrency again: writes held back for it go on.
    if (this.#inFlight + 1 === this.#ownLimit) this.#pump()
    if (this.#inFlight === 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve()
    }
  }

  /** A part's blocks go back, once, whether it was stored, failed, or never sent. */
  #releasePart(part: Part): void {
    if (this.#released.has(part)) return
    this.#released.add(part)
    part.release()
    this.#inFlightBytes -= part.size
  }

  #recordPart(part: Part, outcome: Outcome): void {
    const { checksum } = this.#options
    // Swift's s3api does not echo part checksums and rejects a Complete that carries them: only a
    // checksum the store acknowledged goes into CompleteMultipartUpload.
    const echoed = checksum === false ? undefined : (outcome.value as Record<string, unknown>)[`Checksum${checksum}`]
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
    this.#completing = true
    this.#notePeak()
    const buffer = this.#buffer as PartBuffer
    if (!this.#upload && buffer.fullParts <= 1) {
      const part = buffer.fullParts === 1 ? (buffer.takeFull() as Part) : buffer.takeRest()
      await this.#putObject(part)
      return
    }
    while (buffer.fullParts > 0) this.#startPart(buffer.takeFull() as Part)
    if (buffer.openPartSize > 0) this.#startPart(buffer.takeRest())
    const endedEarly = this.#replay?.endedEarly(buffer.openPartNumber, this.#bytesWritten)
    if (endedEarly) {
      this.#keepUpload = true
      throw endedEarly
    }
    await this.#whenIdle()
    await this.#replay?.settled()
    if (this.#failure) throw this.#failure
    const parts = this.#sortedParts()
    const type = this.#options.checksumType
    // A FULL_OBJECT value goes with Complete, for the store to check.
    const whole = type === 'FULL_OBJECT' ? await this.#objectChecksum?.value(parts, type) : undefined
    const completed = await (this.#upload as MultipartUpload).complete(parts, whole)
    await this.#stored(this.#resultOf(completed, parts), parts, type, completed.checksum)
  }

  /**
   * The object is stored: `result` is set, with the object's checksum (of `type`, formed from `parts`) checked
   * against `reported`, the store's. A store that holds another value than the sink computed ends the stream
   * with ERR_S3_SINK_CHECKSUM_MISMATCH; the object stays (it may have replaced an earlier one), `result` says
   * what it is.
   */
  async #stored(
    result: S3SinkResult,
    parts: readonly StoredPart[],
    type: ChecksumType | undefined,
    reported: string | undefined,
  ): Promise<void> {
    const checked = type && (await this.#objectChecksum?.check(parts, type, reported))
    if (checked) result.checksum = checked.checksum
    this.result = result
    this.#detachSignal()
    if (checked && checked.storeValue !== undefined) {
      const { algorithm, value } = checked.checksum
      throw this.#error(
        'ERR_S3_SINK_CHECKSUM_MISMATCH',
        `the store holds the object with ${algorithm} ${checked.storeValue}, but the bytes written have ` +
          `${value}: the object is stored, and it is not what was written`,
        { result },
      )
    }
  }

  #sortedParts(): StoredPart[] {
    return [...this.#completedParts].sort((a, b) => a.partNumber - b.partNumber)
  }

  #resultOf(completed: Completed, parts: readonly StoredPart[]): S3SinkResult {
    return {
      Bucket: this.#options.params.Bucket,
      Key: this.#options.params.Key,
      ETag: completed.ETag ?? '',
      size: this.#bytesUploaded,
      parts: parts.length,
      uploadId: this.#upload?.uploadId as string,
      ...(completed.VersionId ? { VersionId: completed.VersionId } : {}),
      ...(completed.Location ? { Location: completed.Location } : {}),
    }
  }

  async #putObject(part: Part): Promise<void> {
    this.#inFlightBytes += part.size
    this.#putting = true
    let outcome: Sent<{ ETag?: string; VersionId?: string }>
    try {
      outcome = await this.#window.run(() => this.#sender.putObject(part), {
        signal: this.#abort.signal,
        bytes: part.size,
        short: true,
      })
    } finally {
      part.release()
      this.#inFlightBytes -= part.size
      this.#putting = false
    }
    this.#bytesUploaded = part.size
    const { checksum, params } = this.#options
    const value = await completeAnswer(this.#path, params, checksum, {
      ETag: outcome.value.ETag,
      VersionId: outcome.value.VersionId,
      ...(checksum === false
        ? {}
        : { checksum: (outcome.value as Record<string, string | undefined>)[checksumMember(checksum)] }),
    })
    const stored: StoredPart = { partNumber: 1, size: part.size, etag: value.ETag ?? '' }
    if (checksum !== false) stored.checksum = await part.checksum
    const result: S3SinkResult = {
      Bucket: params.Bucket,
      Key: params.Key,
      ETag: value.ETag ?? '',
      size: part.size,
      parts: 0,
      ...(value.VersionId ? { VersionId: value.VersionId } : {}),
    }
    // One PutObject: the checksum of all the bytes, whatever the upload's type would have been.
    await this.#stored(result, [stored], checksum === false ? undefined : 'FULL_OBJECT', value.checksum)
  }

  /** After a failure: the upload is abandoned (aborted), unless it is kept or stored. */
  async #cleanUp(err: Error | null): Promise<S3SinkResult | undefined> {
    const upload = this.#upload
    if (this.result || !upload || this.#options.leavePartsOnError || this.#keepUpload) {
      await this.#whenIdle()
      return this.result
    }
    try {
      const stored = await upload.abandon(
        this.#whenIdle(),
        // Parts being sent may land after the abort; parts still waiting for a place are cancelled before they start.
        this.#partsSending > 0,
        this.#completing ? () => this.#sortedParts() : undefined,
      )
      return stored && this.#resultOf(stored, this.#sortedParts())
    } catch (abortError) {
      if (err instanceof S3SinkError) err.abortError = abortError
      else if (err) Object.assign(err, { abortError, uploadId: upload.uploadId })
      return undefined
    }
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

  /** Takes up the upload of `resume`, if given; returns the number of the first part this sink's source fills. */
  async #takeUp(): Promise<number> {
    const { resume, params, checksum, cleanupTimeout } = this.#options
    if (!resume) return 1
    this.#upload = new MultipartUpload(this.#path, params, { checksum, cleanupTimeout, uploadId: resume.uploadId })
    const { kept, firstPartNumber, replay } = await takeUp(this.#path, this.#options, (code, message, context) =>
      this.#error(code, message, context),
    )
    this.#replay = replay
    this.#completedParts.push(...kept)
    this.#bytesUploaded = kept.reduce((sum, p) => sum + p.size, 0)
    return firstPartNumber
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
      ...(this.#options.checksumType ? { checksumType: this.#options.checksumType } : {}),
      parts: this.#sortedParts(),
      bytesUploaded: this.#bytesUploaded,
    }
  }

  /** How the upload ended, for its span. */
  #summary(): UploadSummary {
    return {
      result: this.result,
      uploadId: this.#upload?.uploadId,
      bytesWritten: this.#bytesWritten,
      bytesUploaded: this.#bytesUploaded,
      parts: this.#completedParts.length,
    }
  }

  /** What every error of this sink carries. */
  #context(): S3SinkErrorContext {
    return {
      bucket: this.#options.params.Bucket,
      key: this.#options.params.Key,
      uploadId: this.#upload?.uploadId,
      bytesWritten: this.#bytesWritten,
      bytesUploaded: this.#bytesUploaded,
    }
  }

  #error(code: S3SinkErrorCode, message: string, context: S3SinkErrorContext = {}): S3SinkError {
    return new S3SinkError(code, message, { ...this.#context(), ...context })
  }
}
