// The options the commands share, from parseArgs' values to what the library takes: sizes, counts, checksums,
// headers. Each is checked here, in the command's words (`--part-size must be …`), before the library sees it.
import type { parseArgs } from 'node:util'
import type { ChecksumAlgorithm, S3RollingSinkOptions } from 's3-sink'
import type { OPTIONS } from './help.js'
import { formatSize, parseSize, UsageError } from './units.js'

/** What parseArgs makes of the command line. */
export type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values']

const MIB = 2 ** 20
const GIB = 2 ** 30
/** S3's limits, which the command checks itself so that it can speak of its options, not the library's. */
export const MIN_PART_SIZE = 5 * MIB
export const MAX_PART_SIZE = 5 * GIB
export const MAX_PARTS = 10_000

/** The per-object options the upload and roll commands share (part size, concurrency, checksum, headers). */
export type ObjectOptions = Omit<S3RollingSinkOptions, 'client' | 'params' | 'key' | 'resume'> & {
  params?: Partial<S3RollingSinkOptions['params']>
}

/** The command's one positional argument, the target; anything after it is a mistake. */
export function oneTarget(args: string[], missing: string): string {
  const [target, ...rest] = args
  if (target === undefined) throw new UsageError(missing)
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`)
  return target
}

/** A whole number within `min..max`, or undefined when the option is not given. */
export function integerOption(
  values: Values,
  name: 'concurrency' | 'max-parts' | 'runs',
  min: number,
  max: number,
): number | undefined {
  const text = values[name]
  if (text === undefined) return undefined
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(text)}`)
  const n = Number(text)
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${text}`)
  return n
}

/** A size within `min..max` bytes, or undefined when the option is not given. */
export function sizeOption(
  values: Values,
  name: 'part-size' | 'expected-size' | 'bytes',
  min: number,
  max: number,
): number | undefined {
  const text = values[name]
  if (text === undefined) return undefined
  const bytes = parseSize(text)
  if (bytes < min || bytes > max) {
    throw new UsageError(`--${name} must be between ${formatSize(min)} and ${formatSize(max)}, got ${text}`)
  }
  return bytes
}

function checksumOption(values: Values): ChecksumAlgorithm | false | undefined {
  const text = values.checksum
  if (text === undefined) return undefined
  if (text.toLowerCase() === 'none') return false
  const upper = text.toUpperCase()
  if (!['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'].includes(upper)) {
    throw new UsageError(`--checksum must be CRC32, CRC32C, CRC64NVME, SHA1, SHA256 or none, got ${text}`)
  }
  return upper as ChecksumAlgorithm
}

/** The object's checksum type, checked against the algorithm as S3 has them. */
function checksumTypeOption(
  values: Values,
  checksum: ChecksumAlgorithm | false | undefined,
): 'FULL_OBJECT' | 'COMPOSITE' | undefined {
  const text = values['checksum-type']
  if (text === undefined) return undefined
  const type = { full: 'FULL_OBJECT', full_object: 'FULL_OBJECT', composite: 'COMPOSITE' }[text.toLowerCase()] as
    | 'FULL_OBJECT'
    | 'COMPOSITE'
    | undefined
  if (!type) throw new UsageError(`--checksum-type must be full or composite, got ${text}`)
  const algorithm = checksum ?? 'CRC32'
  if (algorithm === false) throw new UsageError('--checksum-type needs a checksum, got --checksum none')
  if (type === 'FULL_OBJECT' && (algorithm === 'SHA1' || algorithm === 'SHA256')) {
    throw new UsageError(`--checksum-type full needs --checksum CRC32, CRC32C or CRC64NVME, got ${algorithm}`)
  }
  if (type === 'COMPOSITE' && algorithm === 'CRC64NVME') {
    throw new UsageError('--checksum-type composite does not exist for CRC64NVME (S3 has only full)')
  }
  return type
}

function metadataOption(values: Values): Record<string, string> | undefined {
  if (!values.metadata) return undefined
  const metadata: Record<string, string> = {}
  for (const pair of values.metadata) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new UsageError(`--metadata takes KEY=VALUE, got ${JSON.stringify(pair)}`)
    metadata[pair.slice(0, at)] = pair.slice(at + 1)
  }
  return metadata
}

/** How each object is stored, from the options the upload and roll commands share. */
export function objectOptions(values: Values): ObjectOptions & { maxParts?: number } {
  const partSize = sizeOption(values, 'part-size', MIN_PART_SIZE, MAX_PART_SIZE)
  const concurrency = integerOption(values, 'concurrency', 1, 10_000)
  const maxParts = integerOption(values, 'max-parts', 1, MAX_PARTS)
  const checksum = checksumOption(values)
  const ChecksumType = checksumTypeOption(values, checksum)
  const Metadata = metadataOption(values)
  return {
    params: {
      ...(values['content-type'] ? { ContentType: values['content-type'] } : {}),
      ...(Metadata ? { Metadata } : {}),
      ...(ChecksumType ? { ChecksumType } : {}),
    },
    ...(partSize === undefined ? {} : { partSize }),
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(maxParts === undefined ? {} : { maxParts }),
    ...(values['uniform-parts'] ? { uniformParts: true } : {}),
    ...(checksum === undefined ? {} : { checksum }),
  }
}
