import type { HasherFactory, PartHasher } from '../checksum/checksum.js'
import type { Part } from '../core/types.js'

/** Largest block: parts larger than this span several blocks. */
export const MAX_BLOCK_SIZE = 16 * 2 ** 20
/** Bytes copied but not yet hashed before the checksum catches up, while they are still in the CPU's cache. */
const HASH_STEP = 256 * 1024

/**
 * A block size for parts of `partSize` bytes: the part size itself when it fits in MAX_BLOCK_SIZE, otherwise an
 * even share of it, so that such parts fill their blocks. A multiple of 4 KiB (memory pages).
 */
export function blockSizeFor(partSize: number): number {
  const share = Math.ceil(partSize / Math.ceil(partSize / MAX_BLOCK_SIZE))
  return Math.ceil(share / 4096) * 4096
}

/** How long a free block may sit untaken in a pool before it is let go. */
const KEEP_IDLE_BLOCKS_MS = 5000

interface BlockPoolOptions {
  keepIdleMs?: number
  onEmpty?: () => void
}

/**
 * Blocks of one size, handed out and taken back. A block given back is reused for a later part, so a long
 * stream touches the same few blocks again and again: no fresh memory per part, no page faults, no garbage for
 * the collector. The sinks of a process share one pool per block size, so that one upload after another reuses
 * the same memory too. Blocks that sat free for a whole 5 s are let go, so a pool keeps what its users keep
 * taking and no more; it never holds more blocks than were in use at once.
 */
export class BlockPool {
  static readonly #shared = new Map<number, BlockPool>()

