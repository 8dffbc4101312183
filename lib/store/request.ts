// The request path: every request to the store goes through RequestPath.run — stall watchdog, retries, the
// owner's AbortSignal, scrubbed errors — and fails for good as an S3SinkError named after the request.
import { setTimeout as sleep } from 'node:timers/promises'
import type { S3Client } from '@aws-sdk/client-s3'
import { describe, httpStatus, S3SinkError, type S3SinkErrorCode, type S3SinkErrorContext } from '../core/errors.js'
import type { Operation } from '../core/types.js'
import type { Deadline } from './deadline.js'
import { isRetryable, type RequestPolicy, RetriesExhausted, type RetryLimit, withRetries } from './retry.js'
import { scrub } from './scrub.js'
import { refusal } from './store-limits.js'
import type { RequestTelemetry, UploadTelemetry } from './telemetry.js'

/** What a request that fails for good fails with, unless its caller names another code. */
const FAILURE_CODES: Record<Operation, S3SinkErrorCode> = {
  CreateMultipartUpload: 'ERR_S3_SINK_CREATE_FAILED',
  UploadPart: 'ERR_S3_SINK_PART_FAILED',
  PutObject: 'ERR_S3_SINK_PUT_FAILED',
  CompleteMultipartUpload: 'ERR_S3_SINK_COMPLETE_FAILED',
  AbortMultipartUpload: 'ERR_S3_SINK_ABORT_FAILED',
  ListParts: 'ERR_S3_SINK_LIST_FAILED',
  ListMultipartUploads: 'ERR_S3_SINK_LIST_FAILED',
  HeadObject: 'ERR_S3_SINK_HEAD_FAILED',
}

/**
 * The stall timeout, in ms, of the attempts in flight once the upload's requests have been failing for
 * `retryTimeout` (`stallTimeout`, when that is shorter). Such an attempt is the last of its request: one that
 * still moves bytes may go on and save the upload, one that is silent is cut now rather than after a full
 * `stallTimeout`, so that a store that stops answering with its connections open is given up on the retry clock.
 * Long enough to keep an attempt whose body the kernel is still taking, short enough to add next to nothing to
 * `retryTimeout` + `cleanupTimeout`.
 */
export const OVERTIME_STALL_TIMEOUT = 2_000

/** An attempt that failed and will be tried again. */
export interface FailedAttempt {
  operation: Operation
  partNumber?: number
  attempt: number
  delayMs: number
  /** Scrubbed: no request, response, credential or key is reachable from it. */
  error: unknown
}

/** What one attempt is given: the signal that cancels it, and ways to tell the watchdog that bytes moved. */
export interface AttemptTools {
  signal: AbortSignal
  /** Bytes moved just now. */
  progress: () => void
  /** A counter the watchdog reads before it calls a stall: any change since its last look is progress. */
  watch: (sample: () => number) => void
  attempt: number
}

export interface Sent<T> {
  value: T
  attempts: number
  /** When the first attempt began (ms since the epoch). */
  started: number
}

/** How a request is run and named when it fails. */
export interface RunOptions {
  partNumber?: number
  /** The code of a failure for good, instead of the operation's own. */
  code?: S3SinkErrorCode
  context?: S3SinkErrorContext
  /** The fields the request sent (an SDK command's input): a refusal names the features they ask for. */
  input?: () => object | undefined
  /**
   * Cancels the attempt in flight in place of the owner's signal, whose abort then only keeps another attempt
   * from starting: the attempt in flight runs on to its answer, its stall, or this signal. For a request whose
   * answer must not be lost, because the store may act on it all the same (CreateMultipartUpload).
   */
  cutOff?: AbortSignal
  /** The size of the request's body, for its span. */
  bytes?: number
}

/** A command of `@aws-sdk/client-s3`, as far as the request path touches it. */
interface Command {
  middlewareStack: { add: (middleware: never, options: never) => void }
}

