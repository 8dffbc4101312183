#!/usr/bin/env node
// The s3-sink command: uploads stdin (or a file) to an S3 object with S3Sink, and manages forgotten uploads.
import { createReadStream, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Readable } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
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
import { COMMANDS, type Command, commandHelp, commandNamed, flagsOf, generalHelp, OPTIONS } from './help.js'
import { ProgressLine } from './progress.js'
import { type ObjectOptions, rollCommand } from './roll.js'
import { formatBytes, formatDuration, formatSize, parseDuration, parseS3Url, parseSize, UsageError } from './units.js'

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values']

/** Exit status after Ctrl-C (or SIGTERM), as shells report SIGINT. */
const INTERRUPTED = 130

const MIB = 2 ** 20
const GIB = 2 ** 30
/** S3's limits, which the command checks itself so that it can speak of its options, not the library's. */
const MIN_PART_SIZE = 5 * MIB
const MAX_PART_SIZE = 5 * GIB
const MAX_PARTS = 10_000
const MAX_KEY_BYTES = 1024

async function main(argv: string[]): Promise<number> {
  let values: Values
  let positionals: string[]
  try {
    ;({ values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }))
  } catch (err) {
    const usage = new UsageError(parseError(err as Error & { code?: string }))
    usage.command = commandNamed(argv.find((a) => !a.startsWith('-')) ?? '')?.name
    throw usage
  }
  const [first, ...rest] = positionals
  const named = first === undefined ? undefined : commandNamed(first)
  const command = named ?? COMMANDS[0]
  if (values.version) {
    process.stdout.write(`${version()}\n`)
    return 0
  }
  if (values.help) {
    process.stdout.write(`${named ? commandHelp(named) : generalHelp()}\n`)
    return 0
  }
  try {
    checkFlags(command, values)
    const args = named ? rest : positionals
    switch (command.name) {
      case 'upload':
        return await uploadCommand(args, values)
      case 'ls-incomplete':
      case 'abort-incomplete':
        return await stale(command.name, args, values)
      case 'bench':
        return await benchCommand(args, values)
      case 'roll':
        return await roll(args, values)
    }
    throw new Error(`no runner for the command ${command.name}`)
  } catch (err) {
    if (err instanceof UsageError) err.command ??= command.name
    throw err
  }
}

