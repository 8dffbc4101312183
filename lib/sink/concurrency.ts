/**
 * How many requests with bodies an upload window lets run at once: a fixed number, or one that follows the link.
 *
 * S3 serves one request at about 85–90 MB/s and answers tens of milliseconds after a request's last byte
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance-guidelines.html), so the number
 * of parts in flight, not the speed of one request, is what fills a fast link; on a slow uplink a few parts fill
 * it already and more only hold memory. The adaptive policy finds the number the way a congestion controller
 * does, from what it can see: the rate the store acknowledges bytes at each level, counted only while requests
 * wait for a place (the upload, not the source, is the bottleneck).
 *
 * A round's rate comes from its requests by Little's law: the requests in flight on average over their lives
 * (`N`), times the bytes a request carries over the time one takes (`Σ bytes / Σ ms`). Unlike bytes counted over
 * a span of time, it does not count against a level the time its first requests took to get going, nor the bytes
 * of requests begun at the level before. A round is the first requests begun at a level, every one of them waited
 * for: the first to end would be the quickest.
 *
 * - It starts at {@link ADAPTIVE_START} and doubles while a level's rate beats the level before by at least
 *   {@link GAIN_TO_GROW} (a link with room answers more parts in flight with more bytes per second).
 * - Once a level brings nothing, it halves the level while that costs nothing (a slow uplink is full with fewer
 *   parts than the start, and parts in flight hold memory), then settles on the fewest parts that reached the
 *   best rate seen, and every {@link PROBE_EVERY} rounds it tries half as many again, in case the link has more
 *   room now.
 * - A throttling answer (503 SlowDown, 429) halves the level at once, at most once per cool-down, and the level
 *   climbs back by probing later.
 */
export interface ConcurrencyPolicy {
  /** Requests with bodies allowed at once now. */
  readonly limit: number
  /** Whether the limit follows the link. */
  readonly adaptive: boolean
  /** A request began; what it returns is handed back to `completed`. */
  started(now: number): RequestMark
  /**
   * A request finished: `bytes` acknowledged, it began as `mark` says, and requests were waiting for a place when
   * it ended (`limited`). A request that failed is `completed` with 0 bytes.
   */
  completed(now: number, mark: RequestMark, bytes: number, limited: boolean): void
  /** The store answered that it is overloaded. */
  throttled(now: number): void
}

/** Parts in flight an adaptive window starts with: aws-cli sends 10 at once, the old fixed default was 4. */
export const ADAPTIVE_START = 16
/**
 * The most parts in flight the adaptive window reaches by itself: 32 × 85 MB/s is more than a 20 Gbps host can
 * send, and the SDK's default HTTP agent holds 50 sockets, shared with the client's other calls.
 */
export const ADAPTIVE_MAX = 32
/**
 * Requests a round at `limit` parts in flight counts: half the level, at least 4, is enough to average out the
 * parts that share the link unevenly, and finds the level within a few hundred MiB even on a fast link.
 */
function roundOf(limit: number): number {
  return Math.max(4, Math.ceil(limit / 2))
}

/** A doubled level must bring this much more to go on doubling. */
const GAIN_TO_GROW = 1.15
/** A level within this share of the best rate is as good as the best. */
const GOOD_ENOUGH = 0.93
/** Rounds at a settled level between two probes of a higher one. */
const PROBE_EVERY = 6
/** After a throttling answer: no further halving nor probing for this long (ms), or two request durations. */
const THROTTLE_COOLDOWN_MS = 2000

/** When a request began, and the requests in flight until then summed over time (request·ms). */
export interface RequestMark {
  readonly at: number
  readonly area: number
  /** The round it is one of the first requests of, if any. */
  readonly round: number | undefined
}

/** A fixed number of requests at once (the `concurrency` option). */
export class FixedConcurrency implements ConcurrencyPolicy {
  readonly adaptive = false
  readonly limit: number
  constructor(limit: number) {
    this.limit = limit
  }
  started(now: number): RequestMark {
    return { at: now, area: 0, round: undefined }
  }
  completed(): void {}
  throttled(): void {}
}

/** The rate seen at one level. */
interface Level {
  limit: number
  rate: number
}

/** See {@link ConcurrencyPolicy}: the number of parts in flight follows the rate the store acknowledges. */
export class AdaptiveConcurrency implements ConcurrencyPolicy {
  readonly adaptive = true
  #limit: number
  readonly #max: number
  /** Doubling until a level brings nothing; then halving while a level loses nothing; then settled. */
  #growing = true
  #descending = false
  /** Requests in flight, and their number summed over time up to `#clockAt` (request·ms). */
  #inFlight = 0
  #clock = 0
  #clockAt: number
  /**
   * The round being measured: its number, the first requests begun at this level and those of them
   * still in flight; the bytes, lives (ms) and requests in flight over their lives (request·ms) of those that
   * ended, summed. All of them count, not the first to end: those would be the quickest.
   */
  #round = 0
  #begun = 0
  #pending = 0
  #bytes = 0
  #ms = 0
  #area = 0
  #count = 0
  #limitedCount = 0
  #longest = 0
  /** The best rate seen per level, since the last throttling answer. */
  readonly #levels = new Map<number, number>()
  /** The level settled on, and the rounds spent there since the last probe. */
  #settled: Level | undefined
  #roundsSettled = 0
  /** The level a probe left from, to come back to when the probe brings nothing. */
  #probingFrom: Level | undefined
  #coolUntil = 0

