import PQueue from 'p-queue'

/** What a window needs to know of a sink that takes room in it, and how to let it go on. */
export interface WindowMember {
  /** Bytes the sink holds: the part being filled, full parts waiting, parts and a PutObject in flight. */
  bufferedBytes(): number
  /** Requests carrying bytes that the sink has in flight or queued. */
  requestsInFlight(): number
  /** Copies in what the sink holds back, now that room may have been freed. */
  pump(): void
}

/**
 * The key of the option that hands an `S3Sink` a window to share (an `S3RollingSink` gives each of its objects'
 * sinks its own window). A symbol that `lib/index.ts` does not export: no caller outside the library can name
 * it, so the shared window stays out of the public options and the constructor has one parameter.
 */
export const SHARED_WINDOW: unique symbol = Symbol('s3-sink shared upload window')

/** Options with the window to share; only the library's own sinks are made with it. */
export interface SharedWindowOption {
  [SHARED_WINDOW]?: UploadWindow
}

/**
 * The room that uploads take: at most `concurrency` requests with bodies at once (one queue), and a memory
 * budget of `maxBufferedBytes` for the bytes held. A sink has a window of its own; the sinks of one
 * `S3RollingSink` share one, so that the object being filled and the ones still completing draw on the same
 * budget and writes wait for all of them.
 */
export class UploadWindow {
  /** Runs every part upload and PutObject of the window's sinks (private: its type stays out of the declarations). */
  readonly #queue: PQueue
  readonly concurrency: number
  readonly maxBufferedBytes: number
  readonly #members = new Set<WindowMember>()
  /** The one member, while there is exactly one (a sink's own window): `full()` is asked on every write. */
  #only: WindowMember | undefined

  constructor(concurrency: number, maxBufferedBytes: number) {
    this.concurrency = concurrency
    this.maxBufferedBytes = maxBufferedBytes
    this.#queue = new PQueue({ concurrency })
  }

  /** Runs `task` once one of the window's `concurrency` places is free (never, once `signal` aborts). */
  run<T>(task: () => Promise<T>, signal: AbortSignal): Promise<T> {
    return this.#queue.add(task, { signal })
  }

  join(member: WindowMember): void {
    this.#members.add(member)
    this.#only = this.#members.size === 1 ? member : undefined
  }

  /** The member holds nothing any more: the room it took goes to the others. */
  leave(member: WindowMember): void {
    if (!this.#members.delete(member)) return
    this.#only = this.#members.size === 1 ? (this.#members.values().next().value as WindowMember) : undefined
    this.settled()
  }

  /**
   * Whether writes must wait: `concurrency` requests in flight, or the memory budget reached with at least one
   * request in flight (so that a part larger than the budget still goes out, one at a time).
   */
  full(): boolean {
    const only = this.#only
    if (only) {
      const requests = only.requestsInFlight()
      return requests >= this.concurrency || (requests > 0 && only.bufferedBytes() >= this.maxBufferedBytes)
    }
    let requests = 0
    let bytes = 0
    for (const member of this.#members) {
      requests += member.requestsInFlight()
      bytes += member.bufferedBytes()
    }
    return requests >= this.concurrency || (requests > 0 && bytes >= this.maxBufferedBytes)
  }

  /** A request settled: every member copies in what now fits. */
  settled(): void {
    for (const member of this.#members) member.pump()
  }
}
