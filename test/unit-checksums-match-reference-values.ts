import t from 'tap'
import { loadHasher } from '../lib/checksum/checksum.js'
import type { ChecksumAlgorithm } from '../lib/index.js'

// The check values of each algorithm over "123456789", base64 as S3 carries them.
const hex = (h: string) => Buffer.from(h, 'hex').toString('base64')
const reference: [ChecksumAlgorithm, string][] = [
  ['CRC32', hex('cbf43926')],
  ['CRC32C', hex('e3069283')],
  ['CRC64NVME', hex('ae8b14860a799888')],
  ['SHA1', hex('f7c3bc1d808e04732adf679965ccc34ca7ae3441')],
  ['SHA256', hex('15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225')],
]

for (const [algorithm, expected] of reference) {
  t.test(algorithm, async (t) => {
    const newHasher = await loadHasher(algorithm)
    const whole = newHasher()
    whole.update(Buffer.from('123456789'))
    t.equal(await whole.digest(), expected, 'in one update')
    const pieces = newHasher()
    for (const piece of ['1', '2345', '', '6789']) pieces.update(Buffer.from(piece))
    t.equal(await pieces.digest(), expected, 'running over pieces')
  })
}
