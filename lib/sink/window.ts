import PQueue from 'p-queue'
import { AdaptiveConcurrency, type ConcurrencyPolicy, FixedConcurrency } from './concurrency.js'

/** What a window needs of a sink that takes room in it. */
export interface WindowMember {
  /** Copies in what the sink holds back, now that the window granted it memory. */
  pump(): void
  /**
   * Bytes the sink still needs to make a full part (0 when it holds one not yet sent): when the window is
   * stuck, the member nearest a full part is let through.
   */
  partRoom(): number
}

/** A member's place in a window: the memory it holds and what it waits for. */
export interface Seat {
  readonly member: WindowMember
  /** Bytes of memory the member holds (its blocks). */
  held: number
  /** Memory granted while the member waited, not yet taken up. */
  credit: number
  /** The memory the member waits for, while it waits. */
  wants: number
  left: boolean
}

/**
 * Memory asks up to this size are an upload's first blocks (64 KiB and 256 KiB, see part-buffer.ts): they are
 * served before larger asks, and the last {@link FIRST_BLOCKS_SHARE} of the bound is kept for them, so that a
 * short upload is not held back behind the parts of long ones that fill the window.
 */
const SMALL_ASK = 256 * 1024
/** The share of the bound that only first blocks may take. */
const FIRST_BLOCKS_SHARE = 1 / 8
/**
 * Memory a shared window grants to larger asks in one turn of the event loop; past it, asks wait for the next
 * turn, so that sockets, timers and the other members' streams run between. Sinks fed by sources that push
 * synchronously (generated data, buffers) would otherwise copy until the bound is full before any request goes
 * out or any other member moves: 100 such sinks under a 256 MiB budget held the loop for 0.9 s at their start, and
 * short uploads begun beside them waited that long. Copying into fresh memory runs at a few hundred MiB/s, so a
 * turn stays near 10 ms. A sink alone is not held to turns: its write is refused only when its window is full.
 */
export const TURN_BYTES = 4 * 2 ** 20

/**
 * The key of the option that hands an `S3Sink` a window to share (an `S3RollingSink` gives its objects' sinks one
 * window; an `UploadBudget` gives every sink made with it one). A symbol that `lib/index.ts` does not export: no
 * caller outside the library can name it, so the shared window stays out of the public options.
 */
export const SHARED_WINDOW: unique symbol = Symbol('s3-sink shared upload window')

/** Options with the window to share; only the library's own sinks are made with it. */
export interface SharedWindowOption {
  [SHARED_WINDOW]?: UploadWindow
}

export interface UploadWindowOptions {
  /** Requests with bodies at once; undefined: the number follows the link (./concurrency.ts). */
  concurrency: number | undefined
  /** The memory (part blocks) that the window's members hold together. */
  maxBufferedBytes: number
  /**
   * Shared by many uploads (a budget, a rolling sink's objects): every part's blocks are of one size,
   * {@link SHARED_BLOCK_SIZE}, taken from one pool. A block one upload gives back then serves any other's next part,
   * whatever its size, so the blocks the pools keep are never more than the members held at once; with blocks the
   * size of each part, a first part's blocks sat free in their pool while later parts took fresh ones.
   */
  shared?: boolean
}

/** The size of the blocks of a shared window's parts (see `shared`): the largest block of a first part. */
export const SHARED_BLOCK_SIZE = 2 ** 20

/**
 * The scheduler of the uploads that share it: which request goes out next, how many go out at once, and how much
 * memory the sinks may hold. A sink alone has a window of its own; the sinks of one `S3RollingSink`, and every
 * sink given one `UploadBudget`, share one.
 *
 * - **Requests**: at most `limit` parts run at once (one queue, in the order they were cut), and beside them at
 *   most `limit` PutObjects, each a whole short upload, so that a short upload does not wait for the answers to
 *   long ones' parts. The limit is fixed, or follows the link (./concurrency.ts), for the window as one whole.
 * - **Memory**: a sink takes memory block by block (part-buffer.ts) and asks the window for each; the window
 *   grants while its members hold less than `maxBufferedBytes` together: an upload's first blocks first, in the
 *   order asked, then larger asks to the member nearest a full part, so that memory goes to parts that will go out
 *   rather than spread over many parts being filled. The last eighth of the bound is kept for first blocks. A sink
 *   whose ask waits holds its write back: that is backpressure. In a shared window, larger asks get at most
 *   {@link TURN_BYTES} a turn of the event loop, so that members fed by synchronous sources do not hold the loop
 *   until the bound is full.
 * - **Never stuck**: when members wait for memory and no request is in flight or queued (nothing will give
 *   memory back, as when every member holds part of a part), the member nearest a full part is let through
 *   beyond the bound until its part goes out: the window then holds at most one part and one block more than
 *   its bound, and one part larger than the bound still goes, one at a time.
 *
 * Per write, nothing here runs: a sink asks the window only for a new block and when a part is sent, so the
 * cost of a write does not grow with the members of a window.
 */
