// A part's blocks go to the request corked, one write for as many as fit in WRITE_BATCH: an upload's first part
// comes in small blocks (64 KiB, 256 KiB, then 1 MiB), and a short upload's body is one write, not a wait for
// 'drain' per block. Past WRITE_BATCH bytes since the last wait, it waits for 'drain', so that about that much at
// most is queued ahead of the socket.
import { Writable } from 'node:stream'
import t from 'tap'
import { PartBody, WRITE_BATCH } from '../lib/store/part-body.js'

const KiB = 1024
const MiB = 1024 * KiB

/** A request stand-in that takes writes in batches (writev when corked) and drains only when told to. */
function destination() {
  const calls: number[][] = []
  let release: (() => void) | undefined
  const dest = new Writable({
    highWaterMark: 16 * KiB,
    writev(chunks, callback) {
      calls.push(chunks.map((c) => (c.chunk as Buffer).length))
      release = () => callback()
    },
    write(chunk: Buffer, _encoding, callback) {
      calls.push([chunk.length])
      release = () => callback()
    },
  })
  return {
    dest,
    calls,
    /** Lets the last write finish; resolves on the next tick, once what it started has run. */
    drain: async () => {
      const r = release
      release = undefined
      r?.()
      await new Promise((resolve) => setImmediate(resolve))
    },
  }
}

t.test('a short upload of two small blocks is one write, ended at once', async (t) => {
  const { dest, calls, drain } = destination()
  const blocks = [Buffer.alloc(64 * KiB, 1), Buffer.alloc(192 * KiB, 2)]
  const body = new PartBody(blocks, () => {})
  body.pipe(dest)
  t.same(calls, [[64 * KiB, 192 * KiB]], 'both blocks in one write')
  t.equal(dest.writableEnded, true, 'the request is ended with the last block, without waiting for drain')
  await drain()
  t.equal(dest.writableFinished, true)
})

t.test('past WRITE_BATCH bytes it waits for drain, then goes on', async (t) => {
  const { dest, calls, drain } = destination()
  const sizes = [64 * KiB, 256 * KiB, MiB, MiB, MiB, 512 * KiB]
  const handed: number[] = []
  const body = new PartBody(
    sizes.map((n, i) => Buffer.alloc(n, i)),
    (n) => handed.push(n),
  )
  body.pipe(dest)
  t.ok(WRITE_BATCH <= 64 * KiB + 256 * KiB + MiB, 'the batch is no larger than the first three blocks')
  t.same(calls, [[64 * KiB, 256 * KiB, MiB]], 'the first blocks in one write, up to the batch')
  t.same(handed, [64 * KiB, 256 * KiB, MiB], 'nothing more handed over before drain')
  t.equal(dest.writableEnded, false)
  while (!dest.writableEnded) await drain()
  await drain()
  t.same(handed, sizes, 'every block handed over, once, in order')
  t.same(calls.flat(), sizes, 'every block written, once, in order')
  t.ok(calls.length < sizes.length, `${calls.length} writes for ${sizes.length} blocks`)
  t.equal(dest.writableFinished, true)
})

t.test('a part of one block is one end()', async (t) => {
  const { dest, calls, drain } = destination()
  const body = new PartBody([Buffer.alloc(8 * MiB)], () => {})
  body.pipe(dest)
  t.same(calls, [[8 * MiB]])
  t.equal(dest.writableEnded, true)
  await drain()
  t.equal(dest.writableFinished, true)
})
