// The minimal Writable uploader without the copy, with CRC32 (./minimal-writable.ts): the written Buffers are held
// until their part is stored and sent as a list in one corked write. What a zero-copy part buffer could save.
import { minimalUploader } from './minimal-writable.js'
import type { Impl } from './types.js'

export const impl: Impl = minimalUploader({ crc32: true, copy: false })
