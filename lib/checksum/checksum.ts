import { createHash } from 'node:crypto'
import { crc32 as zlibCrc32 } from 'node:zlib'
import type { ChecksumAlgorithm } from '../core/types.js'

/** A running checksum over one part, fed as its bytes arrive. */
export interface PartHasher {
  update(bytes: Buffer): void
  /** The checksum in the base64 form S3's `x-amz-checksum-*` headers carry. */
  digest(): Promise<string>
}

export type HasherFactory = () => PartHasher

/** The factories loaded so far, by algorithm: a module is loaded once per process, not once per sink. */
const loaded = new Map<ChecksumAlgorithm, HasherFactory>()

/**
 * The factory of part hashers for `algorithm`, once {@link loadHasher} has loaded it: a sink made after that
 * starts without waiting for a dynamic `import()` (about 1 ms of CPU per object under a module loader hook).
 */
export function loadedHasher(algorithm: ChecksumAlgorithm): HasherFactory | undefined {
  return loaded.get(algorithm)
}

/**
 * Loads what `algorithm` needs and returns a factory of part hashers. Measured here (MB/s): @node-rs/crc32's
 * crc32 12,600 and crc32c 5,400 (native, prebuilt), zlib.crc32 5,400, crc-32's JavaScript CRC32C 1,000–1,500
 * (@aws-crypto/crc32c's 85, the SDK's 406), the SDK's JavaScript CRC64NVME 507, SHA-256 1,600. Every algorithm
 * works without the native module.
 */
export async function loadHasher(algorithm: ChecksumAlgorithm): Promise<HasherFactory> {
  const factory = loaded.get(algorithm) ?? (await importHasher(algorithm))
  loaded.set(algorithm, factory)
  return factory
}

async function importHasher(algorithm: ChecksumAlgorithm): Promise<HasherFactory> {
  switch (algorithm) {
    case 'CRC32': {
      // The native CRC32 is twice as fast as zlib's; where it has no build, zlib's gives the same value.
      const native = await loadNative()
      const fn = native ? (bytes: Buffer, value: number) => native.crc32(bytes, value) : zlibCrc32
      return () => crcHasher(fn)
    }
    case 'CRC32C': {
      // Where the native module has no build (or was left out), the JavaScript one: same value, a quarter the speed.
      const native = await loadNative()
      const fn = native
        ? (bytes: Buffer, value: number) => native.crc32c(bytes, value)
        : (await import('crc-32/crc32c.js')).default.buf
      return () => crcHasher(fn)
    }
    case 'CRC64NVME': {
      const { Crc64Nvme } = await import('@aws-sdk/crc64-nvme')
      return () => {
        const crc = new Crc64Nvme()
        return {
          update: (bytes) => crc.update(bytes),
          digest: async () => Buffer.from(await crc.digest()).toString('base64'),
        }
      }
    }
    case 'SHA1':
    case 'SHA256': {
      const name = algorithm === 'SHA1' ? 'sha1' : 'sha256'
      return () => {
        const hash = createHash(name)
        return {
          update: (bytes) => void hash.update(bytes),
          digest: async () => hash.digest('base64'),
        }
      }
    }
  }
}

/** @node-rs/crc32, or undefined where it has no build for the platform or was not installed. */
async function loadNative(): Promise<typeof import('@node-rs/crc32') | undefined> {
  try {
    return await import('@node-rs/crc32')
  } catch {
    return undefined
  }
}

function crcHasher(fn: (bytes: Buffer, value: number) => number): PartHasher {
  let value = 0
  return {
    update: (bytes) => {
      value = fn(bytes, value)
    },
    digest: async () => {
      const out = Buffer.allocUnsafe(4)
      out.writeUInt32BE(value >>> 0)
      return out.toString('base64')
    },
  }
}

/** The member of UploadPart/PutObject/Complete input that carries `algorithm`'s value. */
export function checksumMember(
  algorithm: ChecksumAlgorithm,
): 'ChecksumCRC32' | 'ChecksumCRC32C' | 'ChecksumCRC64NVME' | 'ChecksumSHA1' | 'ChecksumSHA256' {
  return `Checksum${algorithm}`
}
