import t from 'tap'
import { loadHasher } from '../lib/checksum/checksum.js'
import type { Part } from '../lib/core/types.js'
import { BlockPool, blockSizeFor, MAX_BLOCK_SIZE, PartBuffer, UNBOUNDED } from '../lib/sink/part-buffer.js'
import { pseudoRandomBytes } from './fixtures/sources.js'

const MiB = 2 ** 20
const concatParts = (parts: { chunks: Buffer[] }[]) => Buffer.concat(parts.flatMap((p) => p.chunks))

function drain(buffer: PartBuffer): Part[] {
  const parts = []
  for (let p = buffer.takeFull(); p; p = buffer.takeFull()) parts.push(p)
  return parts
}

t.test('writes are cut at part boundaries and copied: the writer may reuse its Buffer at once', async (t) => {
  const buffer = new PartBuffer(() => 100_000)
  const a = pseudoRandomBytes(150_000, 1)
  const b = pseudoRandomBytes(120_000, 2)
  const expected = Buffer.concat([a, b])
  buffer.push(a)
  a.fill(0)
  buffer.push(b)
  b.fill(0)
  t.equal(buffer.length, 270_000)
  t.equal(buffer.fullParts, 2)
  t.equal(buffer.openPartNumber, 3)
  t.equal(buffer.openPartSize, 70_000)
  const p1 = buffer.takeFull() as Part
  const p2 = buffer.takeFull() as Part
  const rest = buffer.takeRest()
  t.same(
    [p1, p2, rest].map((p) => [p.partNumber, p.size]),
    [
      [1, 100_000],
      [2, 100_000],
      [3, 70_000],
    ],
  )
  t.not(p1.chunks[0]?.buffer, a.buffer, 'the part holds its own copy')
  t.ok(concatParts([p1, p2, rest]).equals(expected), 'bytes as written, though the writer zeroed its Buffers')
  t.equal(buffer.length, 0)
  t.equal(buffer.takeFull(), undefined)
})

t.test('one write spanning many parts of growing sizes yields every part', async (t) => {
  const buffer = new PartBuffer((n) => n * 5000)
  const data = pseudoRandomBytes(52_500, 3)
  buffer.push(data)
  const parts = [...drain(buffer), buffer.takeRest()]
  t.same(
    parts.map((p) => p.size),
    [5000, 10_000, 15_000, 20_000, 2500],
  )
  t.ok(concatParts(parts).equals(data))
})

t.test('writes of any size, one byte to several blocks, keep every byte in order', async (t) => {
  const partSize = 300_001
  for (const [min, max] of [
    [1, 1],
    [1, 100],
    [1, 64 * 1024],
    [200_000, 700_000],
  ] as const) {
    const buffer = new PartBuffer(() => partSize)
    const data = pseudoRandomBytes(1_000_003, 4)
    let x = 99
    for (let offset = 0; offset < data.length; ) {
      x = (x * 1103515245 + 12345) >>> 0
      const n = Math.min(min + (x % (max - min + 1)), data.length - offset)
      buffer.push(Buffer.from(data.subarray(offset, offset + n)))
      offset += n
    }
    const parts = [...drain(buffer), buffer.takeRest()]
    t.same(
      parts.map((p) => p.size),
      [partSize, partSize, partSize, 1_000_003 - 3 * partSize],
      `sizes, writes of ${min}..${max}`,
    )
    for (const p of parts) {
      t.equal(
        p.chunks.reduce((n, c) => n + c.length, 0),
        p.size,
        `part ${p.partNumber} chunks add up, writes of ${min}..${max}`,
      )
      // The first part takes a 64 KiB block, then a larger one (256 KiB, capped at its own block size); later parts one.
      t.same(
        p.chunks.map((c) => c.length),
        p.partNumber === 1 ? [64 * 1024, 300_001 - 64 * 1024] : [p.size],
        `part ${p.partNumber}'s blocks, writes of ${min}..${max}`,
      )
    }
    t.ok(concatParts(parts).equals(data), `bytes intact, writes of ${min}..${max}`)
  }
})

t.test('a part larger than the largest block spans several blocks, each filled', async (t) => {
  const partSize = 40 * MiB
  const buffer = new PartBuffer(() => partSize)
  const data = pseudoRandomBytes(2 * partSize + 123, 5)
  for (let offset = 0; offset < data.length; offset += 1_000_000) buffer.push(data.subarray(offset, offset + 1_000_000))
  const [first, second] = drain(buffer)
  const rest = buffer.takeRest()
  const block = blockSizeFor(partSize)
  t.ok(block <= MAX_BLOCK_SIZE)
  // The first part grows from small blocks (an upload that stops early holds little); later parts take whole ones.
  t.same(first?.chunks.map((c) => c.length).slice(0, 3), [64 * 1024, 256 * 1024, MiB])
  t.ok((first?.chunks ?? []).slice(2, -1).every((c) => c.length === MiB))
  t.same(
    second?.chunks.map((c) => c.length),
    [block, block, partSize - 2 * block],
  )
  t.ok(concatParts([first as Part, second as Part, rest]).equals(data))
})

