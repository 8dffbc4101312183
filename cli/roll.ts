// `s3-sink roll s3://bucket/template`: stdin, an endless log or export stream, into objects of whole records.
import type { S3Client } from '@aws-sdk/client-s3'
import { type RolledObject, S3RollingSink, type S3RollingSinkOptions } from 's3-sink'
import { formatBytes, parseDuration, parseS3Url, parseSize, UsageError } from './units.js'

export interface RollValues {
  'max-object-size'?: string | undefined
  'max-object-age'?: string | undefined
  gzip?: boolean | undefined
  delimiter?: string | undefined
  id?: string | undefined
  json?: boolean | undefined
  quiet?: boolean | undefined
}

/** The per-object options the upload command also takes (part size, concurrency, checksum, headers). */
export type ObjectOptions = Omit<S3RollingSinkOptions, 'client' | 'params' | 'key' | 'resume'> & {
  params?: Partial<S3RollingSinkOptions['params']>
}

/** Exit status after a second Ctrl-C or SIGTERM, as shells report SIGINT. */
const INTERRUPTED = 130

/**
 * How the command hears of Ctrl-C and SIGTERM: `stop` on the first, `abort` on the second; `leftBehind` says what
 * a signal that ends the process at once leaves behind. Returns the way back to the default.
 */
export type OnInterrupt = (stop: () => void, leftBehind: () => string, abort?: () => void) => () => void

/** `\n`, `\r\n`, `\t`, `\0`, `\\` in --delimiter, as people type them; `none`: cut anywhere. */
export function parseDelimiter(text: string): string | null {
  if (text === 'none') return null
  const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', '0': '\0', '\\': '\\' }
  const delimiter = text.replace(/\\(.)/g, (whole, c: string) => escapes[c] ?? whole)
  if (delimiter === '') throw new UsageError('--delimiter must not be empty (use none to cut anywhere)')
  return delimiter
}

export async function rollCommand(
  target: string,
  values: RollValues,
  client: S3Client,
  objectOptions: ObjectOptions,
  onInterrupt: OnInterrupt,
): Promise<number> {
  const { bucket, key: template } = parseS3Url(target)
  if (!template)
    throw new UsageError(`missing the key template: ${target} (e.g. s3://bucket/logs/%Y/%m/%d/{id}-{index}.log)`)
  const maxObjectBytes = parseSize(values['max-object-size'] ?? '64MiB')
  const maxObjectAge = parseDuration(values['max-object-age'] ?? '5m')
  let sink: S3RollingSink
  try {
    sink = new S3RollingSink({
      ...objectOptions,
      client,
      params: { ...objectOptions.params, Bucket: bucket },
      key: template,
      maxObjectBytes,
      maxObjectAge,
      ...(values.delimiter === undefined ? {} : { delimiter: parseDelimiter(values.delimiter) }),
      ...(values.gzip ? { gzip: true } : {}),
      ...(values.id === undefined ? {} : { id: values.id }),
    })
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) throw new UsageError(err.message)
    throw err
  }
  sink.on('object', (o: RolledObject) => {
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({
          index: o.index,
          bucket,
          key: o.key,
          etag: o.etag,
          bytes: o.bytes,
          storedBytes: o.storedBytes,
          offset: o.offset,
          time: o.time.toISOString(),
          ...(o.VersionId ? { versionId: o.VersionId } : {}),
          ...(o.checksum ? { checksum: o.checksum } : {}),
        })}\n`,
      )
    } else {
      process.stdout.write(`s3://${bucket}/${o.key}\t${o.offset}\t${o.bytes}\t${o.storedBytes}\t${o.etag}\n`)
    }
    if (!values.quiet) {
      const stored = o.storedBytes === o.bytes ? '' : ` (${formatBytes(o.storedBytes)} stored)`
      process.stderr.write(
        `stored s3://${bucket}/${o.key}: input bytes ${o.offset}..${o.offset + o.bytes}, ${formatBytes(o.bytes)}${stored}\n`,
      )
    }
  })

  const stdin = process.stdin
  const done = new Promise<void>((resolve, reject) => {
    sink.once('finish', resolve)
    sink.once('error', reject)
  })
  stdin.on('error', (err) => sink.destroy(err))
  stdin.pipe(sink)

  // The first signal stops reading and stores what the sink holds as the last object; the second gives up on
  // the objects in flight (their uploads are aborted).
  let aborted = false
  const stopListening = onInterrupt(
    () => {
      if (!values.quiet) process.stderr.write('s3-sink: storing what was read; interrupt again to abort\n')
      stdin.unpipe(sink)
      stdin.destroy()
      sink.end()
    },
    () => `the objects in flight may be left incomplete: s3-sink ls-incomplete s3://${bucket} lists them`,
    () => {
      aborted = true
      sink.destroy(Object.assign(new Error('interrupted'), { code: 'ERR_S3_SINK_ABORTED' }))
    },
  )
  try {
    await done
  } catch (err) {
    if (aborted) {
      process.stderr.write(
        `s3-sink: interrupted; the objects in flight were aborted; ${sink.objects.length} objects were stored\n`,
      )
      return INTERRUPTED
    }
    throw err
  } finally {
    stopListening()
  }
  if (!values.quiet) {
    const { bytesStored } = sink.progress
    process.stderr.write(`${sink.objects.length} objects stored, ${formatBytes(bytesStored)} of input\n`)
  }
  return 0
}