/** parseArgs' errors, in the words of the other usage errors. */
function parseError(err: Error & { code?: string }): string {
  const option = /'(-[^' ]+)/.exec(err.message)?.[1]
  if (!option) return err.message
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option}`
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(err.message) ? `${option} needs a value` : `${option} takes no value`
    default:
      return err.message
  }
}

/** `s3-sink 0.1.0 (@aws-sdk/client-s3 3.1175.0, Node.js v20.20.2)`: what a bug report needs. */
function version(): string {
  const require = createRequire(import.meta.url)
  const own = (require('s3-sink/package.json') as { version: string }).version
  let sdk = 'not found'
  try {
    sdk = (require('@aws-sdk/client-s3/package.json') as { version: string }).version
  } catch {}
  return `s3-sink ${own} (@aws-sdk/client-s3 ${sdk}, Node.js ${process.version})`
}

/** An option given to a command that does not take it. */
function checkFlags(command: Command, values: Values): void {
  const taken = new Set<string>(flagsOf(command).map((f) => f.name))
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || taken.has(name)) continue
    const owners = COMMANDS.filter((c) => c.flags.some((f) => f.name === name)).map((c) => c.name)
    throw new UsageError(`--${name} goes with ${owners.join(' or ')}, not ${command.name}`)
  }
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

/**
 * The region and the credentials, looked up before the first request: without them the SDK fails that request
 * with its own words (`Region is missing`, `Could not load credentials from any providers`), which name none of
 * the ways to give them.
 */
async function checkSetup(client: S3Client): Promise<void> {
  const config = client.config as unknown as { region: () => Promise<string>; credentials: () => Promise<unknown> }
  try {
    await config.region()
  } catch {
    throw new UsageError(
      'no region: give --region REGION or set AWS_REGION (any name, such as us-east-1, does for most ' +
        'S3-compatible stores)',
    )
  }
  try {
    await config.credentials()
  } catch (err) {
    throw new UsageError(
      `no credentials (${(err as Error).message.split('\n')[0]}): set AWS_ACCESS_KEY_ID and ` +
        'AWS_SECRET_ACCESS_KEY, or AWS_PROFILE to a profile of ~/.aws/credentials',
    )
  }
}

/** What to do about a failure the store (or the network) explains, in the command's terms. */
function hintFor(err: unknown): string | undefined {
  const cause = (err as { cause?: { name?: string; code?: string } }).cause
  const name = cause?.name ?? ''
  const code = cause?.code ?? (err as { code?: string }).code ?? ''
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken'].includes(name)) {
    return 'the store refused the credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)'
  }
  if (name === 'AccessDenied') return 'the credentials are not allowed this request on this bucket'
  if (['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException'].includes(name)) {
    return 'the bucket is in another region: give it with --region (or AWS_REGION)'
  }
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT'].includes(code)) {
    return 'the store could not be reached: check --endpoint (or AWS_ENDPOINT_URL) and the network'
  }
  return undefined
}

/**
 * What Ctrl-C (or SIGTERM) does: a command with something to stop sets `stop`, and ends by itself saying how; until
 * then, and on a second signal, the process ends at once with `leftBehind`.
 */
const interrupt: {
  stop: (() => void) | undefined
  /** What a second signal does, when the command can still clean up (it then ends by itself, saying how). */
  abort: (() => void) | undefined
  leftBehind: () => string
  signals: number
} = {
  stop: undefined,
  abort: undefined,
  leftBehind: () => 'nothing was sent',
  signals: 0,
}

function onSignal(): void {
  interrupt.signals++
  if (interrupt.signals === 1 && interrupt.stop) {
    interrupt.stop()
    return
  }
  if (interrupt.signals === 2 && interrupt.abort) {
    interrupt.abort()
    return
  }
  const again = interrupt.signals > 1 ? ' again: stopped at once' : ''
  process.stderr.write(`\ns3-sink: interrupted${again}; ${interrupt.leftBehind()}\n`)
  process.exit(INTERRUPTED)
}

/** Sets what the first Ctrl-C stops, and what a second one leaves behind; returns the way back to ending at once. */
function onInterrupt(stop: () => void, leftBehind: () => string, abort?: () => void): () => void {
  interrupt.stop = stop
  interrupt.abort = abort
  interrupt.leftBehind = leftBehind
  return () => {
    interrupt.stop = undefined
    interrupt.abort = undefined
    interrupt.leftBehind = () => 'its work was done'
  }
}

/** A whole number within `min..max`, or undefined when the option is not given. */
function integerOption(
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
function sizeOption(
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
function objectOptions(values: Values): ObjectOptions & { maxParts?: number } {
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

async function roll(args: string[], values: Values): Promise<number> {
  const [target, ...rest] = args
  if (target === undefined) throw new UsageError('roll needs s3://bucket/template')
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`)
  const options = objectOptions(values)
  const client = makeClient(values)
  await checkSetup(client)
  return rollCommand(target, values, client, options, onInterrupt)
}

