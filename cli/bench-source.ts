import { Readable } from 'node:stream'

const CHUNK = 64 * 1024
/**
 * 64 distinct chunks of pseudo-random bytes, written once and never changed. The source hands them out in turn,
 * so it costs next to nothing (no allocation, no page faults on fresh memory) and the client is what is
 * measured; and since they never change, a client that keeps references to them instead of copying is not penalized.
 */
const CHUNKS = Array.from({ length: 64 }, (_, i) => {
  const chunk = Buffer.allocUnsafe(CHUNK)
  let x = i + 1
  for (let j = 0; j < CHUNK; j += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    chunk.writeUInt32LE(x >>> 0, j)
  }
  return chunk
})

/**
 * `bytes` bytes in 64 KiB chunks, as fs.createReadStream gives them. With `fresh`, every chunk is new memory,
 * written once (as a file read writes it), so that what a sink keeps shows in its RSS: for memory runs.
 */
export function benchSource(bytes: number, { fresh = false } = {}): Readable {
  let left = bytes
  let next = 0
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (left <= 0) {
        this.push(null)
        return
      }
      const chunk = CHUNKS[next++ % CHUNKS.length] as Buffer
      const n = Math.min(CHUNK, left)
      left -= n
      if (fresh) {
        const copy = Buffer.allocUnsafe(n)
        chunk.copy(copy, 0, 0, n)
        this.push(copy)
        return
      }
      this.push(n === CHUNK ? chunk : chunk.subarray(0, n))
    },
  })
}
