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
 * `bytes` bytes in chunks of `chunkSize` (64 KiB, as fs.createReadStream gives them; at most 64 KiB). A smaller
 * chunk is a slice of one of the 64 KiB chunks, as a parser or a decompressor hands out slices of its buffers.
 * With `fresh`, every chunk is new memory, written once (as a file read writes it), so that what a sink keeps
 * shows in its RSS: for memory runs. With `slab` too, chunks are slices of fresh buffers of `slab` bytes, as a
 * socket or a parser hands out slices of the larger buffers it reads into: a slice kept keeps its whole slab.
 */
export function benchSource(bytes: number, { fresh = false, chunkSize = CHUNK, slab = 0 } = {}): Readable {
  const size = Math.min(chunkSize, CHUNK)
  let left = bytes
  let next = 0
  let offset = 0
  let current = Buffer.alloc(0)
  let used = 0
  return new Readable({
    highWaterMark: size,
    read() {
      if (left <= 0) {
        this.push(null)
        return
      }
      const chunk = CHUNKS[next % CHUNKS.length] as Buffer
      const n = Math.min(size, left, CHUNK - offset)
      const start = offset
      offset += n
      if (offset === CHUNK) {
        offset = 0
        next++
      }
      left -= n
      if (fresh && slab > 0) {
        if (used + n > current.length) {
          current = Buffer.allocUnsafe(Math.max(slab, n))
          used = 0
        }
        chunk.copy(current, used, start, start + n)
        this.push(current.subarray(used, used + n))
        used += n
        return
      }
      if (fresh) {
        const copy = Buffer.allocUnsafe(n)
        chunk.copy(copy, 0, start, start + n)
        this.push(copy)
        return
      }
      this.push(n === CHUNK ? chunk : chunk.subarray(start, start + n))
    },
  })
}
