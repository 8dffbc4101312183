#!/usr/bin/env node
// The s3-sink command: uploads stdin (or a file) to an S3 object with S3Sink, and manages forgotten uploads.
import { createReadStream, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import {
  abortIncompleteUploads,
  type ChecksumAlgorithm,
  listIncompleteUploads,
  type ResumeState,
  resumeOffset,
  S3Sink,
  type S3SinkError,
} from 's3-sink'
import { bench } from './bench.js'
import { ProgressLine } from './progress.js'
import { type ObjectOptions, rollCommand } from './roll.js'
import { formatBytes, formatDuration, parseDuration, parseS3Url, parseSize, UsageError } from './units.js'

const USAGE = `usage: s3-sink [options] s3://bucket/key          upload stdin (or --file) to the object
       s3-sink ls-incomplete s3://bucket[/prefix]      list incomplete multipart uploads
       s3-sink abort-incomplete s3://bucket[/prefix] --older-than 7d [--dry-run]
       s3-sink roll s3://bucket/template [--max-object-size 64MiB] [--max-object-age 5m] [--gzip]
                                                       stdin (a log) into objects of whole records
       s3-sink bench s3://bucket[/prefix] [--sizes 5,8,16,64] [--concurrency 1,4,8] [--bytes 256MiB]

upload options:
  --file PATH            read PATH instead of stdin
  --part-size SIZE       first part size, 5MiB..5GiB (default 8MiB); units: 16MiB, 8M, 1GiB
  --expected-size SIZE   an upper bound of the stream's length: parts sized to fit it
  --concurrency N        parts uploaded at once (default 4)
  --max-parts N          at most N parts (default 10000)
  --uniform-parts        never change the part size (stores that need equal parts)
  --checksum ALG         CRC32 (default), CRC32C, CRC64NVME, SHA1, SHA256 or none
  --checksum-type TYPE   the object's checksum: full (CRCs; CRC64NVME's only one) or composite (the
                         checksum of the parts' checksums; the default for the others)
  --content-type TYPE    the object's Content-Type
  --metadata K=V         user metadata; repeat for more
  --checkpoint FILE      save progress there; when it exists, resume from it; removed on success
  --json                 print the result as JSON on stdout
  --progress             show progress on stderr even when it is not a terminal
  --quiet                no progress, no summary
roll options (and the upload options above but --file, --expected-size, --checkpoint; each line of --json is
one stored object; the first SIGINT or SIGTERM stores what was read and exits 0, a second aborts, exit 130):
  template               the key of each object: %Y %m %d %H %M %S (UTC, of its first byte), {index}
                         (its number, from 0, zero-padded), {id} (this writer's id)
  --max-object-size SIZE an object's most input bytes, cut before the record that would pass it (64MiB)
  --max-object-age TIME  an object ends this long after its first byte, writes or not (default 5m)
  --delimiter TEXT       what ends a record: \n (default), \r\n, \0, any text, or none (cut anywhere)
  --gzip                 store each object as a standalone gzip file (Content-Encoding: gzip)
  --id ID                this writer's id for {id} (default: random); give each process its own
connection:
  --endpoint URL         an S3-compatible endpoint (default: AWS, or AWS_ENDPOINT_URL)
  --region REGION        the region (default: the SDK's chain: AWS_REGION, profile)
  --path-style           address buckets as https://host/bucket (most S3-compatible stores)
 bench options (the part size × concurrency sweep against your endpoint; deletes what it uploads):
  --sizes LIST           part sizes in MiB (default 5,8,16,64)
  --concurrency LIST     with bench, a list (default 1,4,8)
  --bytes SIZE           bytes per upload (default 256MiB)
  --runs N               uploads per configuration, the median is reported (default 1)
  --chart FILE           where to write the SVG chart (default s3-sink-bench.svg)
other:
  --debug                print stack traces
  --help                 this text
Credentials come from the AWS SDK's standard chain (environment, profiles); they are never printed.`

const OPTIONS = {
  file: { type: 'string' },
  'part-size': { type: 'string' },
  'expected-size': { type: 'string' },
  concurrency: { type: 'string' },
  'max-parts': { type: 'string' },
  'uniform-parts': { type: 'boolean' },
  checksum: { type: 'string' },
  'checksum-type': { type: 'string' },
  'content-type': { type: 'string' },
  metadata: { type: 'string', multiple: true },
  checkpoint: { type: 'string' },
  json: { type: 'boolean' },
  progress: { type: 'boolean' },
  quiet: { type: 'boolean' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  'path-style': { type: 'boolean' },
  'max-object-size': { type: 'string' },
  'max-object-age': { type: 'string' },
  delimiter: { type: 'string' },
  gzip: { type: 'boolean' },
  id: { type: 'string' },
  'older-than': { type: 'string' },
  'dry-run': { type: 'boolean' },
  sizes: { type: 'string' },
  bytes: { type: 'string' },
  runs: { type: 'string' },
  chart: { type: 'string' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values']

/** Exit status of an upload stopped by Ctrl-C, as shells report SIGINT. */
const INTERRUPTED = 130

async function main(argv: string[]): Promise<number> {
  let values: Values
  let positionals: string[]
  try {
    ;({ values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }))
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const [first, ...rest] = positionals
  if (first === 'ls-incomplete' || first === 'abort-incomplete') return stale(first, rest, values)
  if (first === 'bench') return benchCommand(rest, values)
  if (first === 'roll') return roll(rest, values)
  if (first === undefined) throw new UsageError('missing the s3://bucket/key to upload to')
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`)
  return uploadCommand(first, values)
}

/**
 * Given a logger, the SDK logs every failed request in full: the command reports failures itself, in one line.
 * Warnings still reach stderr.
 */
const logger = {
  debug: () => {},
  info: () => {},
  warn: (...args: unknown[]) => console.warn(...args),
  error: () => {},
}

function makeClient(values: Values): S3Client {
  // On Node 20 the SDK warns, in nine lines on every run, that its releases after January 2027 will need Node 22:
  // news for whoever installs the package (the README says so), not for each upload.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const config: S3ClientConfig = { logger }
  if (values.endpoint) config.endpoint = values.endpoint
  if (values.region) config.region = values.region
  if (values['path-style']) config.forcePathStyle = true
  if (values.checksum?.toLowerCase() === 'none') config.requestChecksumCalculation = 'WHEN_REQUIRED'
  return new S3Client(config)
}

function integerOption(values: Values, name: 'concurrency' | 'max-parts' | 'runs'): number | undefined {
  const text = values[name]
  if (text === undefined) return undefined
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(text)}`)
  return Number(text)
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

function checksumTypeOption(values: Values): 'FULL_OBJECT' | 'COMPOSITE' | undefined {
  const text = values['checksum-type']
  if (text === undefined) return undefined
  const type = { full: 'FULL_OBJECT', full_object: 'FULL_OBJECT', composite: 'COMPOSITE' }[text.toLowerCase()]
  if (!type) throw new UsageError(`--checksum-type must be full or composite, got ${text}`)
  return type as 'FULL_OBJECT' | 'COMPOSITE'
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

/** What an object is stored with, from the options the upload and roll commands share. */
function objectOptions(values: Values): ObjectOptions & { params: { ChecksumType?: 'FULL_OBJECT' | 'COMPOSITE' } } {
  const partSize = values['part-size'] === undefined ? undefined : parseSize(values['part-size'])
  const concurrency = integerOption(values, 'concurrency')
  const maxParts = integerOption(values, 'max-parts')
  const checksum = checksumOption(values)
  const ChecksumType = checksumTypeOption(values)
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

/** Options that belong to other commands than the one given. */
function rejectOptions(values: Values, names: readonly (keyof Values)[], command: string): void {
  for (const name of names) {
    if (values[name] !== undefined) throw new UsageError(`--${name} does not go with ${command}`)
  }
}

const ROLL_ONLY = ['max-object-size', 'max-object-age', 'delimiter', 'gzip', 'id'] as const

async function roll(args: string[], values: Values): Promise<number> {
  const [target, ...rest] = args
  if (target === undefined) throw new UsageError('roll needs s3://bucket/template')
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`)
  rejectOptions(values, ['file', 'expected-size', 'checkpoint', 'older-than', 'dry-run', 'progress'], 'roll')
  const options = objectOptions(values)
  return rollCommand(target, values, makeClient(values), options)
}

async function uploadCommand(target: string, values: Values): Promise<number> {
  const { bucket, key } = parseS3Url(target)
  if (!key) throw new UsageError(`missing the key: ${target} (use s3://bucket/key)`)
  rejectOptions(values, ['older-than', 'dry-run', ...ROLL_ONLY], 'an upload')
  const expectedSize = values['expected-size'] === undefined ? undefined : parseSize(values['expected-size'])
  const object = objectOptions(values)
  const checkpoint = values.checkpoint
  if (values.file !== undefined && !existsSync(values.file)) throw new UsageError(`no such file: ${values.file}`)

  const client = makeClient(values)
  let resume: ResumeState | undefined
  if (checkpoint && existsSync(checkpoint)) {
    try {
      resume = JSON.parse(readFileSync(checkpoint, 'utf8')) as ResumeState
    } catch (err) {
      throw new UsageError(`cannot read the checkpoint ${checkpoint}: ${(err as Error).message}`)
    }
  }
  // A file can seek past the stored parts; stdin is read again from its first byte and checked.
  const sourceOffset = resume && values.file !== undefined ? await resumeOffset(client, resume) : 0
  const controller = new AbortController()
  let sink: S3Sink
  try {
    sink = new S3Sink({
      ...object,
      client,
      params: { ...object.params, Bucket: bucket, Key: key },
      ...(expectedSize === undefined ? {} : { expectedSize }),
      ...(resume ? { resume, sourceOffset } : {}),
      // With a checkpoint, a failed run leaves its parts so that running the command again resumes it.
      leavePartsOnError: checkpoint !== undefined,
      signal: controller.signal,
    })
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) throw new UsageError(err.message)
    throw err
  }
  if (checkpoint) {
    sink.on('checkpoint', (state) => {
      // Written whole or not at all: a crash never leaves half a state behind.
      writeFileSync(`${checkpoint}.tmp`, `${JSON.stringify(state)}\n`)
      renameSync(`${checkpoint}.tmp`, checkpoint)
    })
  }

  const source: Readable =
    values.file === undefined ? process.stdin : createReadStream(values.file, { start: sourceOffset })
  const total = values.file === undefined ? expectedSize : Math.max(0, statSync(values.file).size - sourceOffset)
  const showProgress = !values.quiet && (values.progress || (process.stderr.isTTY && !values.json))
  const progress = showProgress ? new ProgressLine(sink, process.stderr, total) : undefined

  let interrupted = false
  const onInterrupt = () => {
    if (interrupted) return
    interrupted = true
    if (checkpoint) {
      sink.suspend().then(
        (state) => writeFileSync(checkpoint, `${JSON.stringify(state)}\n`),
        () => {},
      )
    } else {
      controller.abort(new Error('interrupted'))
    }
  }
  process.once('SIGINT', onInterrupt)
  process.once('SIGTERM', onInterrupt)

  const started = Date.now()
  try {
    await pipeline(source, sink)
  } catch (err) {
    progress?.stop()
    const code = (err as S3SinkError).code
    if (code === 'ERR_S3_SINK_SUSPENDED') {
      process.stderr.write(
        `s3-sink: suspended with ${formatBytes(sink.progress.bytesUploaded)} stored; ` +
          'run the same command again to resume\n',
      )
      return INTERRUPTED
    }
    if (code === 'ERR_S3_SINK_ABORTED' && interrupted) {
      process.stderr.write('s3-sink: interrupted; the upload was aborted\n')
      return INTERRUPTED
    }
    if (checkpoint && code === 'ERR_S3_SINK_UPLOAD_NOT_FOUND') {
      rmSync(checkpoint, { force: true })
      process.stderr.write(`s3-sink: removed ${checkpoint}: the upload it names is gone; run again to start over\n`)
    } else if (checkpoint && sink.uploadId && existsSync(checkpoint)) {
      process.stderr.write(`s3-sink: the upload is kept; run the same command again to resume from ${checkpoint}\n`)
    }
    throw err
  } finally {
    process.off('SIGINT', onInterrupt)
    process.off('SIGTERM', onInterrupt)
  }
  const seconds = (Date.now() - started) / 1000
  const result = sink.result as NonNullable<S3Sink['result']>
  if (checkpoint) rmSync(checkpoint, { force: true })
  const rate = result.size / 2 ** 20 / Math.max(seconds, 0.001)
  progress?.stop()
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({
        bucket: result.Bucket,
        key: result.Key,
        etag: result.ETag,
        size: result.size,
        parts: result.parts,
        ...(result.uploadId ? { uploadId: result.uploadId } : {}),
        ...(result.VersionId ? { versionId: result.VersionId } : {}),
        ...(result.Location ? { location: result.Location } : {}),
        ...(result.checksum ? { checksum: result.checksum } : {}),
        resumedFrom: resume ? resume.bytesUploaded : 0,
        seconds: Number(seconds.toFixed(3)),
        mibPerSecond: Number(rate.toFixed(1)),
      })}\n`,
    )
  } else {
    const sum = result.checksum ? `${result.checksum.algorithm}:${result.checksum.value}` : ''
    process.stdout.write(`s3://${result.Bucket}/${result.Key}\t${result.size}\t${result.ETag ?? ''}\t${sum}\n`)
  }
  if (!values.quiet) {
    const parts = result.parts === 0 ? 'one PutObject' : `${result.parts} parts`
    const sum = result.checksum
    const checked = sum
      ? `; ${sum.algorithm} ${sum.type === 'FULL_OBJECT' ? 'of the whole object' : 'of its parts'} ${sum.value}, ` +
        `${sum.verifiedByStore ? 'verified by the store' : 'computed while sending (the store did not report one)'}`
      : ''
    process.stderr.write(
      `stored s3://${result.Bucket}/${result.Key}: ${formatBytes(result.size)} in ${parts}, ` +
        `${formatDuration(seconds * 1000)}, ${rate.toFixed(1)} MiB/s${checked}\n`,
    )
  }
  return 0
}

function numberList(text: string, name: string): number[] {
  const items = text.split(',').map((item) => item.trim())
  if (items.some((item) => !/^\d+$/.test(item) || Number(item) === 0)) {
    throw new UsageError(`--${name} takes a comma-separated list of whole numbers, got ${JSON.stringify(text)}`)
  }
  return items.map(Number)
}

async function benchCommand(args: string[], values: Values): Promise<number> {
  const [target, ...rest] = args
  if (target === undefined) throw new UsageError('bench needs s3://bucket[/prefix]')
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`)
  const { bucket, key: prefix } = parseS3Url(target)
  const sizes = numberList(values.sizes ?? '5,8,16,64', 'sizes').map((mib) => mib * 2 ** 20)
  for (const size of sizes) {
    if (size < 5 * 2 ** 20 || size > 5 * 2 ** 30) throw new UsageError(`--sizes: ${size / 2 ** 20} is not 5..5120 MiB`)
  }
  await bench(makeClient(values), {
    bucket,
    prefix: prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix,
    sizes,
    concurrencies: numberList(values.concurrency ?? '1,4,8', 'concurrency'),
    bytes: parseSize(values.bytes ?? '256MiB'),
    runs: integerOption(values, 'runs') ?? 1,
    chart: values.chart ?? 's3-sink-bench.svg',
    quiet: values.quiet ?? false,
  })
  if (!values.quiet) process.stderr.write(`wrote ${values.chart ?? 's3-sink-bench.svg'}\n`)
  return 0
}

async function stale(command: 'ls-incomplete' | 'abort-incomplete', args: string[], values: Values): Promise<number> {
  const [target, ...rest] = args
  if (target === undefined) throw new UsageError(`${command} needs s3://bucket[/prefix]`)
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`)
  const { bucket, key: prefix } = parseS3Url(target)
  const client = makeClient(values)
  const where = { Bucket: bucket, ...(prefix ? { Prefix: prefix } : {}) }
  let uploads: Awaited<ReturnType<typeof listIncompleteUploads>>
  if (command === 'ls-incomplete') {
    uploads = await listIncompleteUploads(client, where)
  } else {
    if (values['older-than'] === undefined) throw new UsageError('abort-incomplete needs --older-than (e.g. 7d)')
    const olderThan = parseDuration(values['older-than'])
    uploads = await abortIncompleteUploads(client, { ...where, olderThan, dryRun: values['dry-run'] ?? false })
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(uploads)}\n`)
  } else {
    for (const u of uploads) {
      const initiated = u.Initiated?.toISOString() ?? '-'
      const age = formatDuration(u.ageMs)
      process.stdout.write(`${initiated}\t${age}\t${u.parts}\t${u.size}\t${u.Key}\t${u.UploadId}\n`)
    }
  }
  if (!values.quiet) {
    const bytes = formatBytes(uploads.reduce((sum, u) => sum + u.size, 0))
    const verb = command === 'ls-incomplete' ? 'incomplete' : values['dry-run'] ? 'would be aborted' : 'aborted'
    process.stderr.write(`${uploads.length} upload${uploads.length === 1 ? '' : 's'} ${verb} (${bytes} in parts)\n`)
  }
  return 0
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status
  },
  (err: unknown) => {
    const debug = process.argv.includes('--debug')
    if (err instanceof UsageError) {
      process.stderr.write(`s3-sink: ${err.message}\nTry 's3-sink --help'.\n`)
      process.exitCode = 2
      return
    }
    const code = (err as { code?: string }).code ?? (err as { name?: string }).name ?? 'Error'
    process.stderr.write(`s3-sink: ${code}: ${(err as Error).message ?? String(err)}\n`)
    if (debug) process.stderr.write(`${(err as Error).stack ?? ''}\n`)
    process.exitCode = 1
  },
)
