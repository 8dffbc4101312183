// `s3-sink [upload] s3://bucket/key`: stdin, or a file, into one object, read straight into the sink's parts;
// with --checkpoint, an interrupted or failed upload is kept and the same command resumes it.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { finished } from 'node:stream/promises'
import { type ResumeState, resumeOffset, S3Sink, type S3SinkError } from 's3-sink'
import { connect } from './client.js'
import { Input } from './input.js'
import { holdSignals, INTERRUPTED, onInterrupt } from './interrupt.js'
import { MAX_PART_SIZE, MAX_PARTS, objectOptions, oneTarget, sizeOption, type Values } from './options.js'
import { ProgressLine } from './progress.js'
import { formatBytes, formatDuration, parseS3Url, UsageError } from './units.js'

const MIB = 2 ** 20
const MAX_KEY_BYTES = 1024

export async function uploadCommand(args: string[], values: Values): Promise<number> {
  const target = oneTarget(args, 'missing the s3://bucket/key to upload to')
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
  const client = await connect(values)
  // Ctrl-C from here on stops the upload made below, once it is made.
  holdSignals()
  const input = await Input.open(values.file)
  // A file can start past the stored parts; stdin or a pipe is read again from its first byte, and checked.
  const sourceOffset = resume && input.seekable && values.file !== undefined ? await resumeOffset(client, resume) : 0
  if (sourceOffset > 0) input.seek(sourceOffset)
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

  const total = input.size === undefined ? expectedSize : Math.max(0, input.size - sourceOffset)
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
    // The input ends the sink, or fails it (its upload is then aborted, as for a source that fails in a pipeline).
    input.readInto(sink).then(
      () => sink.end(),
      (err: unknown) => sink.destroy(err as Error),
    )
    // The sink's own end is the upload's: a read that cannot stop at once (blocked on a pipe until its writer
    // writes or closes) must not hold back the report of a suspended upload.
    await finished(sink)
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
    input.stop()
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
