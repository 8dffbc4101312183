import t from 'tap'
import { CUT, type Cut, RecordCutter } from '../lib/rolling/record-cutter.js'

/** A small deterministic generator, so that a failing case can be replayed from its seed. */
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    return s / 2 ** 32
  }
}

/** Records of 0..maxLength bytes of `a`..`z` (never the delimiter), each followed by the delimiter. */
function records(next: () => number, count: number, maxLength: number, delimiter: Buffer): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < count; i++) {
    const body = Buffer.alloc(Math.floor(next() * (maxLength + 1)), 97 + (i % 26))
    out.push(Buffer.concat([body, delimiter]))
  }
  return out
}

/** Runs `input` through a cutter in random chunks, asking for a cut now and then; returns the objects. */
function cutAll(
  input: Buffer,
  max: number,
  delimiter: Buffer | null,
  next: () => number,
  cutRate: number,
): { objects: Buffer[]; requested: Set<number> } {
  const cutter = new RecordCutter(max, delimiter)
  const objects: Buffer[][] = []
  let current: Buffer[] | undefined
  /** Objects that ended on request, not by size. */
  const requested = new Set<number>()
  const take = (cuts: Cut[]) => {
    for (const cut of cuts) {
      if (cut === CUT) {
        current = undefined
      } else {
        if (cut.length === 0) t.fail('an empty piece')
        if (!current) {
          current = []
          objects.push(current)
        }
        current.push(cut)
      }
    }
  }
  let at = 0
  while (at < input.length) {
    const size = 1 + Math.floor(next() * (max * 2))
    const before = objects.length
    take(cutter.push(input.subarray(at, at + size)))
    at += size
    if (next() < cutRate) {
      const index = objects.length - 1
      const request = cutter.requestCut()
      if (request === 'now') {
        current = undefined
        requested.add(index)
      } else if (request === 'at-record-end') {
        requested.add(index)
      } else {
        t.equal(objects.length, before, 'an empty object has nothing to cut')
      }
    }
  }
  take(cutter.flush())
  return { objects: objects.map((o) => Buffer.concat(o)), requested }
}

function recordsOf(object: Buffer, delimiter: Buffer): number[] {
  const lengths: number[] = []
  let start = 0
  for (let at = object.indexOf(delimiter); at >= 0; at = object.indexOf(delimiter, start)) {
    lengths.push(at + delimiter.length - start)
    start = at + delimiter.length
  }
  if (start < object.length) lengths.push(object.length - start)
  return lengths
}

for (const delimiterText of ['\n', '\r\n', '\u2028']) {
  const delimiter = Buffer.from(delimiterText)
  t.test(`delimiter 0x${delimiter.toString('hex')}: whole records, no early cuts, nothing lost`, async (t) => {
    for (let seed = 1; seed <= 60; seed++) {
      const next = random(seed)
      const max = 20 + Math.floor(next() * 200)
      const input = Buffer.concat(records(next, 200, Math.floor(max * 1.5), delimiter))
      const { objects, requested } = cutAll(input, max, delimiter, next, 0.05)
      const same = Buffer.concat(objects).equals(input)
      if (!same) t.fail(`seed ${seed}: the objects are not the input`)
      for (const [i, object] of objects.entries()) {
        const lengths = recordsOf(object, delimiter)
        const whole = object.subarray(object.length - delimiter.length).equals(delimiter)
        if (!whole) t.fail(`seed ${seed}: object ${i} does not end with the delimiter`)
        if (object.length > max && lengths.length > 1) {
          t.fail(`seed ${seed}: object ${i} holds ${object.length} > ${max} bytes in ${lengths.length} records`)
        }
        const following = objects[i + 1]
        if (following && !requested.has(i)) {
          const nextRecord = recordsOf(following, delimiter)[0] as number
          if (object.length + nextRecord <= max) {
            t.fail(`seed ${seed}: object ${i} (${object.length}) was cut early: the next record (${nextRecord}) fit`)
          }
        }
      }
    }
    t.pass('60 random streams checked')
  })
}

t.test('a record longer than maxObjectBytes is an object of its own, whole', async (t) => {
  const cutter = new RecordCutter(10, Buffer.from('\n'))
  const cuts = [
    ...cutter.push(Buffer.from('ab\n')),
    ...cutter.push(Buffer.from('x'.repeat(25))),
    ...cutter.push(Buffer.from('y\ncd\n')),
  ]
  const objects: string[] = []
  let current = ''
  for (const cut of [...cuts, ...cutter.flush()]) {
    if (cut === CUT) {
      objects.push(current)
      current = ''
    } else current += cut.toString()
  }
  objects.push(current)
  t.same(objects, ['ab\n', `${'x'.repeat(25)}y\n`, 'cd\n'])
})

t.test('a delimiter split across two writes is found', async (t) => {
  const cutter = new RecordCutter(8, Buffer.from('\r\n'))
  const out = [
    ...cutter.push(Buffer.from('abc\r')),
    ...cutter.push(Buffer.from('\ndefgh\r')),
    ...cutter.push(Buffer.from('\n')),
  ]
  const pieces = out.map((c) => (c === CUT ? '|' : c.toString()))
  t.equal(pieces.join(''), 'abc\r\n|defgh\r\n', 'cut right after the delimiter that straddled two writes')
})

t.test('with delimiter null every object but the last holds exactly maxObjectBytes', async (t) => {
  const next = random(99)
  const input = Buffer.alloc(1000, 7)
  const { objects } = cutAll(input, 64, null, next, 0)
  t.same(
    objects.map((o) => o.length),
    [...Array(15).fill(64), 40],
  )
})

t.test('a cut asked for in the middle of the first record waits for its end', async (t) => {
  const cutter = new RecordCutter(100, Buffer.from('\n'))
  t.same(cutter.push(Buffer.from('abc')), [Buffer.from('abc')])
  t.equal(cutter.requestCut(), 'at-record-end')
  const out = cutter.push(Buffer.from('de\nfg\n'))
  t.same(out, [Buffer.from('de\n'), CUT, Buffer.from('fg\n')])
  t.equal(new RecordCutter(5, Buffer.from('\n')).requestCut(), 'empty', 'an empty object is not cut')
})

t.test('a cut on a record boundary leaves the held start of the next record for the next object', async (t) => {
  const cutter = new RecordCutter(100, Buffer.from('\n'))
  t.same(cutter.push(Buffer.from('abc\nde')), [Buffer.from('abc\n')])
  t.equal(cutter.heldBytes, 2)
  t.equal(cutter.requestCut(), 'now')
  t.same(cutter.push(Buffer.from('f\n')), [Buffer.from('de'), Buffer.from('f\n')])
  t.equal(cutter.objectBytes, 4)
})
