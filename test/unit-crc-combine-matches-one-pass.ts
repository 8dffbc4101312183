import t from 'tap'
import { loadHasher } from '../lib/checksum/checksum.js'
import { crcCombine, crcFromBase64, crcToBase64 } from '../lib/checksum/crc-combine.js'
import { ObjectChecksummer } from '../lib/checksum/object-checksum.js'
import { referenceDigest, referenceObjectChecksum } from './fixtures/reference-checksums.js'
import { pseudoRandomBytes } from './fixtures/sources.js'

const data = pseudoRandomBytes(1_000_003, 3)
/** Splits of `data` into parts: empty parts, one byte, odd sizes. */
const splits = [[1_000_003], [1, 1_000_002], [0, 500_000, 0, 500_003], [333_333, 333_334, 333_336], [999_999, 3, 1]]
const crcs = ['CRC32', 'CRC32C', 'CRC64NVME'] as const

for (const algorithm of crcs) {
  t.test(`${algorithm}: combined part CRCs equal the CRC of all the bytes in one pass`, async (t) => {
    const whole = (await referenceDigest(algorithm, data)).toString('base64')
    for (const sizes of splits) {
      let crc = 0n
      let offset = 0
      for (const size of sizes) {
        const part = (await referenceDigest(algorithm, data.subarray(offset, offset + size))).toString('base64')
        crc = crcCombine(algorithm, crc, crcFromBase64(part), size)
        offset += size
      }
      t.equal(crcToBase64(algorithm, crc), whole, sizes.join(' + '))
    }
  })
}

t.test('the CRC of no bytes is 0, and combining with it changes nothing', async (t) => {
  for (const algorithm of crcs) {
    const empty = await referenceDigest(algorithm, Buffer.alloc(0))
    t.equal(crcFromBase64(empty.toString('base64')), 0n, algorithm)
    const crc = crcFromBase64((await referenceDigest(algorithm, data)).toString('base64'))
    t.equal(crcCombine(algorithm, crc, 0n, 0), crc)
    t.equal(crcCombine(algorithm, 0n, crc, data.length), crc)
  }
})

t.test('CRC64NVME values published elsewhere: "test1" + "test2" = "test1test2"', async (t) => {
  t.equal(crcCombine('CRC64NVME', 0x7585d198a2d5b287n, 0xf436c0c0f28b290cn, 5), 0x215f4b83b86262f3n)
})

t.test('base64 keeps leading zero bytes', async (t) => {
  t.equal(crcToBase64('CRC32', 0x00ff00n), 'AAD/AA==')
  t.equal(crcToBase64('CRC64NVME', 1n), 'AAAAAAAAAAE=')
  t.equal(crcFromBase64('AAD/AA=='), 0x00ff00n)
})

t.test('whole-object values of every algorithm and type against the reference', async (t) => {
  const sizes = [400_000, 400_000, 200_003]
  const parts = []
  let offset = 0
  for (const size of sizes) {
    parts.push({ size, checksum: '' })
    offset += size
  }
  for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) {
    const newHasher = await loadHasher(algorithm)
    offset = 0
    for (const part of parts) {
      const hasher = newHasher()
      hasher.update(data.subarray(offset, offset + part.size))
      part.checksum = await hasher.digest()
      offset += part.size
    }
    const summer = new ObjectChecksummer(algorithm, newHasher)
    t.equal(
      await summer.value(parts, 'COMPOSITE'),
      await referenceObjectChecksum(algorithm, 'COMPOSITE', data, sizes),
      `${algorithm} COMPOSITE`,
    )
    const full = await summer.value(parts, 'FULL_OBJECT')
    if (algorithm.startsWith('SHA')) t.equal(full, undefined, `${algorithm}: no FULL_OBJECT of several parts`)
    else t.equal(full, await referenceObjectChecksum(algorithm, 'FULL_OBJECT', data, sizes), `${algorithm} FULL_OBJECT`)
  }
})

t.test("a store's value: the same, the other type's, a composite without its -N, or another", async (t) => {
  const newHasher = await loadHasher('CRC32')
  const summer = new ObjectChecksummer('CRC32', newHasher)
  const parts = [
    { size: 3, checksum: (await referenceDigest('CRC32', Buffer.from('abc'))).toString('base64') },
    { size: 3, checksum: (await referenceDigest('CRC32', Buffer.from('def'))).toString('base64') },
  ]
  const full = (await summer.value(parts, 'FULL_OBJECT')) as string
  const composite = (await summer.value(parts, 'COMPOSITE')) as string
  t.equal(full, (await referenceDigest('CRC32', Buffer.from('abcdef'))).toString('base64'))
  t.match(composite, /-2$/)
  t.strictSame(await summer.check(parts, 'FULL_OBJECT', undefined), {
    checksum: { algorithm: 'CRC32', type: 'FULL_OBJECT', value: full, verifiedByStore: false },
  })
  t.equal((await summer.check(parts, 'FULL_OBJECT', full))?.checksum.verifiedByStore, true, 'same value: verified')
  t.equal((await summer.check(parts, 'COMPOSITE', composite))?.checksum.verifiedByStore, true)
  const bare = composite.replace(/-2$/, '')
  t.equal((await summer.check(parts, 'COMPOSITE', bare))?.checksum.verifiedByStore, true, 'composite without -N')
  const other = await summer.check(parts, 'FULL_OBJECT', composite)
  t.strictSame(
    [other?.checksum.verifiedByStore, other?.storeValue],
    [false, undefined],
    "the other type's: not a mismatch",
  )
  t.equal((await summer.check(parts, 'COMPOSITE', 'AAAAAA=='))?.storeValue, 'AAAAAA==', 'another value: a mismatch')
  t.equal(await summer.check([{ size: 3 }], 'FULL_OBJECT', full), undefined, 'a part without its checksum: none')
})