async function uploadCommand(args: string[], values: Values): Promise<number> {
  const [target, ...rest] = args
  if (target === undefined) throw new UsageError('missing the s3://bucket/key to upload to')
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`)
  const { bucket, key } = parseS3Url(target)
  if (!key) throw new UsageError(`missing the key: ${target} (use s3://bucket/key)`)
  const keyBytes = Buffer.byteLength(key)
  if (keyBytes > MAX_KEY_BYTES) {
    throw new UsageError(`the key is ${keyBytes} bytes long in UTF-8; S3 takes at most ${MAX_KEY_BYTES}`)
  }
  const object = objectOptions(values)
  const expectedSize = sizeOption(values, 'expected-size', 0, (object.maxParts ?? MAX_PARTS) * MAX_PART_SIZE)
  const checkpoint = values.checkpoint
  if (values.file !== undefined && !existsSync(values.file)) throw new UsageError(`no such file: ${values.file}`)

  let resume: ResumeState | undefined
  if (checkpoint && existsSync(checkpoint)) {
    try {
      resume = JSON.parse(readFileSync(checkpoint, 'utf8')) as ResumeState
    } catch (err) {
      throw new UsageError(`cannot read the checkpoint ${checkpoint}: ${(err as Error).message}`)
    }
  }
  const client = makeClient(values)
  await checkSetup(client)
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
    // What the command did not check itself: a checkpoint that does not match the options or the object.
    if (err instanceof TypeError || err instanceof RangeError) {
      throw new UsageError(checkpoint && resume ? `${err.message} (from the checkpoint ${checkpoint})` : err.message)
    }
    throw err
  }
  if (checkpoint) {
    sink.on('checkpoint', (state) => {
      // Written whole or not at all: a crash never leaves half a state behind.
      writeFileSync(`${checkpoint}.tmp`, `${JSON.stringify(state)}\n`)
      renameSync(`${checkpoint}.tmp`, checkpoint)
    })
  }

  // A start offset makes the stream read with pread, which a pipe (`--file <(command)`, /dev/stdin) refuses.
  const source: Readable =
    values.file === undefined
      ? process.stdin
      : createReadStream(values.file, sourceOffset > 0 ? { start: sourceOffset } : {})
  const stat = values.file === undefined ? undefined : statSync(values.file)
  const total = stat?.isFile() ? Math.max(0, stat.size - sourceOffset) : expectedSize
  const showProgress = !values.quiet && (values.progress || (process.stderr.isTTY && !values.json))
  const progress = showProgress ? new ProgressLine(sink, process.stderr, total) : undefined

  let interrupted = false
  let checkpointError: Error | undefined
  const where = `s3://${bucket}/${key}`
  const stopListening = onInterrupt(
    () => {
      interrupted = true
      if (!checkpoint) return controller.abort(new Error('interrupted'))
      sink.suspend().then(
        (state) => {
          // The upload may have completed meanwhile: then there is nothing to resume.
          if (sink.result) return
          try {
            writeFileSync(checkpoint, `${JSON.stringify(state)}\n`)
          } catch (err) {
            checkpointError = err as Error
          }
        },
        // The stream fails with the reason; it is reported below.
        () => {},
      )
    },
    () =>
      checkpoint
        ? `the upload is kept; ${checkpoint} names it and the parts stored so far`
        : `the upload may be left incomplete: s3-sink ls-incomplete ${where} lists it`,
  )

  const started = Date.now()
  try {
    // The sink's own end is the upload's: a source that cannot stop at once (a pipe given as --file, whose read
    // blocks a thread until its writer writes or closes) must not hold back the report of a suspended upload.
    const piped = pipeline(source, sink)
    piped.catch(() => {})
    await Promise.race([piped, finished(sink)])
  } catch (err) {
    progress?.stop()
    const code = (err as S3SinkError).code
    if (interrupted && sink.result) {
      process.stderr.write(`s3-sink: interrupted after the object was stored: ${where}, ${sink.result.size} bytes\n`)
      return INTERRUPTED
    }
    if (code === 'ERR_S3_SINK_SUSPENDED') {
      const stored = formatBytes(sink.progress.bytesUploaded)
      process.stderr.write(
        checkpointError
          ? `s3-sink: suspended with ${stored} stored, but the checkpoint could not be written ` +
              `(${checkpointError.message}); the upload is kept: s3-sink ls-incomplete ${where} lists it\n`
          : `s3-sink: suspended with ${stored} stored; run the same command again to resume\n`,
      )
      return INTERRUPTED
    }
    if (code === 'ERR_S3_SINK_ABORTED' && interrupted) {
      process.stderr.write(`s3-sink: interrupted; ${sink.uploadId ? 'the upload was aborted' : 'nothing was stored'}\n`)
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
    stopListening()
  }
  const seconds = (Date.now() - started) / 1000
  const result = sink.result as NonNullable<S3Sink['result']>
  if (checkpoint) rmSync(checkpoint, { force: true })
  const rate = result.size / MIB / Math.max(seconds, 0.001)
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
    process.stdout.write(`s3://${result.Bucket}/${result.Key}\t${result.size}\t${result.ETag}\t${sum}\n`)
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
  const sizes = numberList(values.sizes ?? '5,8,16,64', 'sizes')
  for (const mib of sizes) {
    if (mib * MIB < MIN_PART_SIZE || mib * MIB > MAX_PART_SIZE) {
      throw new UsageError(`--sizes must be part sizes in MiB between 5 and 5120, got ${mib}`)
    }
  }
  const concurrencies = numberList(values.concurrency ?? '1,4,8', 'concurrency')
  const bytes = sizeOption(values, 'bytes', 1, Number.MAX_SAFE_INTEGER) ?? 256 * MIB
  const runs = integerOption(values, 'runs', 1, 1000) ?? 1
  const chart = values.chart ?? 's3-sink-bench.svg'
  const client = makeClient(values)
  await checkSetup(client)
  const controller = new AbortController()
  const where = `s3://${bucket}/${prefix}`
  const stopListening = onInterrupt(
    () => controller.abort(new Error('interrupted')),
    () => `the upload in progress may be left incomplete: s3-sink ls-incomplete ${where} lists it`,
  )
  try {
    await bench(client, {
      bucket,
      prefix: prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix,
      sizes: sizes.map((mib) => mib * MIB),
      concurrencies,
      bytes,
      runs,
      chart,
      quiet: values.quiet ?? false,
      signal: controller.signal,
    })
  } catch (err) {
    if (!controller.signal.aborted) throw err
    process.stderr.write('s3-sink: interrupted; the upload in progress was aborted, the finished ones deleted\n')
    return INTERRUPTED
  } finally {
    stopListening()
  }
  if (!values.quiet) process.stderr.write(`wrote ${chart}\n`)
  return 0
}

async function stale(command: 'ls-incomplete' | 'abort-incomplete', args: string[], values: Values): Promise<number> {
  const [target, ...rest] = args
  if (target === undefined) throw new UsageError(`${command} needs s3://bucket[/prefix]`)
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`)
  const { bucket, key: prefix } = parseS3Url(target)
  const olderThan = command === 'abort-incomplete' ? values['older-than'] : undefined
  if (command === 'abort-incomplete' && olderThan === undefined) {
    throw new UsageError('abort-incomplete needs --older-than (e.g. 7d)')
  }
  const olderThanMs = olderThan === undefined ? 0 : parseDuration(olderThan)
  const client = makeClient(values)
  await checkSetup(client)
  const controller = new AbortController()
  const stopListening = onInterrupt(
    () => controller.abort(new Error('interrupted')),
    () => 'uploads aborted so far stay aborted',
  )
  const where = { Bucket: bucket, ...(prefix ? { Prefix: prefix } : {}), signal: controller.signal }
  let uploads: Awaited<ReturnType<typeof listIncompleteUploads>>
  try {
    uploads =
      command === 'ls-incomplete'
        ? await listIncompleteUploads(client, where)
        : await abortIncompleteUploads(client, { ...where, olderThan: olderThanMs, dryRun: values['dry-run'] ?? false })
  } catch (err) {
    if (!controller.signal.aborted) throw err
    const done = command === 'ls-incomplete' || values['dry-run'] ? '' : '; uploads aborted so far stay aborted'
    process.stderr.write(`s3-sink: interrupted${done}\n`)
    return INTERRUPTED
  } finally {
    stopListening()
  }
  if (values.json) {
    // One object per line, in the fields and case of upload's and roll's --json (docs/cli.md#output).
    for (const u of uploads) {
      process.stdout.write(
        `${JSON.stringify({
          bucket: u.Bucket,
          key: u.Key,
          uploadId: u.UploadId,
          initiated: u.Initiated?.toISOString() ?? null,
          ageMs: u.ageMs,
          parts: u.parts,
          size: u.size,
        })}\n`,
      )
    }
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

process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)
main(process.argv.slice(2)).then(
  (status) => {
    // After Ctrl-C the command has said how it ended: nothing may hold the process now, not even a read blocked
    // on a pipe given as --file (a thread-pool read that only a writer can end).
    if (status === INTERRUPTED) process.exit(status)
    process.exitCode = status
  },
  (err: unknown) => {
    const debug = process.argv.includes('--debug')
    if (err instanceof UsageError) {
      const help = err.command && err.command !== 'upload' ? `s3-sink ${err.command} --help` : 's3-sink --help'
      process.stderr.write(`s3-sink: ${err.message}\nTry '${help}'.\n`)
      process.exitCode = 2
      return
    }
    const code = (err as { code?: string }).code ?? (err as { name?: string }).name ?? 'Error'
    process.stderr.write(`s3-sink: ${code}: ${(err as Error).message ?? String(err)}\n`)
    const hint = hintFor(err)
    if (hint) process.stderr.write(`s3-sink: ${hint}\n`)
    if (debug) process.stderr.write(`${(err as Error).stack ?? ''}\n`)
    process.exitCode = 1
  },
)
