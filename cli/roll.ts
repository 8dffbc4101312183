// `s3-sink roll s3://bucket/template`: stdin or a file (followed as it grows), an endless log or export stream,
// into objects of whole records; with --checkpoint, continued after a crash with each byte stored once.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { type RolledObject, type RollingResumeState, S3RollingSink, S3SinkError } from 's3-sink'
import { connect } from './client.js'
import { type FileSegment, FileSource } from './follow.js'
import { Input, WriteTarget } from './input.js'
import { INTERRUPTED, onInterrupt } from './interrupt.js'
import { objectOptions, oneTarget, type Values } from './options.js'
import { formatBytes, parseDuration, parseS3Url, parseSize, UsageError } from './units.js'

/** What `--checkpoint FILE` holds: the rolling sink's state and the files its input offsets lie in. */
interface RollCheckpoint {
  version: 1
  /** The file read (as given); its identity is in `segments`. */
  file: string
  /** The files the input went through since the state's offset (a rotation or truncation adds one). */
  segments: FileSegment[]
  state: RollingResumeState
}

/** Writes `content` to `file` whole or not at all, and durably: a crash leaves the old checkpoint or the new one. */
function saveAtomically(file: string, content: string): void {
  const temporary = `${file}.tmp`
  const fd = openSync(temporary, 'w')
  try {
    writeSync(fd, content)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temporary, file)
  // The rename itself is durable once the directory is synced (not every platform can open a directory).
  try {
    const dir = openSync(dirname(file), 'r')
    try {
      fsyncSync(dir)
    } finally {
      closeSync(dir)
    }
  } catch {}
}

function readCheckpoint(file: string): RollCheckpoint | undefined {
  if (!existsSync(file)) return undefined
  let saved: RollCheckpoint
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as RollCheckpoint
  } catch (err) {
    throw new UsageError(`cannot read the checkpoint ${file}: ${(err as Error).message}`)
  }
  if (saved?.version !== 1 || !Array.isArray(saved.segments) || typeof saved.state !== 'object') {
    throw new UsageError(`${file} is not a checkpoint of s3-sink roll`)
  }
  return saved
}

/** `\n`, `\r\n`, `\t`, `\0`, `\\` in --delimiter, as people type them; `none`: cut anywhere. */
export function parseDelimiter(text: string): string | null {
  if (text === 'none') return null
  const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', '0': '\0', '\\': '\\' }
  const delimiter = text.replace(/\\(.)/g, (whole, c: string) => escapes[c] ?? whole)
  if (delimiter === '') throw new UsageError('--delimiter must not be empty (use none to cut anywhere)')
  return delimiter
}

