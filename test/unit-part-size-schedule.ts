import t from 'tap'
import { partSizeSchedule } from '../lib/index.js'

const MiB = 2 ** 20
const GiB = 2 ** 30
const TiB = 2 ** 40

/** Part number and size at which a stream of `total` bytes ends, or undefined if it does not fit. */
function partAt(schedule: ReturnType<typeof partSizeSchedule>, total: number) {
  let sum = 0
  for (let n = 1; n <= schedule.maxParts; n++) {
    sum += schedule.sizeOf(n)
    if (sum >= total) return { partNumber: n, size: schedule.sizeOf(n) }
  }
  return undefined
}

t.test('properties over the whole range, for many part sizes and part limits', async (t) => {
  for (const partSize of [5 * MiB, 5 * MiB + 1, 8 * MiB, 16 * MiB, 100 * MiB, GiB, 5 * GiB]) {
    for (const maxParts of [1, 2, 20, 1000, 10_000]) {
      const s = partSizeSchedule({ partSize, maxParts })
      let previous = 0
      let total = 0
      let ok = true
      for (let n = 1; n <= maxParts; n++) {
        const size = s.sizeOf(n)
        if (size < previous || size > 5 * GiB || size < 5 * MiB) ok = false
        if (n <= s.uniformCount ? size !== partSize : size % MiB !== 0) ok = false
        previous = size
        total += size
      }
      const what = `partSize ${partSize}, maxParts ${maxParts}`
      t.ok(ok, `${what}: non-decreasing, 5 MiB..5 GiB, first parts exactly partSize, grown parts whole MiB`)
      t.equal(s.maxObjectSize, total, `${what}: maxObjectSize is the sum of the parts`)
      t.ok(s.uniformCount >= Math.ceil(maxParts / 10), `${what}: the first tenth of the parts are uniform`)
      t.equal(s.sizeOf(maxParts + 5), s.sizeOf(maxParts), `${what}: parts past the limit keep the last size`)
    }
  }
})

t.test('10,000 parts: uniform up to partSize × 1000, then growth that reaches past 5 TiB', async (t) => {
  for (const partSize of [5 * MiB, 8 * MiB, 16 * MiB, 64 * MiB]) {
    const s = partSizeSchedule({ partSize })
    t.equal(s.uniformCount, 1000, 'growth starts after part 1000')
    t.ok(s.maxObjectSize >= 20 * TiB, `${partSize / MiB} MiB: reaches ${(s.maxObjectSize / TiB).toFixed(1)} TiB`)
    t.ok(partAt(s, 5 * TiB), '5 TiB fits')
  }
  // The figures docs/memory-and-part-sizes.md shows, for the default 8 MiB.
  const s = partSizeSchedule({ partSize: 8 * MiB })
  t.same(partAt(s, 100 * GiB), { partNumber: 2694, size: 128 * MiB })
  t.same(partAt(s, TiB), { partNumber: 4212, size: 2 * GiB })
  t.same(partAt(s, 5 * TiB), { partNumber: 5354, size: 5 * GiB })
  t.equal(Math.round((s.maxObjectSize / TiB) * 10) / 10, 27.7)
})

t.test('uniformParts never changes the size', async (t) => {
  const s = partSizeSchedule({ partSize: 5 * MiB, maxParts: 4, uniformParts: true })
  t.same([1, 2, 3, 4, 5].map(s.sizeOf), Array(5).fill(5 * MiB))
  t.equal(s.maxObjectSize, 20 * MiB)
})

t.test('expectedSize: uniform parts sized so the hint fits, room left to grow past it', async (t) => {
  const s = partSizeSchedule({ partSize: 5 * MiB, maxParts: 20, expectedSize: 100 * MiB })
  t.equal(s.firstSize, 6 * MiB, 'whole MiB that fits 100 MiB into 18 parts')
  t.ok(s.uniformCount * s.firstSize >= 100 * MiB, 'the hint fits in the uniform parts')
  t.ok(s.maxObjectSize > 100 * MiB, 'a stream past the hint still fits')

  const big = partSizeSchedule({ partSize: 8 * MiB, expectedSize: 10 * TiB })
  t.equal(big.firstSize, Math.ceil((10 * TiB) / 9000 / MiB) * MiB)
  t.ok(big.uniformCount * big.firstSize >= 10 * TiB)

  const small = partSizeSchedule({ partSize: 8 * MiB, expectedSize: 100 * MiB })
  t.equal(small.firstSize, 8 * MiB, 'never below partSize')

  const max = partSizeSchedule({ partSize: 5 * MiB, expectedSize: 10_000 * 5 * GiB })
  t.equal(max.firstSize, 5 * GiB)
  t.equal(max.maxObjectSize, 10_000 * 5 * GiB, 'the 48.8 TiB ceiling')

  const uniform = partSizeSchedule({ partSize: 5 * MiB, maxParts: 10, expectedSize: 100 * MiB, uniformParts: true })
  t.same([1, 10].map(uniform.sizeOf), [12 * MiB, 12 * MiB], '100 MiB into 9 parts: 12 MiB each')
})