t.test('blocks given back are reused: a long stream touches the same few blocks', async (t) => {
  const pool = new BlockPool(blockSizeFor(64 * 1024))
  const buffer = new PartBuffer(() => 64 * 1024, undefined, 1, UNBOUNDED, pool)
  const chunk = pseudoRandomBytes(10_000, 6)
  const seen = new Set<ArrayBufferLike>()
  const inFlight: Part[] = []
  for (let i = 0; i < 2000; i++) {
    buffer.push(chunk)
    for (const part of drain(buffer)) {
      t.equal(part.size, 64 * 1024)
      seen.add(part.chunks[0]?.buffer as ArrayBufferLike)
      inFlight.push(part)
      // Three parts "in flight" at most: the oldest is stored and released when a fourth is cut.
      if (inFlight.length > 3) (inFlight.shift() as Part).release()
    }
  }
  t.ok(buffer.openPartNumber > 300, 'the stream went on for hundreds of parts')
  // When a part is cut, four are held (three in flight and the new one) while the next is being filled.
  t.equal(seen.size, 5, 'five blocks in all')
  t.equal(pool.allocatedBytes, 5 * 64 * 1024)
  const part = inFlight[0] as Part
  part.release()
  part.release()
  t.equal(pool.allocatedBytes, 5 * 64 * 1024, 'releasing twice gives the blocks back once')
})

t.test('blocks that sat free a whole idle time are let go; the sinks of a process share a pool', async (t) => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
  const until = async (done: () => boolean) => {
    for (const started = Date.now(); !done() && Date.now() - started < 5000; ) await sleep(10)
  }
  let emptied = 0
  const pool = new BlockPool(4096, { keepIdleMs: 300, onEmpty: () => emptied++ })
  const blocks = [pool.take(), pool.take(), pool.take(), pool.take()]
  pool.give(blocks)
  t.equal(pool.freeBytes, 4 * 4096)
  // A steady user takes one block and gives it back, over and over: that block stays, the other three go.
  let steady = true
  const used = new Set<Buffer>()
  const user = (async () => {
    while (steady) {
      const block = pool.take()
      used.add(block)
      await sleep(5)
      pool.give([block])
    }
  })()
  await until(() => pool.allocatedBytes === 4096)
  t.equal(pool.allocatedBytes, 4096, 'the three blocks nobody took were let go')
  await sleep(700)
  t.equal(pool.allocatedBytes, 4096, 'the block in use stays while idle times go by')
  t.equal(used.size, 1, 'the user got the same block every time')
  t.ok(blocks.includes([...used][0] as Buffer), 'one of the blocks made first: no fresh memory')
  steady = false
  await user
  t.equal(emptied, 0)
  await until(() => emptied > 0)
  t.equal(pool.allocatedBytes, 0, 'once nobody takes it, the last block goes too')
  t.equal(emptied, 1, 'and the pool says it holds none')

  t.equal(BlockPool.shared(8 * MiB), BlockPool.shared(8 * MiB))
  t.not(BlockPool.shared(8 * MiB), BlockPool.shared(5 * MiB))
})

t.test('each part carries the checksum of its own bytes, across hashing steps and blocks', async (t) => {
  const crc32 = await loadHasher('CRC32')
  for (const partSize of [1000, 700_000, MAX_BLOCK_SIZE + 5000]) {
    const buffer = new PartBuffer(() => partSize, crc32)
    const data = pseudoRandomBytes(Math.floor(partSize * 2.5), 7)
    buffer.push(data.subarray(0, 700))
    for (let offset = 700; offset < data.length; offset += 300_000) buffer.push(data.subarray(offset, offset + 300_000))
    const parts = [...drain(buffer), buffer.takeRest()]
    t.equal(parts.length, 3)
    for (const [i, p] of parts.entries()) {
      const h = crc32()
      h.update(data.subarray(i * partSize, i * partSize + p.size))
      t.equal(await p.checksum, await h.digest(), `part ${p.partNumber} of ${partSize} bytes`)
    }
  }
})

