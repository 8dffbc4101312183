import { finished, pipeline, Writable } from 'node:stream'
import { finished as whenFinished } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { S3SinkError, type S3SinkErrorCode, type S3SinkErrorContext } from '../core/errors.js'
import { MAX_KEY_BYTES } from '../core/limits.js'
import type {
  ResumeState,
  RetryInfo,
  RolledObject,
  RollingObjectState,
  RollingProgress,
  RollingResumeState,
  S3SinkResult,
} from '../core/types.js'
import { ByteWritable } from '../sink/byte-writable.js'
import { requestPolicy, type S3SinkOptions } from '../sink/options.js'
import { S3Sink } from '../sink/sink.js'
import type { WritableEvents } from '../sink/typed-events.js'
import { afterQueuedChunks } from '../sink/web.js'
import { budgetWindow, SHARED_WINDOW, type SharedWindowOption, UploadWindow } from '../sink/window.js'
import { RequestPath } from '../store/request.js'
import {
  activeContext,
  TELEMETRY_PARENT,
  type TelemetryContext,
  type TelemetryParentOption,
} from '../store/telemetry.js'
import { CUT, type Cut, RecordCutter } from './record-cutter.js'
import { type ResolvedRollingOptions, resolveRollingOptions, type S3RollingSinkOptions } from './rolling-options.js'
import { type Replayed, takeUpObjects } from './rolling-resume.js'

export type { S3RollingSinkOptions }

/** Every event of an `S3RollingSink` and its listener's arguments. */
export interface S3RollingSinkEvents extends WritableEvents {
  /** An object stored, in index order. */
  object: [object: RolledObject]
  /**
   * What is durable changed (an object began, was cut, stored a part, was stored): the state to continue from
   * after a crash, as the `resume` option. Save it before the listener returns (`writeFileSync` of a temporary
   * file, then `renameSync`): the sink sends the request that follows only after it. It covers the bytes the
   * sink has taken in: writes still waiting in its buffer lie past the objects it names, and are read again.
   */
  checkpoint: [state: RollingResumeState]
  /** An attempt at a request about object `key` failed and another follows. */
  retry: [
    info: RetryInfo & {
      /** The key of the object the request was about. */
      key: string
    },
  ]
  /** An `S3SinkError` (with `objectIndex` and `objects` when an object failed), or the source's error. */
  error: [err: S3SinkError | Error]
}

/** A `rotate()` call: the mark it writes after the caller's bytes, and its promise's ends. */
interface Rotation {
  /** An empty write of its own, told from any other by identity: the cut's place in the write order. */
  readonly mark: Buffer
  readonly resolve: (object: RolledObject | undefined) => void
  readonly reject: (err: Error) => void
}

/** An object being filled or completing. */
interface LiveObject {
  readonly index: number
  readonly key: string
  readonly offset: number
  readonly time: Date
  /** Input bytes handed to it. */
  bytes: number
  /** Its input end, once it is cut. */
  end: number | undefined
  /** Its sink; none for an object a resumed sink found stored already (its bytes are only counted). */
  readonly sink: S3Sink | undefined
  /** Its multipart upload's latest state, for the checkpoints. */
  upload: ResumeState | undefined
  /** The input bytes it had been handed when `upload` was taken. */
  fed: number
  /**
   * A resumed object's stored parts are made of this many input bytes: an age or rotate() cut waits until they
   * have been written again (gzip output lags its input, so the stored bytes alone would not say).
   */
  readonly minBytes: number
  cutDeferred: boolean
  /** Where its bytes are written: its sink, or the gzip stream in front of it. */
  readonly input: Writable
  timer: NodeJS.Timeout | undefined
  /** Settles once the object is stored, or has failed. */
  readonly stored: Promise<RolledObject>
}

