// The bare network path: raw HTTP PUTs of reused part buffers, the stream read but never copied (see ./raw-http.ts).
import { rawUploader } from './raw-http.js'
import type { Impl } from './types.js'

export const impl: Impl = rawUploader({ copy: false })
