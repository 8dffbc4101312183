import t from 'tap'
import { CUT, RecordCutter } from '../lib/rolling/record-cutter.js'

/** A small deterministic generator, so that a failing case can be replayed from its seed. */
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    return s / 2 ** 32
  }
}

/** Where a cutter fed `input` from `from` in random chunks ends its objects (input offsets). */
function cutsOf(input: Buffer, from: number, max: number, delimiter: Buffer | null, next: () => number): number[] {
  const cutter = new RecordCutter(max, delimiter)
  const ends: number[] = []
  let handed = from
  let at = from
  while (at < input.length) {
    const size = 1 + Math.floor(next() * max * 1.5)
    for (const cut of cutter.push(input.subarray(at, at + size))) {
      if (cut === CUT) ends.push(handed)
      else handed += cut.length
    }
    at += size
  }
  for (const held of cutter.flush()) handed += held.length
  ends.push(handed)
  return ends
}

/** Records of `a`/`b` bytes, so that delimiters of repeated bytes (`aa`) overlap themselves and the records. */
function input(next: () => number, count: number, delimiter: Buffer): Buffer {
  const records: Buffer[] = []
  for (let i = 0; i < count; i++) {
    const body = Buffer.from(Array.from({ length: Math.floor(next() * 40) }, () => (next() < 0.3 ? 97 : 98)))
    records.push(body, delimiter)
  }
  return Buffer.concat(records)
}

for (const [name, delimiter] of [
  ['\\n', Buffer.from('\n')],
  ['\\r\\n', Buffer.from('\r\n')],
  ['aa (overlaps itself)', Buffer.from('aa')],
  ['none', null],
] as const) {
  t.test(`delimiter ${name}: the same cuts for any split, and from any object's first byte`, async (t) => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const next = random(seed)
      const bytes = input(next, 400, delimiter ?? Buffer.from('\n'))
      const max = 50 + Math.floor(next() * 200)
      const reference = cutsOf(bytes, 0, max, delimiter, random(seed * 100))
      const problems: string[] = []
      for (const split of [7, 8, 9]) {
        const again = cutsOf(bytes, 0, max, delimiter, random(seed * 100 + split))
        if (again.join() !== reference.join()) problems.push(`seed ${seed}, split ${split}: ${again.slice(0, 8)}`)
      }
      // A resumed sink starts a fresh cutter on an object's first byte: the cuts after it are the same.
      for (const [i, start] of reference.slice(0, -1).entries()) {
        if (i % 5 !== 0) continue
        const resumed = cutsOf(bytes, start, max, delimiter, random(seed + i))
        if (resumed.join() !== reference.slice(i + 1).join()) problems.push(`seed ${seed}, from ${start}`)
      }
      t.same(problems, [], `seed ${seed}: ${reference.length} objects of at most ${max} bytes`)
    }
  })
}
