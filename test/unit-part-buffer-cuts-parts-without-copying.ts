import t from 'tap'
import { loadHasher } from '../lib/checksum.js'
import { COALESCE_BELOW, PartBuffer } from '../lib/part-buffer.js'
import { pseudoRandomBytes } from './fixtures/sources.js'

const concatParts = (parts: { chunks: Buffer[] }[]) => Buffer.concat(parts.flatMap((p) => p.chunks))

t.test('large writes are cut at part boundaries as views of the written Buffers', async (t) => {
  const buffer = new PartBuffer(() => 100_000)
  const a = pseudoRandomBytes(150_000, 1)
  const b = pseudoRandomBytes(120_000, 2)
  buffer.push(a)
  buffer.push(b)
  t.equal(buffer.length, 270_000)
  t.equal(buffer.fullParts, 2)
  t.equal(buffer.openPartNumber, 3)
  t.equal(buffer.openPartSize, 70_000)
  const p1 = buffer.takeFull()!
  const p2 = buffer.takeFull()!
  const rest = buffer.takeRest()
  t.same(
    [p1, p2, rest].map((p) => [p.partNumber, p.size]),
    [
      [1, 100_000],
      [2, 100_000],
      [3, 70_000],
    ],
  )
  // Views, not copies: the part's first chunk shares memory with what was written.
  t.equal(p1.chunks[0]!.buffer, a.buffer)
  t.equal(p1.chunks[0]!.byteOffset, a.byteOffset)
  t.equal(p2.chunks.length, 2, 'part 2 spans the end of a and the start of b')
  t.equal(p2.chunks[1]!.buffer, b.buffer)
  t.ok(concatParts([p1, p2, rest]).equals(Buffer.concat([a, b])))
  t.equal(buffer.length, 0)
  t.equal(buffer.takeFull(), undefined)
})

t.test('one write spanning many parts yields every part', async (t) => {
  const buffer = new PartBuffer((n) => n * 1000)
  const data = pseudoRandomBytes(10_500, 3)
  buffer.push(data)
  const parts = []
  for (let p = buffer.takeFull(); p; p = buffer.takeFull()) parts.push(p)
  parts.push(buffer.takeRest())
  t.same(
    parts.map((p) => p.size),
    [1000, 2000, 3000, 4000, 500],
  )
  t.ok(concatParts(parts).equals(data))
})

t.test('small writes are coalesced into blocks, in order, without losing bytes', async (t) => {
  const partSize = 300_001
  for (const [min, max] of [
    [1, 1],
    [1, 100],
    [1, COALESCE_BELOW * 2],
    [COALESCE_BELOW - 1, COALESCE_BELOW + 1],
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
    const parts = []
    for (let p = buffer.takeFull(); p; p = buffer.takeFull()) parts.push(p)
    parts.push(buffer.takeRest())
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
    }
    t.ok(concatParts(parts).equals(data), `bytes intact, writes of ${min}..${max}`)
    if (max === 1) t.ok(parts[0]!.chunks.length <= Math.ceil(partSize / 1024), 'one-byte writes go out in blocks')
  }
})

t.test('each part carries the checksum of its own bytes', async (t) => {
  const crc32 = await loadHasher('CRC32')
  const buffer = new PartBuffer(() => 1000, crc32)
  const data = pseudoRandomBytes(2500, 5)
  buffer.push(data.subarray(0, 700))
  buffer.push(data.subarray(700))
  const parts = [buffer.takeFull()!, buffer.takeFull()!, buffer.takeRest()]
  for (const [i, p] of parts.entries()) {
    const h = crc32()
    h.update(data.subarray(i * 1000, i * 1000 + p.size))
    t.equal(await p.checksum, await h.digest(), `part ${p.partNumber}`)
  }
})

t.test('an empty stream gives one empty part', async (t) => {
  const buffer = new PartBuffer(() => 1000)
  buffer.push(Buffer.alloc(0))
  const rest = buffer.takeRest()
  t.equal(rest.partNumber, 1)
  t.equal(rest.size, 0)
  t.same(rest.chunks, [])
  t.equal(rest.checksum, undefined)
})