/**
 * The one way the library talks to the store. Every request gets a stall watchdog, the library's retry policy
 * (attempts and time, full jitter, longer waits after throttling), the owner's AbortSignal (an abort ends it at
 * once, with the signal's reason — or, for a request given `cutOff`, keeps another attempt from starting) and
 * error scrubbing; a request that fails for good fails with an
 * {@link S3SinkError} named after it. The SDK's own retries are turned off for these requests, so retries are
 * never doubled, never hidden from `onRetry`, and never send a second CreateMultipartUpload behind our back.
 *
 * A path is one upload's (or one helper call's): its requests share one retry clock. Once they have been failing
 * for `retryTimeout` with none succeeding, none of them is retried any more — a store that is gone is given up
 * once, not once per part, each part after the other — and the attempts still in flight, each its request's last,
 * get {@link OVERTIME_STALL_TIMEOUT} as their stall timeout until they make progress (one that still moves bytes
 * may save the upload). A stall counts as failing from the attempt's last progress, not from when it was called:
 * a store that stops answering is given up `retryTimeout` after it fell silent. A path made {@link forCleanUp}
 * has a {@link Deadline} instead: every attempt of every request on it ends by then.
 */
export class RequestPath {
  readonly client: S3Client
  readonly policy: RequestPolicy
  readonly signal: AbortSignal
  readonly #onRetry: ((failed: FailedAttempt) => void) | undefined
  readonly #context: () => S3SinkErrorContext
  /** When this path's requests began failing (ms since the epoch), none succeeding since; undefined meanwhile. */
  #failingSince: number | undefined
  /** When a request on this path last succeeded (ms since the epoch), 0 before any. */
  #succeededAt = 0
  /** Fires when the retry clock runs out; set only while the path's requests are failing. */
  #clock: NodeJS.Timeout | undefined
  /** The retry clock ran out while the path's requests were failing, and none has succeeded since. */
  #overtime = false
  /** The watchdogs of the attempts in flight, whose stall timeout the retry clock shortens. */
  readonly #inFlight = new Set<StallWatchdog>()
  /** The budget of every attempt on a clean-up path, instead of `retryTimeout`. */
  #deadline: Deadline | undefined
  /** The upload's spans and metrics, when the application registered an OpenTelemetry provider. */
  readonly #telemetry: UploadTelemetry | undefined

  constructor(
    client: S3Client,
    policy: RequestPolicy,
    signal: AbortSignal,
    onRetry?: (failed: FailedAttempt) => void,
    context: () => S3SinkErrorContext = () => ({}),
    telemetry?: UploadTelemetry,
  ) {
    this.client = client
    this.policy = policy
    this.signal = signal
    this.#onRetry = onRetry
    this.#context = context
    this.#telemetry = telemetry
  }

  /**
   * The path of the clean-up after a failure: its own signal (the owner's has fired, and clean-up goes on), and
   * `deadline`, when given, as the time budget of every attempt on it — shared, not renewed per request. Without
   * one, its requests have the policy's `retryTimeout`, on a retry clock of their own (not the upload's).
   */
  forCleanUp(deadline: Deadline | undefined): RequestPath {
    const path = new RequestPath(
      this.client,
      this.policy,
      new AbortController().signal,
      this.#onRetry,
      this.#context,
      this.#telemetry,
    )
    path.#deadline = deadline
    return path
  }

