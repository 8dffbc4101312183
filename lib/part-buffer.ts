import type { HasherFactory, PartHasher } from './checksum.js'

/** A part cut from the stream: views into the written Buffers, in order, and their checksum. */
export interface Part {
  partNumber: number
  /** The part's bytes as views (`subarray`) into the Buffers that were written; never copied. */
  chunks: Buffer[]
  size: number
  /** Base64 checksum of the part's bytes, when the sink computes one. */
  checksum: Promise<string> | undefined
}

/**
 * Writes shorter than this are copied into a shared block instead of kept as their own Buffer, so a part
 * written a row at a time goes out in blocks rather than as a million tiny socket writes. Larger writes
 * (fs streams give 64 KiB, zlib 16 KiB) are kept as they are, without a copy.
 */
export const COALESCE_BELOW = 16 * 1024
const BLOCK_SIZE = 64 * 1024

interface OpenPart {
  partNumber: number
  target: number
  chunks: Buffer[]
  size: number
  hasher: PartHasher | undefined
}

/**
 * Where bytes become parts. Written Buffers are kept in a list and cut at part boundaries with `subarray`,
 * never concatenated; each part's checksum is computed as its bytes arrive. Part `n` is `sizeOf(n)` bytes
 * long, except the last one, which is whatever remains.
 */
export class PartBuffer {
  readonly #sizeOf: (partNumber: number) => number
  readonly #newHasher: HasherFactory | undefined
  /** Full parts not yet taken, oldest first. */
  readonly #sealed: Part[] = []
  #sealedBytes = 0
  #open: OpenPart
  /** Block that small writes are copied into, and how much of it is used; it joins the part when full. */
  #block: Buffer | undefined
  #blockUsed = 0

  /** `firstPartNumber` is where numbering starts: above 1 when the parts before it are already stored. */
  constructor(sizeOf: (partNumber: number) => number, newHasher?: HasherFactory, firstPartNumber = 1) {
    this.#sizeOf = sizeOf
    this.#newHasher = newHasher
    this.#open = this.#openPart(firstPartNumber)
  }

  /** Bytes held: full parts not yet taken plus the part being filled. */
  get length(): number {
    return this.#sealedBytes + this.#open.size
  }

  /** Number of full parts waiting to be taken. */
  get fullParts(): number {
    return this.#sealed.length
  }

  /** Number of the part being filled, and the bytes it holds so far. */
  get openPartNumber(): number {
    return this.#open.partNumber
  }

  get openPartSize(): number {
    return this.#open.size
  }

  push(chunk: Buffer): void {
    let offset = 0
    while (offset < chunk.length) {
      const open = this.#open
      const n = Math.min(open.target - open.size, chunk.length - offset)
      const piece = offset === 0 && n === chunk.length ? chunk : chunk.subarray(offset, offset + n)
      this.#append(open, piece)
      offset += n
      if (open.size === open.target) this.#seal()
    }
  }

  /** Takes the oldest full part. */
  takeFull(): Part | undefined {
    const part = this.#sealed.shift()
    if (part) this.#sealedBytes -= part.size
    return part
  }

  /** Takes the part being filled as it is (the last part of the stream). */
  takeRest(): Part {
    const part = this.#close(this.#open)
    this.#open = this.#openPart(this.#open.partNumber + 1)
    return part
  }

  #append(open: OpenPart, piece: Buffer): void {
    open.hasher?.update(piece)
    open.size += piece.length
    if (piece.length >= COALESCE_BELOW) {
      this.#flushBlock(open)
      open.chunks.push(piece)
      return
    }
    if (this.#block && this.#blockUsed + piece.length > this.#block.length) {
      this.#flushBlock(open)
      this.#block = undefined
    }
    // A fresh block each time: the part keeps a view of the previous one until it is uploaded.
    this.#block ??= Buffer.allocUnsafeSlow(BLOCK_SIZE)
    piece.copy(this.#block, this.#blockUsed)
    this.#blockUsed += piece.length
  }

  #flushBlock(open: OpenPart): void {
    if (!this.#block) return
    if (this.#blockUsed > 0) open.chunks.push(this.#block.subarray(0, this.#blockUsed))
    // The unused tail of the block still serves the next small writes.
    this.#block = this.#blockUsed + 1024 <= this.#block.length ? this.#block.subarray(this.#blockUsed) : undefined
    this.#blockUsed = 0
  }

  #seal(): void {
    const part = this.#close(this.#open)
    this.#sealed.push(part)
    this.#sealedBytes += part.size
    this.#open = this.#openPart(this.#open.partNumber + 1)
  }

  #close(open: OpenPart): Part {
    this.#flushBlock(open)
    return {
      partNumber: open.partNumber,
      chunks: open.chunks,
      size: open.size,
      checksum: open.hasher?.digest(),
    }
  }

  #openPart(partNumber: number): OpenPart {
    return { partNumber, target: this.#sizeOf(partNumber), chunks: [], size: 0, hasher: this.#newHasher?.() }
  }
}
