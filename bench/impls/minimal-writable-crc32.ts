// The minimal Writable uploader with a CRC32 over every byte, sent as each part's checksum (./minimal-writable.ts).
import { minimalUploader } from './minimal-writable.js'
import type { Impl } from './types.js'

export const impl: Impl = minimalUploader({ crc32: true })
