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
  /** The part's blocks; every one but the last is full. */
  blocks: Buffer[]
  /** Bytes in the last block. */
  used: number
  /** Bytes of memory the blocks take. */
  blockBytes: number
  size: number
  hasher: PartHasher | undefined
  /** Bytes of the part already hashed: the hash runs behind the copy by less than HASH_STEP. */
  hashed: number
  /** The block the hash has reached, and where it starts in the part. */
  hashBlock: number
  hashBlockStart: number
}

/** The memory a part buffer takes its blocks from: an upload window's (window.ts). */
export interface BlockAccount {
  /**
   * Takes `bytes` of memory for a block; false when it must wait (the account's owner is pumped later). `now`:
   * take it even beyond the bound.
   */
  reserve(bytes: number, now?: boolean): boolean
  /** Gives back `bytes` taken. */
  release(bytes: number): void
}

/** An account with no bound: for part buffers used on their own. */
export const UNBOUNDED: BlockAccount = { reserve: () => true, release: () => {} }

/**
 * The blocks of an upload's first part grow, 64 KiB, 256 KiB, then 1 MiB at a time: an upload of a few KiB holds
 * a few KiB, not a whole part, so many short uploads at once take little memory and a shared budget serves them
 * at once. Later parts, which only long streams reach, take blocks of their full size.
 */
const FIRST_PART_BLOCKS = [64 * 1024, 256 * 1024, 1024 * 1024]