  /** The process-wide pool of blocks of `blockSize` bytes. */
  static shared(blockSize: number): BlockPool {
    let pool = BlockPool.#shared.get(blockSize)
    if (!pool) {
      pool = new BlockPool(blockSize, { onEmpty: () => BlockPool.#shared.delete(blockSize) })
      BlockPool.#shared.set(blockSize, pool)
    }
    return pool
  }

  readonly blockSize: number
  /** Free blocks, the longest free first. */
  readonly #free: Buffer[] = []
  readonly #onEmpty: (() => void) | undefined
  readonly #keepIdleMs: number
  #allocated = 0
  /** The fewest free blocks since the watch began: that many sat free all along. */
  #fewestFree = 0
  #timer: NodeJS.Timeout | undefined

  /** `keepIdleMs`: how long a free block may sit untaken; `onEmpty`: called when the pool holds no block. */
  constructor(blockSize: number, { keepIdleMs = KEEP_IDLE_BLOCKS_MS, onEmpty }: BlockPoolOptions = {}) {
    this.blockSize = blockSize
    this.#keepIdleMs = keepIdleMs
    this.#onEmpty = onEmpty
  }

  /** Bytes of the blocks this pool made that it has not let go of, in use or free. */
  get allocatedBytes(): number {
    return this.#allocated * this.blockSize
  }

  /** Bytes of the free blocks it keeps. */
  get freeBytes(): number {
    return this.#free.length * this.blockSize
  }

  take(): Buffer {
    // The most recently freed block: the likeliest to be in the CPU's cache, and the longest free stay free.
    const block = this.#free.pop()
    this.#fewestFree = Math.min(this.#fewestFree, this.#free.length)
    if (block) return block
    this.#allocated++
    return Buffer.allocUnsafeSlow(this.blockSize)
  }

  give(blocks: readonly Buffer[]): void {
    if (blocks.length === 0) return
    for (const block of blocks) this.#free.push(block)
    if (!this.#timer) this.#watch()
  }

  /** Every `keepIdleMs`, lets go of the blocks that were free all that time, until none is free. */
  #watch(): void {
    this.#fewestFree = this.#free.length
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      const idle = this.#free.splice(0, this.#fewestFree)
      this.#allocated -= idle.length
      if (this.#free.length > 0) this.#watch()
      else if (this.#allocated === 0) this.#onEmpty?.()
    }, this.#keepIdleMs)
    this.#timer.unref()
  }
}

interface OpenPart {
  partNumber: number
  target: number
  blocks: Buffer[]
  size: number
  hasher: PartHasher | undefined
  /** Bytes of the part already hashed: the hash runs behind the copy by less than HASH_STEP. */
  hashed: number
}

/**
 * Where bytes become parts. Every write is copied once into the part's blocks, taken from a pool and given
 * back once the part is stored, and hashed shortly after, while still in cache. Part `n` is `sizeOf(n)`
 * bytes long, except the last one, which is whatever remains. A reader that can read into memory it is given
 * (`fs.read`, a socket's `onread`) skips the copy: `room()` lends it the free bytes of the open part's block,
 * `fill()` takes in what it wrote.
 *
 * Why one copy rather than keeping the written Buffers: the writer may reuse a Buffer once its write is
 * acknowledged, long before the part is sent; sources hand out fresh memory per chunk (a file stream 64 KiB at a
 * time), which kept for seconds means garbage-collector work and memory the process does not give back; and a
 * part in large contiguous blocks goes to the socket in few large writes. Measured in bench/.
 */
export class PartBuffer {
  readonly #sizeOf: (partNumber: number) => number
  readonly #newHasher: HasherFactory | undefined
  readonly #pool: BlockPool
  /** Full parts not yet taken, oldest first. */
  readonly #sealed: Part[] = []
  #sealedBytes = 0
  #open: OpenPart
  /** The open part's free bytes are lent to a reader (`room()`), not yet given back (`fill()`). */
  #lent = false
  #disposed = false

  /** `firstPartNumber` is where numbering starts: above 1 when the parts before it are already stored. */
  constructor(
    sizeOf: (partNumber: number) => number,
    newHasher?: HasherFactory,
    firstPartNumber = 1,
    pool = BlockPool.shared(blockSizeFor(sizeOf(firstPartNumber))),
  ) {
    this.#sizeOf = sizeOf
    this.#newHasher = newHasher
    this.#pool = pool
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

  /** Bytes the part being filled still takes. */
  get openPartRoom(): number {
    return this.#open.target - this.#open.size
  }

  push(chunk: Buffer): void {
    const blockSize = this.#pool.blockSize
    let offset = 0
    while (offset < chunk.length) {
      const open = this.#open
      const used = open.size % blockSize
      const block = this.#block(open)
      const n = Math.min(open.target - open.size, blockSize - used, chunk.length - offset)
      if (offset === 0 && n === chunk.length) block.set(chunk, used)
      else block.set(chunk.subarray(offset, offset + n), used)
      offset += n
      this.#advance(n)
    }
  }

  /**
   * The free bytes of the part being filled, up to the end of its current block: lent to a reader that reads
   * straight into them (no copy), until `fill()` says how many it wrote. Never empty.
   */
  room(): Buffer {
    const blockSize = this.#pool.blockSize
    const open = this.#open
    const used = open.size % blockSize
    const block = this.#block(open)
    this.#lent = true
    return block.subarray(used, used + Math.min(open.target - open.size, blockSize - used))
  }

  /**
   * Takes in the first `n` bytes of the last `room()`, written there by its reader; ends the loan. After
   * `dispose()`, gives back the block the reader was filling instead.
   */
  fill(n: number): void {
    this.#lent = false
    if (this.#disposed) {
      this.#pool.give(this.#open.blocks.splice(0))
      return
    }
    if (n > 0) this.#advance(n)
  }

  /** The block the open part's next byte goes to: a new one from the pool once the others are full. */
  #block(open: OpenPart): Buffer {
    if (open.blocks.length * this.#pool.blockSize === open.size) open.blocks.push(this.#pool.take())
    return open.blocks[open.blocks.length - 1] as Buffer
  }

  /** `n` more bytes are in the open part: hashed a step behind, and the part sealed once full. */
  #advance(n: number): void {
    const open = this.#open
    open.size += n
    if (open.hasher && open.size - open.hashed >= HASH_STEP) this.#hash(open)
    if (open.size === open.target) this.#seal()
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

  /**
   * Gives back the blocks of the parts not taken and of the part being filled: for a stream that stops early
   * (destroyed, suspended). Parts taken are given back by their own `release()`.
   */
  dispose(): void {
    for (const part of this.#sealed.splice(0)) part.release()
    this.#sealedBytes = 0
    this.#disposed = true
    // A block lent to a reader may still be written to (a read in flight): it goes back once the reader is done.
    if (!this.#lent) this.#pool.give(this.#open.blocks.splice(0))
    this.#open.size = 0
    this.#open.hashed = 0
  }

  /** Feeds the hasher the bytes copied since it last ran; they never cross a block boundary unhashed. */
  #hash(open: OpenPart): void {
    const hasher = open.hasher as PartHasher
    const blockSize = this.#pool.blockSize
    while (open.hashed < open.size) {
      const block = open.blocks[Math.floor(open.hashed / blockSize)] as Buffer
      const start = open.hashed % blockSize
      const end = Math.min(blockSize, start + open.size - open.hashed)
      hasher.update(block.subarray(start, end))
      open.hashed += end - start
    }
  }

  #seal(): void {
    const part = this.#close(this.#open)
    this.#sealed.push(part)
    this.#sealedBytes += part.size
    this.#open = this.#openPart(this.#open.partNumber + 1)
  }

  #close(open: OpenPart): Part {
    if (open.hasher) this.#hash(open)
    const blockSize = this.#pool.blockSize
    // A block lent by room() and given back unwritten holds no byte of the part.
    this.#pool.give(open.blocks.splice(Math.ceil(open.size / blockSize)))
    const last = open.size % blockSize
    const chunks = open.blocks.map((block, i) =>
      i === open.blocks.length - 1 && last > 0 ? block.subarray(0, last) : block,
    )
    const pool = this.#pool
    let blocks: Buffer[] | undefined = open.blocks
    return {
      partNumber: open.partNumber,
      chunks,
      size: open.size,
      checksum: open.hasher?.digest(),
      release() {
        if (blocks) pool.give(blocks)
        blocks = undefined
      },
    }
  }

  #openPart(partNumber: number): OpenPart {
    const hasher = this.#newHasher?.()
    return { partNumber, target: this.#sizeOf(partNumber), blocks: [], size: 0, hasher, hashed: 0 }
  }
}