/**
 * A Writable that stores one endless stream (a log, an export) as many objects of whole records: an object
 * ends right after a delimiter, before the record that would take it past `maxObjectBytes`, once
 * `maxObjectAge` has passed since its first byte, on `rotate()` and on `end()`. Each object streams through its
 * own `S3Sink` (parts go out while it fills; a small object is one PutObject) while the next one fills; all of
 * them share one window of requests and memory, and writes wait for it. `'object'` tells, in index order,
 * which input bytes are stored (`offset`, `bytes`); `'finish'` comes once every object is stored. `rotate()` and
 * `end()` take their place in the write order, after every byte written before them; `destroy()` does not: the
 * writes still waiting are dropped with the objects in flight.
 *
 * @example A log stream as one gzipped object a minute (or per 64 MiB), committing the position stored
 * ```ts
 * import { pipeline } from 'node:stream/promises'
 * import { S3Client } from '@aws-sdk/client-s3'
 * import { S3RollingSink } from 's3-sink'
 *
 * const sink = new S3RollingSink({
 *   client: new S3Client({}),
 *   params: { Bucket: 'my-logs', ContentType: 'application/x-ndjson' },
 *   key: 'app/%Y/%m/%d/%H%M%S-{id}-{index}.ndjson.gz',
 *   maxObjectAge: 60_000,
 *   gzip: true,
 * })
 * sink.on('object', ({ offset, bytes }) => commitPosition(offset + bytes)) // every byte before it is stored
 * process.on('SIGHUP', () => sink.rotate()) // a new object now
 * await pipeline(source, sink) // once the source ends, what is buffered is stored, then 'finish'
 * ```
 */
export class S3RollingSink extends ByteWritable<S3RollingSinkEvents> {
  /** The objects stored so far, in index order. */
  readonly objects: RolledObject[] = []

  readonly #options: ResolvedRollingOptions
  readonly #window: UploadWindow
  readonly #cutter: RecordCutter
  /** The object being filled. */
  #current: LiveObject | undefined
  /** Objects started and not yet settled, by index. */
  readonly #live = new Map<number, LiveObject>()
  /** Objects stored whose earlier ones are not all stored yet, by index. */
  readonly #waiting = new Map<number, RolledObject>()
  readonly #keys = new Set<string>()
  #nextIndex = 0
  /** Input bytes handed to objects. */
  #offset = 0
  #bytesWritten = 0
  #bytesStored = 0
  #peakBufferedBytes = 0
  /** Rotations asked for and not yet reached in the write order, by their mark. */
  readonly #rotations = new Map<Buffer, Rotation>()
  /** The object `end()` ended (none when nothing was written since the last cut), once `_final` has run. */
  #endedObject: Promise<RolledObject> | undefined
  /** A write is being handed to objects: a cut asked for now waits for its end, so that no record is split. */
  #feeding = false
  #cutWanted = false
  /** The write callback held while a failure is reported. */
  #heldCallback: ((err?: Error | null) => void) | undefined
  /** The first failure; the sink fails once the objects before it have settled. */
  #failure: Error | undefined
  #onSignalAbort: (() => void) | undefined
  /** Resuming: the objects of the state not yet begun again, in index order. */
  #toReplay: RollingObjectState[] = []
  /** Resuming: how each object of the state is taken up, by index (found in `_construct`). */
  #replayed = new Map<number, Replayed>()
  /** Input bytes seen so far (from the resume offset): those before `#replayEnd` are cut where the state says. */
  #routed = 0
  #replayEnd = 0
  /** The ends of the state's objects that were cut, in order. */
  #replayEnds: number[] = []
  /** The state's next index: objects begun again come before it. */
  #resumeNextIndex = 0
  #lastCheckpoint: string | undefined
  /** Cancels the requests of `_construct` when the sink is destroyed. */
  readonly #construction = new AbortController()
  /** The caller's OpenTelemetry context when the sink was made: the parent of every object's upload span. */
  readonly #telemetryParent: TelemetryContext | undefined = activeContext()