export async function rollCommand(args: string[], values: Values): Promise<number> {
  const target = oneTarget(args, 'roll needs s3://bucket/template')
  const options = objectOptions(values)
  const { bucket, key: template } = parseS3Url(target)
  if (!template)
    throw new UsageError(`missing the key template: ${target} (e.g. s3://bucket/logs/%Y/%m/%d/{id}-{index}.log)`)
  const maxObjectBytes = parseSize(values['max-object-size'] ?? '64MiB')
  const maxObjectAge = parseDuration(values['max-object-age'] ?? '5m')
  const { file, checkpoint } = values
  if (values.follow && file === undefined) throw new UsageError('--follow needs --file')
  if (checkpoint !== undefined && file === undefined) {
    throw new UsageError('--checkpoint needs --file: stdin cannot be read again after a crash')
  }
  if (checkpoint !== undefined && !template.includes('{index}')) {
    throw new UsageError(
      `with --checkpoint the template needs {index}, so that each object's key is known again after a crash: ${target}`,
    )
  }
  if (file !== undefined && !existsSync(file)) throw new UsageError(`no such file: ${file}`)
  const saved = checkpoint === undefined ? undefined : readCheckpoint(checkpoint)
  const delimiter = values.delimiter === undefined ? '\n' : parseDelimiter(values.delimiter)
  const client = await connect(values)
  let sink: S3RollingSink
  try {
    sink = new S3RollingSink({
      ...options,
      client,
      params: { ...options.params, Bucket: bucket },
      key: template,
      maxObjectBytes,
      maxObjectAge,
      delimiter,
      ...(values.gzip ? { gzip: true } : {}),
      ...(values.id === undefined ? {} : { id: values.id }),
      // With a checkpoint, uploads in flight are kept when the command stops early: the next run takes them up.
      ...(checkpoint === undefined ? {} : { leavePartsOnError: true }),
      ...(saved ? { resume: saved.state } : {}),
    })
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) {
      throw new UsageError(saved ? `${err.message} (from the checkpoint ${checkpoint})` : err.message)
    }
    if (err instanceof S3SinkError && err.code === 'ERR_S3_SINK_RESUME_MISMATCH') {
      throw new UsageError(`the checkpoint ${checkpoint} does not fit these options: ${err.message}`)
    }
    throw err
  }
  const fileSource =
    file === undefined
      ? undefined
      : new FileSource({
          path: file,
          offset: saved?.state.offset ?? 0,
          segments: saved?.segments ?? [],
          follow: values.follow === true,
          delimiter: delimiter === null ? null : Buffer.from(delimiter),
          replayNeeded: (saved?.state.objects.length ?? 0) > 0,
          warn: (message) => process.stderr.write(`s3-sink: ${message}\n`),
        })
  if (checkpoint !== undefined && fileSource) {
    sink.on('checkpoint', (state) => {
      // Saved before the sink sends the request that follows: whatever a SIGKILL interrupts, this names it.
      const content: RollCheckpoint = {
        version: 1,
        file: file as string,
        segments: fileSource.segmentsFrom(state.offset),
        state,
      }
      saveAtomically(checkpoint, `${JSON.stringify(content)}\n`)
    })
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

  const done = new Promise<void>((resolve, reject) => {
    sink.once('finish', resolve)
    sink.once('error', reject)
  })
  // A file is read by its FileSource, which knows the file each input offset lies in across rotations; stdin in
  // large reads, each handed on as it is.
  const stdin = fileSource ? undefined : await Input.open(undefined)
  if (fileSource) {
    fileSource.on('error', (err) => sink.destroy(err))
    fileSource.pipe(sink)
  } else {
    stdin?.readInto(new WriteTarget(sink)).then(
      () => sink.end(),
      (err: unknown) => sink.destroy(err as Error),
    )
  }

  // The first signal stops reading and stores what the sink holds as the last object; the second gives up on
  // the objects in flight (their uploads are aborted).
  let aborted = false
  const stopListening = onInterrupt(
    () => {
      if (!values.quiet) process.stderr.write('s3-sink: storing what was read; interrupt again to abort\n')
      if (fileSource) {
        // The file source ends after the read under way; a record still being written is read next time.
        fileSource.stop()
        return
      }
      stdin?.stop()
      sink.end()
    },
    () =>
      checkpoint === undefined
        ? `the objects in flight may be left incomplete: s3-sink ls-incomplete s3://${bucket} lists them`
        : `${checkpoint} names the objects in flight: run the same command again to continue`,
    () => {
      aborted = true
      sink.destroy(Object.assign(new Error('interrupted'), { code: 'ERR_S3_SINK_ABORTED' }))
    },
  )
  // SIGHUP, which log rotators send: the object being filled ends after every byte read so far (at the end of
  // its record), and the next one begins.
  const rotate = () => {
    sink.rotate().catch(() => {})
  }
  process.on('SIGHUP', rotate)
  try {
    await done
  } catch (err) {
    if (aborted) {
      process.stderr.write(
        checkpoint === undefined
          ? `s3-sink: interrupted; the objects in flight were aborted; ${sink.objects.length} objects were stored\n`
          : `s3-sink: interrupted; ${sink.objects.length} objects were stored; ${checkpoint} names the objects ` +
              'in flight: run the same command again to continue\n',
      )
      return INTERRUPTED
    }
    throw err
  } finally {
    process.off('SIGHUP', rotate)
    stopListening()
  }
  if (!values.quiet) {
    const { bytesStored } = sink.progress
    process.stderr.write(`${sink.objects.length} objects stored, ${formatBytes(bytesStored)} of input\n`)
  }
  return 0
}
