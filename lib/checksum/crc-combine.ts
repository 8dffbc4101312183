// CRC combination: the CRC of A+B from the CRC of A, the CRC of B and the length of B, without the bytes
// (zlib's crc32_combine, generalised to the three reflected CRCs S3 knows).
import type { ChecksumAlgorithm } from '../core/types.js'

/** The CRCs S3 can check over a whole multipart object. */
export type CrcAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME'

/** Reflected generator polynomials, and widths. */
const CRCS: Record<CrcAlgorithm, { width: number; poly: bigint }> = {
  CRC32: { width: 32, poly: 0xedb88320n },
  CRC32C: { width: 32, poly: 0x82f63b78n },
  CRC64NVME: { width: 64, poly: 0x9a6c9329ac4bc9b5n },
}

export function isCrc(algorithm: ChecksumAlgorithm): algorithm is CrcAlgorithm {
  return algorithm in CRCS
}

/**
 * Arithmetic modulo a CRC's polynomial, in the reflected bit order the CRC uses (the top bit is x^0). Combining
 * CRC(A) with CRC(B) is CRC(A)·x^(8·|B|) + CRC(B); x^(8·|B|) is a product of the precomputed x^(2^k), one per
 * set bit of the length: logarithmic in it, and cached per length (the parts of an upload have few sizes).
 */
class CrcField {
  readonly #poly: bigint
  /** x^0 in reflected order. */
  readonly #one: bigint
  /** x^(2^k) mod p, for k = 0, 1, …, filled as needed. */
  readonly #powers: bigint[]
  readonly #shifts = new Map<number, bigint>()

  constructor(width: number, poly: bigint) {
    this.#poly = poly
    this.#one = 1n << BigInt(width - 1)
    this.#powers = [this.#one >> 1n]
  }

  /** a·b mod p. */
  multiply(a: bigint, b: bigint): bigint {
    let product = 0n
    for (let bit = this.#one; a !== 0n; bit >>= 1n) {
      if (a & bit) {
        product ^= b
        a ^= bit
      }
      b = b & 1n ? (b >> 1n) ^ this.#poly : b >> 1n
    }
    return product
  }

  /** x^(8·bytes) mod p: what a CRC is multiplied by to move it `bytes` further along. */
  shift(bytes: number): bigint {
    let cached = this.#shifts.get(bytes)
    if (cached !== undefined) return cached
    cached = this.#one
    // 8·bytes = bytes·2^3: take the bits of `bytes` from x^(2^3) up.
    for (let n = bytes, k = 3; n > 0; n = Math.floor(n / 2), k++) {
      if (n % 2 === 1) cached = this.multiply(this.#power(k), cached)
    }
    this.#shifts.set(bytes, cached)
    return cached
  }

  #power(k: number): bigint {
    while (this.#powers.length <= k) {
      const last = this.#powers[this.#powers.length - 1] as bigint
      this.#powers.push(this.multiply(last, last))
    }
    return this.#powers[k] as bigint
  }
}

const fields = new Map<CrcAlgorithm, CrcField>()

function field(algorithm: CrcAlgorithm): CrcField {
  let f = fields.get(algorithm)
  if (!f) {
    const { width, poly } = CRCS[algorithm]
    f = new CrcField(width, poly)
    fields.set(algorithm, f)
  }
  return f
}

/** CRC(A+B) from CRC(A), CRC(B) and B's length in bytes. The CRC of no bytes is 0 for all three. */
export function crcCombine(algorithm: CrcAlgorithm, crcA: bigint, crcB: bigint, lengthB: number): bigint {
  const f = field(algorithm)
  return f.multiply(f.shift(lengthB), crcA) ^ crcB
}

/** A CRC's base64 form (its big-endian bytes, as `x-amz-checksum-*` carries it) as a number, and back. */
export function crcFromBase64(value: string): bigint {
  const bytes = Buffer.from(value, 'base64')
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`)
}

export function crcToBase64(algorithm: CrcAlgorithm, crc: bigint): string {
  const hex = crc.toString(16).padStart(CRCS[algorithm].width / 4, '0')
  return Buffer.from(hex, 'hex').toString('base64')
}
