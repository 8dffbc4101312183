// s3-sink with `checksum: false`: the same wire path without the part checksum, which raw HTTP does not compute
// either. Set beside s3-sink, it shows what the checksum costs; set beside raw HTTP, what the rest of the sink does.
import { sinkUploader } from './s3-sink.js'
import type { Impl } from './types.js'

export const impl: Impl = sinkUploader({ checksum: false })
