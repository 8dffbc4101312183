// The whole object's checksum, from its parts' checksums (no second pass over the bytes), and how it compares
// with what the store reports.

import type { ChecksumAlgorithm, ChecksumType, ObjectChecksum, StoredPart } from '../core/types.js'
import type { HasherFactory } from './checksum.js'
import { crcCombine, crcFromBase64, crcToBase64, isCrc } from './crc-combine.js'

type PartSum = Pick<StoredPart, 'size' | 'checksum'>

/** The checksum of an object, and the value of the same kind the store reported when it differs. */
export interface CheckedChecksum {
  checksum: ObjectChecksum
  /** Set when the store reported a different value for the object: it is not what was written. */
  storeValue?: string
}

/**
 * The whole-object checksums of one algorithm. `FULL_OBJECT` of several parts combines their CRCs (a few
 * microseconds a part); `COMPOSITE` hashes their binary checksums in order, as S3 does, then `-<parts>`.
 */
export class ObjectChecksummer {
  readonly #algorithm: ChecksumAlgorithm
  readonly #newHasher: HasherFactory

  constructor(algorithm: ChecksumAlgorithm, newHasher: HasherFactory) {
    this.#algorithm = algorithm
    this.#newHasher = newHasher
  }

  /**
   * The value S3 keeps for an object made of `parts` (in part-number order) as `type`; one part stored with
   * PutObject is `FULL_OBJECT` with the part's own checksum. Undefined when a part has no checksum, or for a
   * `FULL_OBJECT` of several parts with an algorithm that cannot be combined (SHA).
   */
  async value(parts: readonly PartSum[], type: ChecksumType): Promise<string | undefined> {
    if (parts.some((p) => p.checksum === undefined)) return undefined
    const sums = parts.map((p) => p.checksum as string)
    if (type === 'COMPOSITE') {
      const hasher = this.#newHasher()
      for (const sum of sums) hasher.update(Buffer.from(sum, 'base64'))
      return `${await hasher.digest()}-${parts.length}`
    }
    if (parts.length === 1) return sums[0]
    const algorithm = this.#algorithm
    if (!isCrc(algorithm)) return undefined
    let crc = 0n
    for (const [i, part] of parts.entries()) {
      crc = crcCombine(algorithm, crc, crcFromBase64(sums[i] as string), part.size)
    }
    return crcToBase64(algorithm, crc)
  }

  /**
   * `result.checksum` for an object of `parts` stored as `type`, checked against `reported`, the value the store
   * gave for it (absent when it gave none). A composite value is recognised with or without its `-<parts>`
   * (moto leaves it out); a value of the other type (a store that formed the object's checksum its own way) is
   * compared with that type's value when it can be computed, and does not count as verified. Undefined when the
   * parts' checksums are not all known (a resumed upload's state without them).
   */
  async check(
    parts: readonly PartSum[],
    type: ChecksumType,
    reported: string | undefined,
  ): Promise<CheckedChecksum | undefined> {
    const value = await this.value(parts, type)
    if (value === undefined) return undefined
    const checksum: ObjectChecksum = { algorithm: this.#algorithm, type, value, verifiedByStore: false }
    if (reported === undefined || reported === '') return { checksum }
    if (sameValue(reported, value)) return { checksum: { ...checksum, verifiedByStore: true } }
    const other = await this.value(parts, type === 'FULL_OBJECT' ? 'COMPOSITE' : 'FULL_OBJECT')
    if (other !== undefined && sameValue(reported, other)) return { checksum }
    return { checksum, storeValue: reported }
  }
}

/** Whether a store's value is ours: equal, or our composite value without its `-<parts>`. */
function sameValue(reported: string, ours: string): boolean {
  return reported === ours || (/-\d+$/.test(ours) && reported === ours.replace(/-\d+$/, ''))
}
