import { MAX_PART_SIZE, MIB, S3_MAX_PARTS } from '../core/limits.js'

/** What a part-size schedule is computed from: the `S3Sink` options of the same names. */
export interface PartSizeOptions {
  /** Size of the first parts, in bytes. */
  partSize: number
  /** Most parts the upload may have. @default 10000 */
  maxParts?: number
  /** Keep every part at the first size, whatever the stream's length (stores such as R2 need it). @default false */
  uniformParts?: boolean
  /** An upper bound of the stream's length, if known: parts are sized so that it fits. @default unknown */
  expectedSize?: number
}

/**
 * How part sizes grow, as a pure function of the part number. For a stream of unknown length the schedule has
 * to serve small streams with small parts and still fit a huge one into `maxParts`:
 *
 * - the first `uniformCount` parts (a tenth of `maxParts`, or as many as an `expectedSize` needs) are all
 *   `firstSize`: `partSize`, or, with `expectedSize`, the smallest whole number of MiB that fits the expected
 *   size into nine tenths of `maxParts` — the last tenth stays free to grow into if the stream runs past it;
 * - after them the size doubles every `tierLength` parts (the parts left, split into 20 tiers), rounded up to
 *   a whole MiB, and stops at 5 GiB.
 *
 * With `partSize` 8 MiB and 10,000 parts: uniform 8 MiB parts up to 7.8 GiB, then 16 MiB, 32 MiB… in tiers of
 * 450 parts; 128 MiB parts at 100 GiB, 2 GiB at 1 TiB, 5 GiB at 5 TiB, and 27.7 TiB at most.
 */
export interface PartSizeSchedule {
  /** Size of part `partNumber` (1-based). Parts past `maxParts` have the size of the last one. */
  sizeOf(partNumber: number): number
  /** Size of the first parts: `partSize`, or larger to fit `expectedSize`. */
  firstSize: number
  /** How many parts have `firstSize` before sizes start to grow (all of them with `uniformParts`). */
  uniformCount: number
  /** Parts per tier after the uniform ones: the size doubles from one tier to the next. */
  tierLength: number
  /** The most parts the upload may have. */
  maxParts: number
  /** Bytes that `maxParts` parts of this schedule hold: the longest stream it can store. */
  maxObjectSize: number
}

/**
 * The part sizes an `S3Sink` with these options uses, and the longest stream they can store: to check a
 * configuration before an upload, or to pick `partSize` and `maxParts`. Pure: it sends nothing and does not
 * check its options (the sink's constructor does).
 *
 * @example Sizes for a stream of unknown length, and the most it can hold
 * ```ts
 * const schedule = partSizeSchedule({ partSize: 8 * 1024 * 1024 })
 * schedule.sizeOf(1) // 8 MiB
 * schedule.sizeOf(1001) // 16 MiB: the first 1,000 parts are 8 MiB, then sizes double every 450 parts
 * schedule.sizeOf(2000) // 64 MiB
 * schedule.maxObjectSize // 27.7 TiB
 * ```
 */
export function partSizeSchedule(options: PartSizeOptions): PartSizeSchedule {
  const maxParts = options.maxParts ?? S3_MAX_PARTS
  // Parts left for growth: nine tenths without a hint; with one, a tenth (at least one part) past it.
  const reserve =
    options.expectedSize === undefined
      ? maxParts - Math.ceil(maxParts / 10)
      : Math.min(maxParts - 1, Math.max(1, Math.floor(maxParts / 10)))
  const firstSize =
    options.expectedSize === undefined
      ? options.partSize
      : Math.min(
          MAX_PART_SIZE,
          Math.max(options.partSize, roundUpToMiB(options.expectedSize / Math.max(1, maxParts - reserve))),
        )
  const uniformCount =
    options.uniformParts === true
      ? maxParts
      : options.expectedSize === undefined
        ? maxParts - reserve
        : Math.min(maxParts, Math.max(maxParts - reserve, Math.ceil(options.expectedSize / firstSize)))
  const tierLength = Math.max(1, Math.ceil((maxParts - uniformCount) / 20))

  const sizeOf = (partNumber: number): number => {
    const n = Math.min(partNumber, maxParts)
    if (n <= uniformCount) return firstSize
    const tier = Math.ceil((n - uniformCount) / tierLength)
    // 2^tier overflows nothing here: past tier 10 the size is capped by MAX_PART_SIZE anyway.
    return Math.min(MAX_PART_SIZE, roundUpToMiB(firstSize * 2 ** Math.min(tier, 40)))
  }

  // Summed tier by tier (at most 20 of them), not part by part: every sink makes a schedule, and a loop over
  // 9,000 parts cost 1.7 ms of each small object's CPU.
  let maxObjectSize = uniformCount * firstSize
  for (let first = uniformCount + 1; first <= maxParts; first += tierLength) {
    maxObjectSize += sizeOf(first) * (Math.min(maxParts, first + tierLength - 1) - first + 1)
  }
  return { sizeOf, firstSize, uniformCount, tierLength, maxParts, maxObjectSize }
}

function roundUpToMiB(bytes: number): number {
  return Math.ceil(bytes / MIB) * MIB
}