export class UploadWindow {
  readonly maxBufferedBytes: number
  readonly #policy: ConcurrencyPolicy
  /** Runs every part upload of the window's sinks (private: its type stays out of the declarations). */
  readonly #queue: PQueue
  /**
   * Runs the PutObjects, each a whole short upload, beside the parts and as many at once: a short upload does not
   * wait for the parts of long ones to be answered.
   */
  readonly #shortQueue: PQueue
  /** Memory the members hold, and the most they held at once. */
  #held = 0
  #peakHeld = 0
  /** Requests handed to the queue and not yet settled (queued or running). */
  #requests = 0
  /** Members waiting for memory, small asks and large, in the order asked. */
  readonly #waitingSmall = new Set<Seat>()
  readonly #waitingLarge = new Set<Seat>()
  /** The member let through beyond the bound while the window was stuck, until a request goes out. */
  #favoured: Seat | undefined
  /** Memory granted to larger asks this turn of the event loop, and the turn's end, once some was. */
  #turnBytes = 0
  #turnEnd: ReturnType<typeof setImmediate> | undefined

  /** The size of every block of the members' parts, when the window is shared; else each part's own. */
  readonly blockSize: number | undefined

  constructor({ concurrency, maxBufferedBytes, shared = false }: UploadWindowOptions) {
    this.maxBufferedBytes = maxBufferedBytes
    this.blockSize = shared ? SHARED_BLOCK_SIZE : undefined
    this.#policy =
      concurrency === undefined ? new AdaptiveConcurrency(performance.now()) : new FixedConcurrency(concurrency)
    this.#queue = new PQueue({ concurrency: this.#policy.limit })
    this.#shortQueue = new PQueue({ concurrency: this.#policy.limit })
  }

  /** Requests with bodies let run at once now. */
  get limit(): number {
    return this.#policy.limit
  }

  /** Whether the limit follows the link. */
  get adaptive(): boolean {
    return this.#policy.adaptive
  }

  /** Memory the members hold now (blocks of parts being filled, waiting and in flight). */
  get bufferedBytes(): number {
    return this.#held
  }

  /** The most memory the members held at once. */
  get peakBufferedBytes(): number {
    return this.#peakHeld
  }

  join(member: WindowMember): Seat {
    return { member, held: 0, credit: 0, wants: 0, left: false }
  }

  /** The member holds nothing any more, or will give back what it holds as its requests settle. */
  leave(seat: Seat): void {
    if (seat.left) return
    seat.left = true
    this.#waitingSmall.delete(seat)
    this.#waitingLarge.delete(seat)
    if (this.#favoured === seat) this.#favoured = undefined
    this.#held -= seat.credit
    seat.credit = 0
    this.#grant()
  }

  /**
   * Takes `bytes` of memory for `seat`, if the window has room (or granted it while the member waited). When it
   * has not, the member waits in line and is pumped once it is granted; returns false. `now`: at once, even beyond
   * the bound (a reader's next block, see `S3Sink.room()`).
   */
  reserve(seat: Seat, bytes: number, now = false): boolean {
    if (now) {
      this.#take(seat, bytes)
      seat.held += bytes
      return true
    }
    if (seat.credit >= bytes) {
      seat.credit -= bytes
      seat.held += bytes
      return true
    }
    const small = bytes <= SMALL_ASK
    const first = this.#waitingSmall.size === 0 && (small || this.#waitingLarge.size === 0)
    if (this.#favoured === seat || (first && this.#fits(bytes, small) && this.#inTurn(bytes, small))) {
      this.#take(seat, bytes)
      seat.held += bytes
      return true
    }
    seat.wants = bytes
    this.#waitingSmall.delete(seat)
    this.#waitingLarge.delete(seat)
    ;(small ? this.#waitingSmall : this.#waitingLarge).add(seat)
    this.#unstick()
    // The window was stuck and let this member through.
    if (seat.credit >= bytes) {
      seat.credit -= bytes
      seat.held += bytes
      return true
    }
    return false
  }

  /** `seat` gave back `bytes` of memory. */
  release(seat: Seat, bytes: number): void {
    seat.held -= bytes
    this.#held -= bytes
    this.#grant()
  }

  /**
   * Runs `task` once one of the window's places is free (never, once `signal` aborts). `bytes`: the request's
   * body, for the adaptive limit; `short`: a PutObject, which has places of its own.
   */
  run<T>(task: () => Promise<T>, { signal, bytes, short }: { signal: AbortSignal; bytes: number; short?: boolean }) {
    this.#requests++
    this.#favoured = undefined
    const timed = async (): Promise<T> => {
      const mark = this.#policy.started(performance.now())
      let acknowledged = 0
      try {
        const value = await task()
        acknowledged = bytes
        return value
      } finally {
        const before = this.#policy.limit
        this.#policy.completed(performance.now(), mark, acknowledged, this.#queue.size > 0)
        if (this.#policy.limit !== before) this.#setLimit()
      }
    }
    return (short ? this.#shortQueue : this.#queue).add(timed, { signal }).finally(() => {
      this.#requests--
      if (this.#requests === 0) this.#unstick()
    })
  }

  /** The store answered that it is overloaded (503 SlowDown, 429): fewer requests at once, for a while. */
  throttled(): void {
    const before = this.#policy.limit
    this.#policy.throttled(performance.now())
    if (this.#policy.limit !== before) this.#setLimit()
  }

  #setLimit(): void {
    this.#queue.concurrency = this.#policy.limit
    this.#shortQueue.concurrency = this.#policy.limit
  }

  /** Whether an ask fits: a first block in the whole bound, a larger one in all but the share kept for those. */
  #fits(bytes: number, firstBlock: boolean): boolean {
    const bound = firstBlock ? this.maxBufferedBytes : Math.floor(this.maxBufferedBytes * (1 - FIRST_BLOCKS_SHARE))
    return this.#held === 0 || this.#held + bytes <= bound
  }

  /**
   * Whether an ask of `bytes` is granted this turn of the event loop (counting it when it is): in a shared window,
   * at least one larger ask a turn, then up to {@link TURN_BYTES}; first blocks, and every ask of a window not
   * shared, always. The turn's end grants what waits for it.
   */
  #inTurn(bytes: number, small: boolean): boolean {
    if (small || this.blockSize === undefined) return true
    if (this.#turnBytes >= TURN_BYTES) return false
    this.#turnBytes += bytes
    this.#turnEnd ??= setImmediate(() => {
      this.#turnEnd = undefined
      this.#turnBytes = 0
      this.#grant()
    })
    return true
  }