  constructor(now: number, start = ADAPTIVE_START, max = ADAPTIVE_MAX) {
    this.#max = max
    this.#limit = Math.min(start, max)
    this.#clockAt = now
  }

  get limit(): number {
    return this.#limit
  }

  started(now: number): RequestMark {
    this.#advance(now)
    this.#inFlight++
    const counted = this.#begun < roundOf(this.#limit)
    if (counted) {
      this.#begun++
      this.#pending++
    }
    return { at: now, area: this.#clock, round: counted ? this.#round : undefined }
  }

  completed(now: number, mark: RequestMark, bytes: number, limited: boolean): void {
    this.#advance(now)
    this.#inFlight--
    // Only the first requests begun at this level tell about it.
    if (mark.round !== this.#round) return
    this.#pending--
    if (bytes > 0) {
      this.#bytes += bytes
      this.#ms += Math.max(1, now - mark.at)
      this.#area += this.#clock - mark.area
      this.#count++
      if (limited) this.#limitedCount++
      this.#longest = Math.max(this.#longest, now - mark.at)
    }
    if (this.#pending > 0 || this.#begun < roundOf(this.#limit)) return
    // All of them failed: the round starts again.
    if (this.#count === 0) {
      this.#set(this.#limit)
      return
    }
    // Counted only when requests were waiting for a place through most of the round; a source slower than the
    // link needs no more in flight.
    const demand = this.#limitedCount * 2 >= this.#count
    const inFlight = Math.max(1, this.#area / this.#ms)
    this.#next(now, demand ? (inFlight * this.#bytes) / this.#ms : undefined)
  }

  throttled(now: number): void {
    if (now < this.#coolUntil) return
    this.#coolUntil = now + Math.max(THROTTLE_COOLDOWN_MS, 2 * this.#longest)
    this.#levels.clear()
    this.#growing = false
    this.#descending = false
    this.#probingFrom = undefined
    const limit = Math.max(1, Math.floor(this.#limit / 2))
    this.#settled = { limit, rate: 0 }
    this.#roundsSettled = 0
    this.#set(limit)
  }

  /** A round ended with `rate` (bytes/ms), or undefined when the source, not the link, set the pace. */
  #next(now: number, rate: number | undefined): void {
    const limit = this.#limit
    if (rate === undefined) {
      this.#set(limit)
      return
    }
    this.#levels.set(limit, Math.max(rate, this.#levels.get(limit) ?? 0))
    if (this.#growing) {
      const below = this.#levels.get(this.#previous(limit))
      if ((below === undefined || rate >= below * GAIN_TO_GROW) && limit < this.#max) {
        this.#set(Math.min(this.#max, limit * 2))
        return
      }
      this.#growing = false
      this.#settle()
      this.#descend()
      return
    }
    if (this.#descending) {
      if (rate >= this.#best() * GOOD_ENOUGH) {
        this.#descend()
        if (this.#descending) return
      }
      this.#descending = false
      this.#settle()
      return
    }
    const from = this.#probingFrom
    if (from) {
      this.#probingFrom = undefined
      if (rate >= from.rate * GAIN_TO_GROW && limit < this.#max) {
        // The link has more room than when the level settled: climb again.
        this.#growing = true
        this.#set(Math.min(this.#max, limit * 2))
        return
      }
      this.#settle()
      return
    }
    const settled = this.#settled
    if (settled) settled.rate = Math.max(settled.rate, rate)
    if (++this.#roundsSettled >= PROBE_EVERY && now >= this.#coolUntil && limit < this.#max) {
      this.#roundsSettled = 0
      this.#probingFrom = { limit, rate: settled?.rate ?? rate }
      this.#set(Math.min(this.#max, Math.ceil(limit * 1.5)))
      return
    }
    this.#set(limit)
  }

  /**
   * Tries half as many parts in flight, when that level was not measured yet: the link may be full with fewer
   * than the level the window started at, and parts in flight hold memory.
   */
  #descend(): void {
    const half = Math.floor(this.#limit / 2)
    this.#descending = half >= 1 && !this.#levels.has(half)
    if (this.#descending) this.#set(half)
  }

  #best(): number {
    let best = 0
    for (const rate of this.#levels.values()) best = Math.max(best, rate)
    return best
  }

  /** The fewest parts in flight that reached nearly the best rate seen. */
  #settle(): void {
    const best = this.#best()
    let chosen = Number.POSITIVE_INFINITY
    for (const [limit, rate] of this.#levels) if (rate >= best * GOOD_ENOUGH && limit < chosen) chosen = limit
    this.#settled = { limit: chosen, rate: this.#levels.get(chosen) ?? best }
    this.#roundsSettled = 0
    this.#set(chosen)
  }

  /** The level measured before `limit`, if any: the largest one below it. */
  #previous(limit: number): number {
    let previous = 0
    for (const l of this.#levels.keys()) if (l < limit && l > previous) previous = l
    return previous
  }

  #advance(now: number): void {
    this.#clock += this.#inFlight * (now - this.#clockAt)
    this.#clockAt = now
  }

  #set(limit: number): void {
    this.#limit = limit
    this.#round++
    this.#begun = 0
    this.#pending = 0
    this.#bytes = 0
    this.#ms = 0
    this.#area = 0
    this.#count = 0
    this.#limitedCount = 0
  }
}