  /**
   * Checks the options; nothing is sent before the first object's first part is full (or `end()`).
   * @param options The client, the bucket and headers, the key template, when objects end, and the options of
   *   each object's `S3Sink` (see {@link S3RollingSinkOptions}).
   * @throws TypeError (`ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE`) when an option has the wrong type or a
   *   wrong value: a missing `client`, `params.Bucket` or `key`, a `params.Key`, a key template with an unknown
   *   token (`%y`, `{idx}`), an `S3Sink` option a rolling sink does not take (`sourceOffset`, …).
   * @throws RangeError (`ERR_OUT_OF_RANGE`) when a number is out of its range (`maxObjectBytes` below 1,
   *   `maxObjectAge` outside 1 ms..24.8 days, or the per-object options' limits, as for `S3Sink`).
   */
  constructor(options: S3RollingSinkOptions) {
    const resolved = resolveRollingOptions(options)
    super({ highWaterMark: resolved.resolved.highWaterMark, decodeStrings: true })
    this.#options = resolved
    // The objects share the budget's window when given one, else one of the rolling sink's own.
    const { concurrency, maxBufferedBytes, budget } = resolved.resolved
    this.#window = budgetWindow(budget) ?? new UploadWindow({ concurrency, maxBufferedBytes, shared: true })
    this.#cutter = new RecordCutter(resolved.maxObjectBytes, resolved.delimiter)
    const { resume } = resolved
    if (resume) {
      this.#offset = resume.offset
      this.#routed = resume.offset
      this.#toReplay = [...resume.objects]
      this.#replayEnds = resume.objects.flatMap((o) => (o.end === undefined ? [] : [o.end]))
      // Bytes up to the last cut the state knows are cut there; the cutter starts on the next object's first byte.
      this.#replayEnd = this.#replayEnds.at(-1) ?? resume.offset
      this.#nextIndex = resume.objects[0]?.index ?? resume.nextIndex
      this.#resumeNextIndex = resume.nextIndex
    }
    const { signal } = resolved.resolved
    if (signal) {
      this.#onSignalAbort = () =>
        this.destroy(this.#error('ERR_S3_SINK_ABORTED', 'the rolling sink was aborted', { cause: signal.reason }))
      if (signal.aborted) process.nextTick(this.#onSignalAbort)
      else signal.addEventListener('abort', this.#onSignalAbort, { once: true })
    }
  }

  /** This writer's id, as `{id}` expands. */
  get id(): string {
    return this.#options.id
  }

  /** Where the sink stands now: bytes written and stored, bytes held in memory, objects stored and in flight. */
  get progress(): RollingProgress {
    const buffered = this.#bufferedBytes()
    return {
      bytesWritten: this.#bytesWritten,
      bytesStored: this.#bytesStored,
      bytesBuffered: buffered,
      peakBufferedBytes: Math.max(this.#peakBufferedBytes, buffered),
      objectsStored: this.objects.length,
      objectsInFlight: this.#live.size,
    }
  }

  /**
   * Ends the object being filled after every byte written before this call, and resolves with it once it is
   * stored; with nothing written since the last cut, resolves (with `undefined`) once the objects in flight are
   * stored.
   *
   * The cut takes its place in the write order: bytes written before the call are in the object it ends, even
   * those still waiting in the Writable's buffer (right after construction, while a resumed sink looks at the
   * store, or under backpressure) or in the queue of the WritableStream from `toWeb()`; bytes written after it
   * are in the next object. Records stay whole: the start of a record written before the call goes to the next
   * object, and an object whose first record has not ended yet ends with that record. A resumed sink cuts the
   * bytes its state had cut where the state says; a rotation among them resolves with the object that holds
   * them. After `end()`, which cuts after every byte written too, resolves with the object it ended once the
   * sink has finished.
   * @throws Error (`ERR_STREAM_DESTROYED`) when the sink has finished or been destroyed; the promise rejects
   *   with the sink's error when it fails before the object is stored.
   */
  async rotate(): Promise<RolledObject | undefined> {
    if (this.destroyed || this.writableFinished) {
      throw Object.assign(new Error('cannot rotate a rolling sink that has finished or been destroyed'), {
        code: 'ERR_STREAM_DESTROYED',
      })
    }
    return new Promise<RolledObject | undefined>((resolve, reject) => {
      const rotation: Rotation = { mark: Buffer.alloc(0), resolve, reject }
      this.#rotations.set(rotation.mark, rotation)
      // Chunks still in the WritableStream's queue come first; then the mark goes after the Writable's buffer.
      afterQueuedChunks(this, () => this.#mark(rotation))
    })
  }

  /** Writes the mark of `rotation`, after every byte written so far. */
  #mark(rotation: Rotation): void {
    // The sink was destroyed while chunks before the mark waited in the WritableStream's queue: `_destroy`
    // rejects the rotation (or has).
    if (this.destroyed) return
    if (this.writableEnded) {
      // end() cuts after every byte written too: the rotation is the end's, and resolves once the sink finishes.
      this.#rotations.delete(rotation.mark)
      whenFinished(this)
        .then(() => this.#endedObject)
        .then(rotation.resolve, rotation.reject)
      return
    }
    this.write(rotation.mark)
  }

  /** The mark of a rotation reached the sink: every byte written before it has been handed to objects. */
  #rotate(rotation: Rotation): void {
    this.#rotations.delete(rotation.mark)
    const object = this.#current
    if (!object) {
      const inFlight = [...this.#live.values()].map((o) => o.stored)
      Promise.allSettled(inFlight).then(() => rotation.resolve(undefined))
      return
    }
    this.#cut()
    object.stored.then(rotation.resolve, rotation.reject)
  }

  /** @internal Writable's hook, called by Node's stream machinery, not by users. */
  override _construct(callback: (err?: Error | null) => void): void {
    const { resume, objectOptions, resolved } = this.#options
    if (!resume || resume.objects.length === 0) {
      callback()
      return
    }
    const path = new RequestPath(objectOptions.client, requestPolicy(resolved), this.#construction.signal)
    takeUpObjects(path, resume, objectOptions.params).then(
      (replayed) => {
        this.#replayed = replayed
        callback()
      },
      (err: unknown) => callback(err as Error),
    )
  }

  /** @internal Writable's hook, called by Node's stream machinery, not by users. */
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    // With no _writev, every chunk and every rotation's mark comes here one at a time, in the order written.
    const rotation = chunk.length === 0 ? this.#rotations.get(chunk) : undefined
    if (rotation) {
      this.#rotate(rotation)
      callback()
      return
    }
    this.#bytesWritten += chunk.length
    // Sampled as each write arrives, when the objects hold the most they will hold before taking it.
    const buffered = this.#bufferedBytes()
    if (buffered > this.#peakBufferedBytes) this.#peakBufferedBytes = buffered
    this.#feed(this.#route(chunk), callback)
  }

  /**
   * Cuts `chunk`: bytes of the objects a resumed state had cut are cut where it says (an age or rotate() cut
   * lands on the same byte again); the cutter takes the rest.
   */
  #route(chunk: Buffer): Cut[] {
    if (this.#routed >= this.#replayEnd) return this.#cutter.push(chunk)
    const out: Cut[] = []
    let rest = chunk
    while (rest.length > 0 && this.#routed < this.#replayEnd) {
      const end = this.#replayEnds.find((e) => e > this.#routed) as number
      const take = Math.min(rest.length, end - this.#routed)
      out.push(rest.subarray(0, take))
      this.#routed += take
      rest = rest.subarray(take)
      if (this.#routed === end) out.push(CUT)
    }
    if (rest.length > 0) out.push(...this.#cutter.push(rest))
    return out
  }

  /** @internal Writable's hook, called by Node's stream machinery, not by users. */
  override _final(callback: (err?: Error | null) => void): void {
    if (this.#routed < this.#replayEnd) {
      const err = this.#error(
        'ERR_S3_SINK_SOURCE_CHANGED',
        `the source ended at input offset ${this.#routed}, before the end of the objects the resume state had ` +
          `cut (${this.#replayEnd}): it is not the source the state was written for`,
      )
      callback(err)
      return
    }
    this.#feed(this.#cutter.flush(), (err) => {
      if (err) return callback(err)
      this.#endedObject = this.#current?.stored
      this.#endObject()
      this.#settled().then(() => {
        // A failure ends the stream with its own report, once the objects before it have settled.
        if (!this.#failure) callback()
      })
    })
  }

  /** @internal Writable's hook, called by Node's stream machinery, not by users. */
  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#failure ??= err ?? new Error('destroyed')
    this.#construction.abort()
    if (this.#onSignalAbort) this.#options.resolved.signal?.removeEventListener('abort', this.#onSignalAbort)
    for (const object of this.#live.values()) {
      clearTimeout(object.timer)
      ;(object.sink ?? object.input).destroy()
    }
    this.#current = undefined
    const held = this.#heldCallback
    this.#heldCallback = undefined
    held?.(err)
    const failure = err ?? Object.assign(new Error('the rolling sink was destroyed'), { code: 'ERR_STREAM_DESTROYED' })
    for (const rotation of this.#rotations.values()) rotation.reject(failure)
    this.#rotations.clear()
    this.#settled().then(() => {
      // Objects that turned out stored all the same (their Complete went through first) are told.
      this.#tellWaiting()
      callback(err)
    })
  }

  /**
   * Writes `cuts` into their objects in order, then calls `callback`: each piece waits for its object's sink to
   * take it, so the shared window's backpressure reaches the writer.
   */
  #feed(cuts: Cut[], callback: (err?: Error | null) => void): void {
    this.#feeding = true
    let i = 0
    const next = (err?: Error | null): void => {
      if (err || this.#failure) {
        // The object's failure is reported by the sink as a whole, once the objects before it have settled.
        this.#heldCallback = callback
        return
      }
      while (i < cuts.length) {
        const cut = cuts[i++] as Cut
        if (cut === CUT) {
          this.#endObject()
          continue
        }
        const object = this.#current ?? this.#startObject()
        if (!object) {
          next()
          return
        }
        object.bytes += cut.length
        this.#offset += cut.length
        if (object.cutDeferred && object.bytes >= object.minBytes) {
          object.cutDeferred = false
          this.#cutWanted = true
        }
        object.input.write(cut, next)
        return
      }
      this.#feeding = false
      if (this.#cutWanted) {
        this.#cutWanted = false
        this.#cut()
      }
      callback()
    }
    next()
  }

  /** Asks for the object being filled to end (its age, or `rotate()`), once the write under way is handed on. */
  #cut(): void {
    const current = this.#current
    // A resumed object's stored parts must be met again first, or they would not be its bytes.
    if (current && current.bytes < current.minBytes) {
      current.cutDeferred = true
      return
    }
    if (this.#routed < this.#replayEnd) return
    if (this.#feeding) {
      this.#cutWanted = true
      return
    }
    if (this.#cutter.requestCut() === 'now') this.#endObject()
  }

  #startObject(): LiveObject | undefined {
    const index = this.#nextIndex++
    const replaying = this.#toReplay[0]?.index === index ? this.#toReplay.shift() : undefined
    const time = replaying ? new Date(replaying.time) : new Date()
    const key = replaying ? replaying.key : this.#keyFor(index, time)
    if (key instanceof S3SinkError) {
      this.#fail(undefined, key)
      return undefined
    }
    if (replaying) this.#keys.add(key)
    const how = replaying ? this.#replayed.get(index) : undefined
    const { objectOptions, gzip, maxObjectAge } = this.#options
    const offset = this.#offset
    let sink: S3Sink | undefined
    let input: Writable
    let stored: Promise<RolledObject>
    if (how?.stored) {
      // Stored already: its bytes are counted, not sent; it is told once they have all been written again.
      const found = how.stored
      input = new Writable({ write: (_chunk, _encoding, done) => done() })
      stored = new Promise<RolledObject>((resolve, reject) => {
        finished(input, (err) => {
          if (err) return reject(err)
          resolve({
            index,
            key,
            etag: found.etag,
            bytes: object.bytes,
            storedBytes: found.storedBytes,
            offset,
            time,
            ...(found.VersionId ? { VersionId: found.VersionId } : {}),
          })
        })
      })
    } else {
      const resume = how?.upload
      const sinkOptions: S3SinkOptions & SharedWindowOption & TelemetryParentOption = {
        ...objectOptions,
        params: { ...objectOptions.params, Key: key },
        ...(resume ? { resume } : {}),
        [SHARED_WINDOW]: this.#window,
        [TELEMETRY_PARENT]: this.#telemetryParent,
      }
      const created = new S3Sink(sinkOptions)
      sink = created
      input = created
      if (gzip) {
        const zip = createGzip(gzip)
        // The sink reports every failure, its own and the gzip stream's (pipeline destroys it with that error).
        pipeline(zip, created, () => {})
        input = zip
      }
      created.on('retry', (info: RetryInfo) => this.emit('retry', { ...info, key }))
      if (this.listenerCount('checkpoint') > 0) {
        created.on('checkpoint', (state) => {
          object.upload = state
          object.fed = object.bytes
          this.#emitCheckpoint()
        })
      }
      stored = new Promise<RolledObject>((resolve, reject) => {
        finished(created, (err) => {
          const result = created.result ?? (err as { result?: S3SinkResult } | undefined)?.result
          if (result) resolve(this.#rolled(object, result))
          else reject(err ?? new Error('the object was not stored'))
        })
      })
    }
    const object: LiveObject = {
      index,
      key,
      offset,
      time,
      bytes: 0,
      // A replayed object the state had cut ends there again: its state says so from the start.
      end: replaying?.end,
      sink,
      upload: how?.upload,
      fed: replaying?.fed ?? 0,
      minBytes: how?.upload ? (replaying?.fed ?? how.upload.bytesUploaded) : 0,
      cutDeferred: false,
      input,
      timer: undefined,
      stored,
    }
    if (maxObjectAge !== Number.POSITIVE_INFINITY && replaying?.end === undefined) {
      // A resumed object ages from its first byte in the first run.
      const left = Math.max(0, time.getTime() + maxObjectAge - Date.now())
      object.timer = setTimeout(() => {
        if (this.#current === object) this.#cut()
      }, left)
    }
    this.#live.set(index, object)
    this.#current = object
    stored.then(
      (rolled) => this.#onStored(object, rolled),
      (err: unknown) => this.#fail(object, err),
    )
    this.#emitCheckpoint()
    return object
  }

  /** The key of object `index`, or the error that it cannot have one. */
  #keyFor(index: number, time: Date): string | S3SinkError {
    const { template, key: make, id } = this.#options
    let key: unknown
    try {
      key = template
        ? template.expand({ index, id, time })
        : (make as Exclude<typeof make, string>)({ index, id, time })
    } catch (err) {
      return this.#error('ERR_S3_SINK_KEY_INVALID', `the key function threw for object ${index}`, { cause: err })
    }
    if (typeof key !== 'string' || key === '' || Buffer.byteLength(key) > MAX_KEY_BYTES) {
      return this.#error(
        'ERR_S3_SINK_KEY_INVALID',
        `the key of object ${index} must be a non-empty string of at most ${MAX_KEY_BYTES} UTF-8 bytes, got ` +
          (typeof key === 'string' ? `${Buffer.byteLength(key)} bytes` : typeof key),
      )
    }
    if (!template?.hasIndex) {
      if (this.#keys.has(key)) {
        return this.#error(
          'ERR_S3_SINK_KEY_REPEATED',
          `object ${index} would have the key ${JSON.stringify(key)}, which this sink already used; ` +
            'add {index} (or finer time fields) to the key',
          { key },
        )
      }
      this.#keys.add(key)
    }
    return key
  }

  #endObject(): void {
    const object = this.#current
    if (!object) return
    this.#current = undefined
    clearTimeout(object.timer)
    // Recorded before the object's last request goes out: a replay cuts it at this byte, whatever cut it.
    object.end = object.offset + object.bytes
    this.#emitCheckpoint()
    object.input.end()
  }

  #rolled(object: LiveObject, result: S3SinkResult): RolledObject {
    return {
      index: object.index,
      key: object.key,
      etag: result.ETag ?? '',
      bytes: object.bytes,
      storedBytes: result.size,
      offset: object.offset,
      time: object.time,
      ...(result.VersionId ? { VersionId: result.VersionId } : {}),
      ...(result.checksum ? { checksum: result.checksum } : {}),
    }
  }