t.test('a stream that stops early gives back the blocks of the parts it still holds', async (t) => {
  const pool = new BlockPool(blockSizeFor(64 * 1024))
  const buffer = new PartBuffer(() => 64 * 1024, undefined, 1, UNBOUNDED, pool)
  buffer.push(pseudoRandomBytes(3 * 64 * 1024 + 100, 8))
  const taken = buffer.takeFull() as Part
  t.equal(buffer.fullParts, 2)
  t.equal(pool.allocatedBytes, 4 * 64 * 1024, 'three full parts and the one being filled')
  buffer.dispose()
  t.equal(buffer.length, 0)
  t.equal(buffer.fullParts, 0)
  t.equal(pool.freeBytes, 3 * 64 * 1024, 'all but the part taken, which gives back its own')
  taken.release()
  t.equal(pool.freeBytes, 4 * 64 * 1024)
  buffer.dispose()
  t.equal(pool.freeBytes, 4 * 64 * 1024, 'twice is harmless')
})

t.test('an empty stream gives one empty part', async (t) => {
  const buffer = new PartBuffer(() => 1000)
  buffer.push(Buffer.alloc(0))
  const rest = buffer.takeRest()
  t.equal(rest.partNumber, 1)
  t.equal(rest.size, 0)
  t.same(rest.chunks, [])
  t.equal(rest.checksum, undefined)
  rest.release()
})

t.test('block sizes: the part size up to 16 MiB, an even share of larger parts, whole pages', async (t) => {
  t.equal(blockSizeFor(1000), 4096)
  t.equal(blockSizeFor(5 * MiB), 5 * MiB)
  t.equal(blockSizeFor(8 * MiB), 8 * MiB)
  t.equal(blockSizeFor(16 * MiB), 16 * MiB)
  t.equal(blockSizeFor(17 * MiB), 8.5 * MiB)
  t.equal(blockSizeFor(100 * MiB), Math.ceil((100 * MiB) / 7 / 4096) * 4096)
  for (const size of [17 * MiB, 100 * MiB, 5 * 1024 * MiB, 5 * 1024 * MiB - 1]) {
    const block = blockSizeFor(size)
    t.ok(block <= MAX_BLOCK_SIZE, `${size}: ${block} fits the largest block`)
    t.equal(block % 4096, 0)
    t.ok(Math.ceil(size / block) * block - size < 4096 * Math.ceil(size / block), `${size}: blocks nearly filled`)
  }
})

t.test('a reader filling room() in place makes the same parts as writes copied in, checksums included', async (t) => {
  const hasher = await loadHasher('CRC32')
  const partSize = 300_001
  const data = pseudoRandomBytes(1_234_567, 21)
  const written = new PartBuffer(() => partSize, hasher, 1, UNBOUNDED, new BlockPool(blockSizeFor(partSize)))
  written.push(data)
  const filled = new PartBuffer(() => partSize, hasher, 1, UNBOUNDED, new BlockPool(blockSizeFor(partSize)))
  let offset = 0
  let reads = 0
  while (offset < data.length) {
    // A full block: the next one is asked of the account first, as the sink does.
    if (filled.blockRoom === 0) filled.grow()
    const room = filled.room()
    t.ok(room.length > 0, 'room() is never empty')
    // Reads of any length up to the room, as a pipe gives them; some find nothing.
    const n = Math.min(room.length, data.length - offset, reads % 5 === 4 ? 0 : 1 + ((reads * 7919) % 90_000))
    data.copy(room, 0, offset, offset + n)
    filled.fill(n)
    offset += n
    reads++
  }
  // A room lent and given back unwritten at the end, as a reader meeting the input's end leaves it.
  if (filled.blockRoom === 0) filled.grow()
  filled.room()
  filled.fill(0)
  const parts = (buffer: PartBuffer) => [...drain(buffer), buffer.takeRest()]
  const a = parts(written)
  const b = parts(filled)
  t.same(
    b.map((p) => p.size),
    a.map((p) => p.size),
  )
  t.ok(concatParts(b).equals(data), 'the bytes in order')
  t.same(await Promise.all(b.map((p) => p.checksum)), await Promise.all(a.map((p) => p.checksum)))
})

t.test('a block lent to a reader goes back to the pool only once the reader is done with it', async (t) => {
  const pool = new BlockPool(blockSizeFor(64 * 1024))
  const buffer = new PartBuffer(() => 64 * 1024, undefined, 1, UNBOUNDED, pool)
  buffer.push(pseudoRandomBytes(1000, 5))
  const room = buffer.room()
  buffer.dispose()
  t.equal(pool.freeBytes, 0, 'a read in flight may still write into the block: it is not handed out again')
  room.fill(1)
  buffer.fill(room.length)
  t.equal(pool.freeBytes, pool.blockSize, 'given back once the read is done')
  t.equal(buffer.length, 0, 'and its bytes are not taken in')
})
