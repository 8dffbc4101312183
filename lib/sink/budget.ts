import { integer, invalidType, sizeName } from '../core/arguments.js'
import { registerBudget, UploadWindow } from './window.js'

/** The options of an {@link UploadBudget}. */
export interface UploadBudgetOptions {
  /**
   * The memory that every sink given this budget may hold together: the blocks of their parts being filled,
   * waiting and in flight. Writes wait (backpressure) while it is taken. At least 1 byte; a budget smaller than a
   * part still works, one part at a time.
   */
  maxBufferedBytes: number
  /**
   * Parts in flight across every sink of the budget, fixed. Without it the number follows the link, for all the
   * budget's uploads as one whole (as a sink's own default does).
   * @default adaptive
   */
  concurrency?: number
}

/**
 * Memory and requests that many uploads in one process share: give the same budget to every `S3Sink` and
 * `S3RollingSink` (the `budget` option), and together they hold no more than `maxBufferedBytes` of parts, and
 * send parts at once as one whole — the number in flight follows the link for all of them, rather than each
 * upload probing alone. A short upload (one PutObject) goes before the waiting parts of long ones, and its first
 * bytes are taken before theirs, so it is never held back behind them. No sink waits forever on the others:
 * when every sink holds part of a part and none is full, the one nearest a full part goes on.
 *
 * Without a budget, each sink has its own (`maxBufferedBytes`, default 512 MiB). See
 * docs/memory-and-part-sizes.md for what the bound counts and its slack.
 *
 * @example One budget for every upload of an HTTP server
 * ```ts
 * import { S3Client } from '@aws-sdk/client-s3'
 * import { S3Sink, UploadBudget } from 's3-sink'
 *
 * const client = new S3Client({})
 * const budget = new UploadBudget({ maxBufferedBytes: 256 * 1024 * 1024 })
 * const sink = new S3Sink({ client, params: { Bucket: 'uploads', Key: 'a.bin' }, budget })
 * ```
 */
export class UploadBudget {
  /** The memory the budget's sinks may hold together. */
  readonly maxBufferedBytes: number
  readonly #window: UploadWindow

  /**
   * @throws TypeError (`ERR_INVALID_ARG_TYPE`) when `options` or an option has the wrong type.
   * @throws RangeError (`ERR_OUT_OF_RANGE`) when `maxBufferedBytes` is below 1 or `concurrency` outside 1..10,000.
   */
  constructor(options: UploadBudgetOptions) {
    if (typeof options !== 'object' || options === null) throw invalidType('options', 'an object', options)
    // Required: a budget is its bound.
    this.maxBufferedBytes = integer(
      'maxBufferedBytes',
      options.maxBufferedBytes,
      undefined,
      1,
      Number.MAX_SAFE_INTEGER,
      sizeName,
    )
    const concurrency =
      options.concurrency === undefined ? undefined : integer('concurrency', options.concurrency, 1, 1, 10_000)
    this.#window = new UploadWindow({ concurrency, maxBufferedBytes: this.maxBufferedBytes, shared: true })
    registerBudget(this, this.#window)
  }

  /** Memory the budget's sinks hold now. */
  get bufferedBytes(): number {
    return this.#window.bufferedBytes
  }

  /** The most memory the budget's sinks held at once. */
  get peakBufferedBytes(): number {
    return this.#window.peakBufferedBytes
  }

  /** Parts the budget lets in flight now, across its sinks: the fixed `concurrency`, or where the adaptive number stands. */
  get concurrency(): number {
    return this.#window.limit
  }
}