  /** An object is stored: it, and those after it that were waiting for it, are told in index order. */
  #onStored(object: LiveObject, rolled: RolledObject): void {
    this.#live.delete(object.index)
    this.#waiting.set(object.index, rolled)
    // After a failure the objects still completing are told once all have settled (see #fail).
    if (this.#failure) return
    for (let next = this.#nextToTell(); this.#waiting.has(next); next++) {
      const ready = this.#waiting.get(next) as RolledObject
      this.#waiting.delete(next)
      this.#tell(ready)
    }
    this.#emitCheckpoint()
  }

  /** The index of the next object to tell: a resumed sink told those before its state's first object. */
  #nextToTell(): number {
    const told = this.objects.at(-1)?.index
    if (told !== undefined) return told + 1
    return this.#options.resume?.objects[0]?.index ?? this.#options.resume?.nextIndex ?? 0
  }

  /** Emits `'checkpoint'` with the state as it stands, when someone listens. */
  #emitCheckpoint(): void {
    if (this.#failure || this.listenerCount('checkpoint') === 0) return
    const state = this.#checkpoint()
    // A state is saved by each listener (a file written and renamed): the same one twice is not emitted again.
    const text = JSON.stringify(state)
    if (text === this.#lastCheckpoint) return
    this.#lastCheckpoint = text
    this.emit('checkpoint', state)
  }

  /** What a restart needs: the objects begun and not yet told, and where to read the source from. */
  #checkpoint(): RollingResumeState {
    const { id, template, delimiter, maxObjectBytes, gzip, objectOptions } = this.#options
    const objects: RollingObjectState[] = []
    for (const object of this.#live.values()) {
      objects.push({
        index: object.index,
        key: object.key,
        offset: object.offset,
        time: object.time.toISOString(),
        ...(object.end === undefined ? {} : { end: object.end }),
        ...(object.upload ? { upload: object.upload, fed: object.fed } : {}),
      })
    }
    for (const rolled of this.#waiting.values()) {
      objects.push({
        index: rolled.index,
        key: rolled.key,
        offset: rolled.offset,
        time: rolled.time.toISOString(),
        end: rolled.offset + rolled.bytes,
        stored: {
          etag: rolled.etag,
          storedBytes: rolled.storedBytes,
          ...(rolled.VersionId ? { VersionId: rolled.VersionId } : {}),
        },
      })
    }
    objects.push(...this.#toReplay)
    objects.sort((a, b) => a.index - b.index)
    return {
      version: 1,
      id,
      bucket: objectOptions.params.Bucket,
      key: template ? (this.#options.key as string) : null,
      delimiter: delimiter?.toString('base64') ?? null,
      maxObjectBytes,
      gzip: gzip !== undefined,
      nextIndex: Math.max(this.#nextIndex, this.#resumeNextIndex),
      offset: objects[0]?.offset ?? this.#offset,
      objects,
    }
  }

  /** After a failure: the objects stored past the gap it left, in index order. */
  #tellWaiting(): void {
    for (const rolled of [...this.#waiting.values()].sort((a, b) => a.index - b.index)) this.#tell(rolled)
    this.#waiting.clear()
  }

  #tell(rolled: RolledObject): void {
    this.objects.push(rolled)
    this.#bytesStored += rolled.bytes
    this.emit('object', rolled)
  }

  /**
   * An object failed (or, with no object, a key could not be made): the object being filled is given up; the
   * objects already ended hold whole records and are left to complete. Once they have settled, those stored are
   * told (in index order, past the gap) and the sink fails with the failed object's code, listing them.
   */
  #fail(object: LiveObject | undefined, err: unknown): void {
    if (object) {
      clearTimeout(object.timer)
      this.#live.delete(object.index)
    }
    if (this.#failure) return
    this.#failure = err as Error
    const current = this.#current
    this.#current = undefined
    if (current && current !== object) {
      clearTimeout(current.timer)
      ;(current.sink ?? current.input).destroy()
    }
    const index = object?.index ?? this.#nextIndex - 1
    this.#settled().then(() => {
      this.#tellWaiting()
      const inner = err instanceof S3SinkError ? err : undefined
      const what = object ? `object ${index} (${object.key}) failed` : 'no object could be started'
      const count = this.objects.length
      const kept = count === 0 ? 'no object was stored' : `${count} object${count === 1 ? ' was' : 's were'} stored`
      this.destroy(
        this.#error(inner?.code ?? 'ERR_S3_SINK_PART_FAILED', `${what}: ${(err as Error).message}; ${kept}`, {
          cause: err,
          ...(object ? { key: object.key } : {}),
          ...(inner?.uploadId ? { uploadId: inner.uploadId } : {}),
          objectIndex: index,
          objects: [...this.objects],
        }),
      )
    })
  }

  /** The start of a record held back, and what the objects in flight hold. */
  #bufferedBytes(): number {
    let buffered = this.#cutter.heldBytes
    for (const object of this.#live.values()) buffered += object.sink?.progress.bytesBuffered ?? 0
    return buffered
  }

  /** Resolves once every object started has been stored or has failed. */
  async #settled(): Promise<void> {
    while (this.#live.size > 0) {
      // Each object's own handlers (attached first) have removed it by the time this resolves.
      await Promise.allSettled([...this.#live.values()].map((o) => o.stored))
    }
  }

  #error(code: S3SinkErrorCode, message: string, context: S3SinkErrorContext = {}): S3SinkError {
    return new S3SinkError(code, message, {
      bucket: this.#options.objectOptions.params.Bucket,
      bytesWritten: this.#bytesWritten,
      ...context,
    })
  }
}
