// The pacing arithmetic of the modelled link (bench/null-server.ts): a token bucket kept as the time at which
// every token taken so far is paid for (the "theoretical arrival time" of GCRA), so that taking tokens is one
// addition and the answer is how long to wait, which is what a reader that pauses its socket needs. Time is
// passed in (milliseconds), so that the arithmetic is tested without a clock.
//
// Hand-written rather than a library's: rate limiters on npm (limiter, bottleneck) schedule their own timers and
// call back when tokens are there, one call per taking, and refuse a taking larger than the bucket; here bytes
// arrive first (a socket read) and are paid for after, by pausing the socket for as long as the answer says.

export class TokenBucket {
  /** Tokens per second. */
  readonly rate: number
  /** Tokens that may be taken at once after the bucket was left alone long enough to fill. */
  readonly burst: number
  /** The time (ms) at which every token taken so far is paid for; in the past when the bucket is full. */
  #paidAt: number

  /**
   * A bucket full from the start, or, given `emptyAt` (ms), empty at that time: a request's bucket starts empty,
   * so that its first bytes go at the rate too, and only time lost later (a late timer) is made up by the burst.
   */
  constructor(rate: number, burst: number, emptyAt?: number) {
    if (!(rate > 0)) throw new RangeError(`rate must be above 0, got ${rate}`)
    if (!(burst >= 0)) throw new RangeError(`burst must be 0 or more, got ${burst}`)
    this.rate = rate
    this.burst = burst
    this.#paidAt = emptyAt === undefined ? Number.NEGATIVE_INFINITY : emptyAt + (burst / rate) * 1000
  }

  /** How long (ms) the burst lasts at the rate: the slack a taking may run ahead of the rate without waiting. */
  get #slack(): number {
    return (this.burst / this.rate) * 1000
  }

  /**
   * Takes `n` tokens at `now` (ms), whether or not they are there, and answers how long (ms) the taker must now
   * wait so that, over time, no more than `rate` tokens a second (plus one burst) are taken: 0 while the bucket
   * holds them. Tokens a bucket had no room for are lost, as a link's idle time is.
   */
  take(n: number, now: number): number {
    this.#paidAt = Math.max(this.#paidAt, now) + (n / this.rate) * 1000
    return Math.max(0, this.#paidAt - now - this.#slack)
  }

  /** Takes `n` tokens at `now` only if that needs no wait; answers whether it took them. */
  tryTake(n: number, now: number): boolean {
    const paidAt = Math.max(this.#paidAt, now) + (n / this.rate) * 1000
    if (paidAt - now - this.#slack > 1e-9) return false
    this.#paidAt = paidAt
    return true
  }
}