/**
 * Where bytes become parts. Every write is copied once into the part's blocks, taken from a pool and given
 * back once the part is stored, and hashed shortly after, while still in cache. Part `n` is `sizeOf(n)`
 * bytes long, except the last one, which is whatever remains. Each block is taken only once the account grants
 * its memory: the caller asks with `grow()` when `blockRoom` is 0, and pushes at most `blockRoom` bytes. A reader
 * that can read into memory it is given (`fs.read`, a socket's `onread`) skips the copy: `room()` lends it the
 * free bytes of the block being filled, `fill()` takes in what it wrote.
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
  readonly #account: BlockAccount
  readonly #firstPartNumber: number
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
    account: BlockAccount = UNBOUNDED,
    pool = BlockPool.shared(blockSizeFor(sizeOf(firstPartNumber))),
  ) {
    this.#sizeOf = sizeOf
    this.#newHasher = newHasher
    this.#pool = pool
    this.#account = account
    this.#firstPartNumber = firstPartNumber
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

  /** Bytes that fit before another block is needed (0: call `grow()`). */
  get blockRoom(): number {
    const open = this.#open
    const last = open.blocks[open.blocks.length - 1]
    return last ? Math.min(last.length - open.used, open.target - open.size) : 0
  }

  /**
   * Takes the next block for the part being filled, once the account grants its memory. False when the
   * account made the caller wait: it is pumped when the memory is granted, and asks again. `now`: take it at once,
   * even beyond the account's bound.
   */
  grow(now = false): boolean {
    const open = this.#open
    const firstPart = open.partNumber === this.#firstPartNumber
    const step = FIRST_PART_BLOCKS[Math.min(open.blocks.length, FIRST_PART_BLOCKS.length - 1)] as number
    const size = firstPart ? Math.min(step, this.#pool.blockSize) : this.#pool.blockSize
    if (!this.#account.reserve(size, now)) return false
    open.blocks.push(size === this.#pool.blockSize ? this.#pool.take() : BlockPool.shared(size).take())
    open.used = 0
    open.blockBytes += size
    return true
  }

  /**
   * Copies `chunk` in, taking blocks as it needs them. The sink pushes at most `blockRoom` bytes, after `grow()`,
   * so that it can wait for memory; a push that needs a block the account refuses throws.
   */
  push(chunk: Buffer): void {
    let offset = 0
    while (offset < chunk.length) {
      let room = this.blockRoom
      if (room === 0) {
        if (!this.grow()) throw new RangeError('a part buffer was pushed more than its account granted')
        room = this.blockRoom
      }
      const open = this.#open
      const block = open.blocks[open.blocks.length - 1] as Buffer
      const n = Math.min(room, chunk.length - offset)
      if (offset === 0 && n === chunk.length) block.set(chunk, open.used)
      else block.set(chunk.subarray(offset, offset + n), open.used)
      offset += n
      open.used += n
      this.#advance(n)
    }
  }

  /**
   * The free bytes of the block being filled (`blockRoom` of them, never 0: `grow()` first): lent to a reader that
   * reads straight into them (no copy), until `fill()` says how many it wrote.
   */
  room(): Buffer {
    const open = this.#open
    const room = this.blockRoom
    if (room === 0) throw new RangeError('room() without a block with room (grow() first)')
    const block = open.blocks[open.blocks.length - 1] as Buffer
    this.#lent = true
    return block.subarray(open.used, open.used + room)
  }

  /**
   * Takes in the first `n` bytes of the last `room()`, written there by its reader; ends the loan. After
   * `dispose()`, gives back the block the reader was filling instead.
   */
  fill(n: number): void {
    this.#lent = false
    if (this.#disposed) {
      this.#giveBackOpen()
      return
    }
    if (n > 0) {
      this.#open.used += n
      this.#advance(n)
    }
  }

  /** `n` more bytes are in the open part: hashed a step behind, and the part sealed once full. */
  #advance(n: number): void {
    const open = this.#open
    open.size += n
    if (open.hasher && open.size - open.hashed >= HASH_STEP) this.#hash(open)
    if (open.size === open.target) this.#seal()
  }

  /** The open part's blocks go back to their pools, and their memory to the account. */
  #giveBackOpen(): void {
    const open = this.#open
    giveBack(this.#pool, open.blocks.splice(0))
    this.#account.release(open.blockBytes)
    open.blockBytes = 0
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
    const open = this.#open
    // A block lent to a reader may still be written to (a read in flight): it goes back once the reader is done.
    if (!this.#lent) this.#giveBackOpen()
    open.size = 0
    open.used = 0
    open.hashed = 0
    open.hashBlock = 0
    open.hashBlockStart = 0
  }

  /** Feeds the hasher the bytes copied since it last ran; they never cross a block boundary unhashed. */
  #hash(open: OpenPart): void {
    const hasher = open.hasher as PartHasher
    while (open.hashed < open.size) {
      const block = open.blocks[open.hashBlock] as Buffer
      const from = open.hashed - open.hashBlockStart
      const to = Math.min(block.length, open.size - open.hashBlockStart)
      hasher.update(block.subarray(from, to))
      open.hashed = open.hashBlockStart + to
      if (to === block.length) {
        open.hashBlock++
        open.hashBlockStart += block.length
      }
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
    // A block taken for a reader (or by ready()) and left unwritten holds no byte of the part.
    const empty = open.blocks.length > 0 && open.used === 0 ? open.blocks.pop() : undefined
    if (empty) {
      giveBack(this.#pool, [empty])
      this.#account.release(empty.length)
      open.blockBytes -= empty.length
    }
    const last = open.blocks.length - 1
    const chunks = open.blocks.map((block, i) =>
      i === last && open.used < block.length ? block.subarray(0, open.used) : block,
    )
    const account = this.#account
    const pool = this.#pool
    const blockBytes = open.blockBytes
    let blocks: Buffer[] | undefined = open.blocks
    return {
      partNumber: open.partNumber,
      chunks,
      size: open.size,
      checksum: open.hasher?.digest(),
      release() {
        if (!blocks) return
        giveBack(pool, blocks)
        blocks = undefined
        account.release(blockBytes)
      },
    }
  }

  #openPart(partNumber: number): OpenPart {
    const hasher = this.#newHasher?.()
    const target = this.#sizeOf(partNumber)
    return {
      partNumber,
      target,
      blocks: [],
      used: 0,
      blockBytes: 0,
      size: 0,
      hasher,
      hashed: 0,
      hashBlock: 0,
      hashBlockStart: 0,
    }
  }
}

/** Gives blocks back to `pool`, or to the shared pools of their sizes (a first part's small blocks). */
function giveBack(pool: BlockPool, blocks: readonly Buffer[]): void {
  for (const block of blocks) (block.length === pool.blockSize ? pool : BlockPool.shared(block.length)).give([block])
}