  /** Whether members wait only for the next turn of the event loop, which will grant them memory. */
  get #turnSpent(): boolean {
    return this.#turnEnd !== undefined && this.#turnBytes >= TURN_BYTES
  }

  #take(seat: Seat, bytes: number): void {
    this.#held += bytes
    if (this.#held > this.#peakHeld) this.#peakHeld = this.#held
    if (seat.left) this.#held -= bytes
  }

  /**
   * Grants memory to the members waiting for it while it fits, then pumps them: an upload's first blocks first,
   * in the order asked; then larger asks, the member nearest a full part first, so that memory goes to parts
   * that will go out rather than spread over many parts being filled.
   */
  #grant(): void {
    const granted: Seat[] = []
    for (const seat of this.#waitingSmall) {
      if (!this.#fits(seat.wants, true)) break
      this.#waitingSmall.delete(seat)
      this.#grantTo(seat, granted)
    }
    while (this.#waitingSmall.size === 0 && this.#waitingLarge.size > 0) {
      const nearest = this.#nearestFull(this.#waitingLarge)
      if (!this.#fits(nearest.wants, false) || !this.#inTurn(nearest.wants, false)) break
      this.#waitingLarge.delete(nearest)
      this.#grantTo(nearest, granted)
    }
    for (const seat of granted) seat.member.pump()
    this.#unstick()
  }

  #grantTo(seat: Seat, granted: Seat[]): void {
    this.#take(seat, seat.wants)
    seat.credit += seat.wants
    granted.push(seat)
  }

  /** The waiting member nearest a full part (the first asked among equals). */
  #nearestFull(waiting: Set<Seat>): Seat {
    let nearest: Seat | undefined
    for (const seat of waiting) {
      if (!nearest || seat.member.partRoom() < nearest.member.partRoom()) nearest = seat
    }
    return nearest as Seat
  }

  /**
   * Members wait for memory and nothing will give any back: no request is queued or running. The member nearest
   * a full part gets what it asks beyond the bound, until a request goes out.
   */
  #unstick(): void {
    if (this.#requests > 0 || this.#favoured || this.#turnSpent) return
    let nearest: Seat | undefined
    for (const waiting of [this.#waitingSmall, this.#waitingLarge]) {
      for (const seat of waiting) {
        if (!nearest || seat.member.partRoom() < nearest.member.partRoom()) nearest = seat
      }
    }
    if (!nearest) return
    this.#favoured = nearest
    this.#waitingSmall.delete(nearest)
    this.#waitingLarge.delete(nearest)
    this.#take(nearest, nearest.wants)
    nearest.credit += nearest.wants
    nearest.member.pump()
  }
}

/** The window of each `UploadBudget` (budget.ts), found from the budget a caller hands a sink. */
const budgetWindows = new WeakMap<object, UploadWindow>()

/** Makes `window` the one a sink given `budget` shares. */
export function registerBudget(budget: object, window: UploadWindow): void {
  budgetWindows.set(budget, window)
}

/** The window of `budget`, or undefined when it is not an `UploadBudget`. */
export function budgetWindow(budget: unknown): UploadWindow | undefined {
  return typeof budget === 'object' && budget !== null ? budgetWindows.get(budget) : undefined
}
