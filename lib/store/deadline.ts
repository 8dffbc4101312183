// A deadline shared by a series of requests: the clean-up after a failed upload has one, from the moment of the
// failure, and every request of the clean-up takes it as the budget of its attempts.

/**
 * A point in time after which no attempt starts, and at which attempts in flight are cancelled — with `reason`,
 * which the request that was cut short then fails with. Like `AbortSignal.timeout`, but one deadline is shared
 * by every request that takes it, and its reason names what ran out of time.
 */
export class Deadline {
  /** The deadline, in ms since the epoch. */
  readonly at: number
  /** How long the deadline allowed, in ms from its start. */
  readonly ms: number
  readonly #controller = new AbortController()
  readonly #timer: NodeJS.Timeout
  readonly #reason: () => Error

  constructor(ms: number, reason: () => Error) {
    this.ms = ms
    this.at = Date.now() + ms
    this.#reason = reason
    this.#timer = setTimeout(() => this.#expire(), ms)
    // A deadline bounds work that something else keeps alive; on its own it must not hold the process open.
    this.#timer.unref()
  }

  /** Aborts when the deadline comes, with its reason. */
  get signal(): AbortSignal {
    if (!this.#controller.signal.aborted && Date.now() >= this.at) this.#expire()
    return this.#controller.signal
  }

  get expired(): boolean {
    return this.signal.aborted
  }

  /** What a request the deadline cut short (or kept from being sent) fails with. */
  get reason(): Error {
    return this.#controller.signal.reason ?? this.#reason()
  }

  /** The work the deadline bounded has ended: its timer goes. */
  end(): void {
    clearTimeout(this.#timer)
  }

  #expire(): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(this.#reason())
  }
}