  /**
   * Runs `attempt` under the policy. Rejects with the signal's reason when it aborts, else with an
   * {@link S3SinkError} (`code`, or the operation's own) whose `cause` is the last attempt's scrubbed error —
   * or `ERR_S3_SINK_NOT_SUPPORTED` when the store refused a feature the request's `input` asked for.
   */
  async run<T>(
    operation: Operation,
    attempt: (tools: AttemptTools) => Promise<T>,
    options: RunOptions = {},
  ): Promise<Sent<T>> {
    const telemetry = this.#telemetry?.request(operation, options)
    if (!telemetry) return this.#run(operation, attempt, options, undefined)
    try {
      const sent = await this.#run(operation, attempt, options, telemetry)
      telemetry.end(this.#context().uploadId)
      return sent
    } catch (err) {
      telemetry.end(this.#context().uploadId, err, this.signal.aborted)
      throw err
    }
  }

  async #run<T>(
    operation: Operation,
    attempt: (tools: AttemptTools) => Promise<T>,
    options: RunOptions,
    telemetry: RequestTelemetry | undefined,
  ): Promise<Sent<T>> {
    const started = Date.now()
    const { partNumber } = options
    const carriesBody = operation === 'UploadPart' || operation === 'PutObject'
    const deadline = this.#deadline
    try {
      // Sent after its deadline, a request would be cancelled at once: it is not sent.
      if (deadline?.expired) throw new RetriesExhausted(deadline.reason, 0, true)
      const { value, attempts } = await withRetries(
        this.policy,
        this.signal,
        async (n) => {
          const owner = options.cutOff ?? this.signal
          const watchdog = new StallWatchdog(this.policy.stallTimeout, operation, partNumber, owner, deadline)
          this.#inFlight.add(watchdog)
          if (this.#overtime) this.#shorten(watchdog)
          const tools: AttemptTools = {
            signal: watchdog.signal,
            progress: () => watchdog.progress(),
            watch: (sample) => watchdog.watch(sample),
            attempt: n,
          }
          try {
            if (telemetry) telemetry.attempts = n
            const value = await (telemetry ? telemetry.within(() => attempt(tools)) : attempt(tools))
            this.#succeededAt = Date.now()
            if (this.#failingSince !== undefined) this.#recovered()
            return value
          } catch (err) {
            // An attempt the watchdog cancelled fails with the SDK's AbortError; report the stall (or the deadline).
            const failed = scrub(watchdog.signal.aborted && !this.signal.aborted ? watchdog.signal.reason : err)
            if (!this.signal.aborted && isRetryable(failed, carriesBody)) {
              // A stalled attempt has been failing since its last progress, not since the watchdog called it —
              // or since the path's last success, if later: the store answered then.
              this.#failing(watchdog.stalled ? Math.max(watchdog.lastProgress, this.#succeededAt) : Date.now())
            }
            throw failed
          } finally {
            watchdog.stop()
            this.#inFlight.delete(watchdog)
          }
        },
        (error, n, delayMs) => {
          telemetry?.retry(n, delayMs, error)
          this.#onRetry?.({
            operation,
            ...(partNumber === undefined ? {} : { partNumber }),
            attempt: n,
            delayMs,
            error,
          })
        },
        carriesBody,
        this.#limit(),
      )
      return { value, attempts, started }
    } catch (err) {
      if (!(err instanceof RetriesExhausted)) throw err
      const cause = err.lastError
      const what = partNumber === undefined || operation !== 'UploadPart' ? operation : `part ${partNumber}`
      const tried =
        err.attempts === 0 ? ' (not sent)' : ` after ${err.attempts} attempt${err.attempts === 1 ? '' : 's'}`
      const refused = await refusal(cause, operation, options.input?.(), this.client)
      const code = refused ? 'ERR_S3_SINK_NOT_SUPPORTED' : (options.code ?? FAILURE_CODES[operation])
      const why = refused ? `${refused}: ${describe(cause)}` : describe(cause)
      const late = err.outOfTime && err.attempts > 0 ? `; ${this.#outOfTime(started)}` : ''
      throw new S3SinkError(code, `${what} failed${tried}: ${why}${late}`, {
        ...this.#context(),
        ...options.context,
        cause,
        partNumber,
        attempts: err.attempts,
        statusCode: httpStatus(cause),
      })
    }
  }

  /**
   * When a request whose first attempt began at `started` starts no other: the deadline, on a clean-up path;
   * otherwise `retryTimeout` after that first attempt, or after this path's requests began failing, if sooner.
   */
  #limit(): RetryLimit {
    const deadline = this.#deadline
    if (deadline) return () => deadline.at
    const { retryTimeout } = this.policy
    if (retryTimeout === 0) return () => Number.POSITIVE_INFINITY
    return (started) => Math.min(started, this.#failingSince ?? started) + retryTimeout
  }

  /** The path's requests have been failing since `since` (ms since the epoch), or earlier. */
  #failing(since: number): void {
    if (this.#failingSince !== undefined && this.#failingSince <= since) return
    this.#failingSince = since
    const { retryTimeout } = this.policy
    if (this.#deadline || retryTimeout === 0) return
    clearTimeout(this.#clock)
    // A timer may fire a little early on the wall clock: it looks again until the requests find no time left.
    // A success clears it, and an earlier failure arms another.
    const check = (): void => {
      const left = since + retryTimeout - Date.now()
      if (left > 0) {
        this.#clock = setTimeout(check, left).unref()
        return
      }
      this.#clock = undefined
      this.#overtime = true
      for (const watchdog of this.#inFlight) this.#shorten(watchdog)
    }
    check()
  }

  /** A request succeeded: the store answers again, and the attempts in flight get their full stall timeout back. */
  #recovered(): void {
    this.#failingSince = undefined
    clearTimeout(this.#clock)
    this.#clock = undefined
    if (!this.#overtime) return
    this.#overtime = false
    for (const watchdog of this.#inFlight) watchdog.restore()
  }

  /** Gives an attempt in flight once the retry clock has run out its short stall timeout. */
  #shorten(watchdog: StallWatchdog): void {
    const why = `once the upload's requests had been failing for retryTimeout (${this.policy.retryTimeout} ms)`
    watchdog.shorten(OVERTIME_STALL_TIMEOUT, why)
  }

  /** Why a request that ran out of time started no other attempt. */
  #outOfTime(started: number): string {
    if (this.#deadline) return `no time was left for another attempt within cleanupTimeout (${this.#deadline.ms} ms)`
    const { retryTimeout } = this.policy
    if (this.#failingSince !== undefined && this.#failingSince < started) {
      return `the upload's requests had been failing for retryTimeout (${retryTimeout} ms), none succeeding`
    }
    return `no time was left for another attempt within retryTimeout (${retryTimeout} ms)`
  }

  /**
   * Waits `ms`, unless this path's signal aborts first (rejects with its reason) or the wait would end past the
   * path's deadline (rejects at once with the deadline's reason: what follows the wait could not be sent).
   */
  async pause(ms: number): Promise<void> {
    const deadline = this.#deadline
    if (deadline && Date.now() + ms >= deadline.at) throw deadline.reason
    // An abort during the wait rejects with Node's AbortError; report the signal's own reason instead.
    await sleep(ms, undefined, { signal: this.signal }).catch(() => this.signal.throwIfAborted())
  }

  /** Sends an SDK command (a fresh one per attempt) under the policy, with the SDK's own retries off. */
  send<T>(operation: Operation, command: () => object, options: Omit<RunOptions, 'input'> = {}): Promise<Sent<T>> {
    let input: object | undefined
    return this.run(
      operation,
      ({ signal }) => {
        const made = command()
        input = (made as { input?: object }).input
        return this.sendOnce<T>(made, signal)
      },
      { ...options, input: () => input },
    )
  }

  /** One attempt at an SDK command: the SDK neither retries it nor waits on its own. */
  sendOnce<T>(command: object, signal: AbortSignal): Promise<T> {
    ;(command as Command).middlewareStack.add(noSdkRetry as never, NO_SDK_RETRY as never)
    const send = this.client.send.bind(this.client) as (c: unknown, o: { abortSignal: AbortSignal }) => Promise<T>
    return send(command, { abortSignal: signal })
  }
}

/**
 * Takes the place of the SDK's retry middleware for one command (same name, step and priority, so the middleware
 * stack swaps it in): the request is sent once. The SDK would otherwise retry small requests up to 3 times within
 * about 3 s on its own, out of sight — a lost CreateMultipartUpload answer then makes a second upload nobody
 * tracks — and refuses to retry streamed bodies anyway.
 */
const noSdkRetry = (next: (args: unknown) => Promise<unknown>) => (args: unknown) => next(args)
const NO_SDK_RETRY = {
  name: 'retryMiddleware',
  tags: ['RETRY'],
  step: 'finalizeRequest',
  priority: 'high',
  override: true,
} as const

/**
 * Cancels an attempt that neither sends bytes nor gets its answer for `timeout` ms (or a shorter time it is
 * given, see {@link StallWatchdog.shorten}), whose owner's signal aborts (with the owner's reason), or whose
 * deadline comes (with the deadline's). One timer per attempt, re-armed lazily: progress only records the time,
 * so the byte path does not touch timers. The owner's signal and the deadline are followed with a listener each,
 * removed when the attempt ends, rather than `AbortSignal.any`, which costs more per attempt and keeps its
 * signals alive longer.
 */
class StallWatchdog {
  readonly #controller = new AbortController()
  /** The stall timeout of the request path's policy. */
  readonly #own: number
  /** The stall timeout now: the policy's, or a shorter one while the upload's retry clock has run out. */
  #timeout: number
  /** Why the stall timeout is shorter than the policy's, for the stall's message. */
  #shortened: string | undefined
  /** The watchdog itself cancelled the attempt: it made no progress for its stall timeout. */
  #stalled = false
  readonly #operation: Operation
  readonly #partNumber: number | undefined
  readonly #owner: AbortSignal
  readonly #deadline: Deadline | undefined
  readonly #onOwnerAbort = () => this.#controller.abort(this.#owner.reason)
  readonly #onDeadline = () => this.#controller.abort(this.#deadline?.reason)
  #last = Date.now()
  #timer: NodeJS.Timeout | undefined
  #sample: (() => number) | undefined
  #sampled = 0

  constructor(
    timeout: number,
    operation: Operation,
    partNumber: number | undefined,
    owner: AbortSignal,
    deadline: Deadline | undefined,
  ) {
    this.#own = timeout
    this.#timeout = timeout
    this.#operation = operation
    this.#partNumber = partNumber
    this.#owner = owner
    this.#deadline = deadline
    if (owner.aborted) this.#onOwnerAbort()
    else owner.addEventListener('abort', this.#onOwnerAbort, { once: true })
    if (deadline?.expired) this.#onDeadline()
    else deadline?.signal.addEventListener('abort', this.#onDeadline, { once: true })
    if (timeout > 0) this.#arm(timeout)
  }

  /** Aborts when the attempt stalls (reason: ERR_S3_SINK_STALLED), when the owner's signal does, or at the deadline. */
  get signal(): AbortSignal {
    return this.#controller.signal
  }

  progress(): void {
    this.#last = Date.now()
    if (this.#shortened !== undefined) this.restore()
  }

  /** The attempt was cancelled for making no progress. */
  get stalled(): boolean {
    return this.#stalled
  }

  /** When the attempt last made progress (or began), in ms since the epoch. */
  get lastProgress(): number {
    this.#look()
    return this.#last
  }

  /**
   * Cuts the attempt once it has been idle for `ms`, counting the time it has been idle already (at once, if that
   * is longer), until it makes progress: then it has its own stall timeout again. `why` goes in the stall's
   * message. With the watchdog off (a stall timeout of 0), nothing.
   */
  shorten(ms: number, why: string): void {
    if (this.#controller.signal.aborted || this.#own === 0) return
    // Progress made before now must not count as made after.
    this.#look()
    this.#timeout = Math.min(ms, this.#own)
    this.#shortened = why
    clearTimeout(this.#timer)
    this.#check()
  }

  /** The attempt has its own stall timeout again (its timer, armed for the short one, then waits the rest). */
  restore(): void {
    this.#timeout = this.#own
    this.#shortened = undefined
  }

  watch(sample: () => number): void {
    this.#sample = sample
    this.#sampled = sample()
  }

  stop(): void {
    clearTimeout(this.#timer)
    this.#owner.removeEventListener('abort', this.#onOwnerAbort)
    this.#deadline?.signal.removeEventListener('abort', this.#onDeadline)
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#check(), ms)
    this.#timer.unref()
  }

  /** Records as progress any change of the watched counter since the last look. */
  #look(): void {
    const sampled = this.#sample?.()
    if (sampled !== undefined && sampled !== this.#sampled) {
      this.#sampled = sampled
      this.progress()
    }
  }

  #check(): void {
    this.#look()
    const idle = Date.now() - this.#last
    if (idle < this.#timeout) {
      this.#arm(this.#timeout - idle)
      return
    }
    const what = this.#operation === 'UploadPart' ? `part ${this.#partNumber}` : `${this.#operation}`
    const why = this.#shortened ? ` ${this.#shortened}` : ''
    this.#stalled = true
    this.#controller.abort(
      new S3SinkError('ERR_S3_SINK_STALLED', `${what} made no progress for ${this.#timeout} ms${why}`, {
        ...(this.#partNumber === undefined ? {} : { partNumber: this.#partNumber }),
      }),
    )
  }
}
