// The same cases as whole-object-checksums-are-computed-while-streaming.ts, with @node-rs/crc32 unavailable:
// every algorithm still works (CRC32 from zlib, CRC32C from crc-32's JavaScript), with the same values.
import { register } from 'node:module'
import t from 'tap'

register('./fixtures/without-native-crc.mjs', import.meta.url)

const { loadHasher } = await import('../lib/checksum/checksum.js')
const { wholeObjectChecksumCases, COMBINATIONS } = await import('./fixtures/whole-object-cases.js')
const { referenceDigest } = await import('./fixtures/reference-checksums.js')
const { pseudoRandomBytes } = await import('./fixtures/sources.js')

t.test('the native module cannot be loaded here', async (t) => {
  await t.rejects(import('@node-rs/crc32'), { code: 'ERR_MODULE_NOT_FOUND' })
})

t.test('each algorithm gives the reference value without it', async (t) => {
  const data = pseudoRandomBytes(3_000_001, 5)
  for (const algorithm of new Set(COMBINATIONS.map(([a]) => a))) {
    const hasher = (await loadHasher(algorithm))()
    for (let offset = 0; offset < data.length; offset += 1 << 20)
      hasher.update(data.subarray(offset, offset + (1 << 20)))
    t.equal(await hasher.digest(), (await referenceDigest(algorithm, data)).toString('base64'), algorithm)
  }
})

await wholeObjectChecksumCases(t)
