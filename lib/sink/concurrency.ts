/**
 * How many requests with bodies an upload window lets run at once: a fixed number, or one that follows the link.
 *
 * S3 serves one request at about 85–90 MB/s and answers tens of milliseconds after a request's last byte
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance-guidelines.html), so the number
 * of parts in flight, not the speed of one request, is what fills a fast link; on a slow uplink a few parts fill
 * it already and more only hold memory. The adaptive policy finds the number the way a congestion controller
 * does, from what it can see: the bytes the store acknowledges per second at each level, counted only while
 * requests wait for a place (the upload, not the source, is the bottleneck).
 *
 * - It starts at {@link ADAPTIVE_START} and doubles while a level's rate beats the level before by at least
 *   {@link GAIN_TO_GROW} (a link with room answers more parts in flight with more bytes per second).
 * - Once a level brings nothing, it settles on the fewest parts that reached the best rate seen, and every
 *   {@link PROBE_EVERY} rounds it tries half as many again, in case the link has more room now.
 * - A throttling answer (503 SlowDown, 429) halves the level at once, at most once per cool-down, and the level
 *   climbs back by probing later.
 */
export interface ConcurrencyPolicy {
  /** Requests with bodies allowed at once now. */
  readonly limit: number
  /** Whether the limit follows the link. */
  readonly adaptive: boolean
  /**
   * A request finished: `bytes` acknowledged, it began at `startedAt` (ms), and requests were waiting for a
   * place when it ended (`limited`).
   */
  completed(now: number, startedAt: number, bytes: number, limited: boolean): void
  /** The store answered that it is overloaded. */
  throttled(now: number): void
}

/** Parts in flight an adaptive window starts with: aws-cli sends 10 at once, the old fixed default was 4. */
export const ADAPTIVE_START = 8
/**
 * The most parts in flight the adaptive window reaches by itself: 32 × 85 MB/s is more than a 20 Gbps host can
 * send, and the SDK's default HTTP agent holds 50 sockets, shared with the client's other calls.
 */
export const ADAPTIVE_MAX = 32
/** A doubled level must bring this much more to go on doubling. */
const GAIN_TO_GROW = 1.15
/** A level within this share of the best rate is as good as the best. */
const GOOD_ENOUGH = 0.93
/** Rounds at a settled level between two probes of a higher one. */
const PROBE_EVERY = 6
/** After a throttling answer: no further halving nor probing for this long (ms), or two request durations. */
const THROTTLE_COOLDOWN_MS = 2000

/** A fixed number of requests at once (the `concurrency` option). */
export class FixedConcurrency implements ConcurrencyPolicy {
  readonly adaptive = false
  readonly limit: number
  constructor(limit: number) {
    this.limit = limit
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
  /** Doubling until a level brings nothing; then settled, probing now and then. */
  #growing = true
  /** The round being measured: requests that began at this level, from `since`. */
  #since: number
  #bytes = 0
  #count = 0
  #limitedCount = 0
  #lastEnd = 0
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
    this.#since = now
  }

  get limit(): number {
    return this.#limit
  }

  completed(now: number, startedAt: number, bytes: number, limited: boolean): void {
    // A request that began before this level was set says nothing about it.
    if (startedAt < this.#since) return
    this.#bytes += bytes
    this.#count++
    if (limited) this.#limitedCount++
    this.#lastEnd = now
    this.#longest = Math.max(this.#longest, now - startedAt)
    if (this.#count < this.#limit) return
    // A round: as many requests as the level allows, all begun at this level. Counted only when requests were
    // waiting for a place through most of it; a source slower than the link needs no more in flight.
    const rate = this.#bytes / Math.max(1, this.#lastEnd - this.#since)
    const demand = this.#limitedCount * 2 >= this.#count
    this.#round(now, demand ? rate : undefined)
  }

  throttled(now: number): void {
    if (now < this.#coolUntil) return
    this.#coolUntil = now + Math.max(THROTTLE_COOLDOWN_MS, 2 * this.#longest)
    this.#levels.clear()
    this.#growing = false
    this.#probingFrom = undefined
    const limit = Math.max(1, Math.floor(this.#limit / 2))
    this.#settled = { limit, rate: 0 }
    this.#roundsSettled = 0
    this.#set(limit, now)
  }

  /** A round ended with `rate` (bytes/ms), or undefined when the source, not the link, set the pace. */
  #round(now: number, rate: number | undefined): void {
    const limit = this.#limit
    if (rate === undefined) {
      this.#set(limit, now)
      return
    }
    this.#levels.set(limit, Math.max(rate, this.#levels.get(limit) ?? 0))
    if (this.#growing) {
      const below = this.#levels.get(this.#previous(limit))
      if ((below === undefined || rate >= below * GAIN_TO_GROW) && limit < this.#max) {
        this.#set(Math.min(this.#max, limit * 2), now)
        return
      }
      this.#growing = false
      this.#settle(now)
      return
    }
    const from = this.#probingFrom
    if (from) {
      this.#probingFrom = undefined
      if (rate >= from.rate * GAIN_TO_GROW && limit < this.#max) {
        // The link has more room than when the level settled: climb again.
        this.#growing = true
        this.#set(Math.min(this.#max, limit * 2), now)
        return
      }
      this.#settle(now)
      return
    }
    const settled = this.#settled
    if (settled) settled.rate = Math.max(settled.rate, rate)
    if (++this.#roundsSettled >= PROBE_EVERY && now >= this.#coolUntil && limit < this.#max) {
      this.#roundsSettled = 0
      this.#probingFrom = { limit, rate: settled?.rate ?? rate }
      this.#set(Math.min(this.#max, Math.ceil(limit * 1.5)), now)
      return
    }
    this.#set(limit, now)
  }

  /** The fewest parts in flight that reached nearly the best rate seen. */
  #settle(now: number): void {
    let best = 0
    for (const rate of this.#levels.values()) best = Math.max(best, rate)
    let chosen = this.#limit
    for (const [limit, rate] of this.#levels) if (rate >= best * GOOD_ENOUGH && limit < chosen) chosen = limit
    this.#settled = { limit: chosen, rate: this.#levels.get(chosen) ?? best }
    this.#roundsSettled = 0
    this.#set(chosen, now)
  }

  /** The level measured before `limit`, if any: the largest one below it. */
  #previous(limit: number): number {
    let previous = 0
    for (const l of this.#levels.keys()) if (l < limit && l > previous) previous = l
    return previous
  }

  #set(limit: number, now: number): void {
    this.#limit = limit
    this.#since = now
    this.#bytes = 0
    this.#count = 0
    this.#limitedCount = 0
  }
}
