// `s3-sink ls-incomplete` and `s3-sink abort-incomplete`: the multipart uploads left in a bucket (or under a
// prefix), listed, and aborted when older than a given age.
import { abortIncompleteUploads, listIncompleteUploads } from 's3-sink'
import { connect } from './client.js'
import { INTERRUPTED, onInterrupt } from './interrupt.js'
import { oneTarget, type Values } from './options.js'
import { formatBytes, formatDuration, parseDuration, parseS3Url, UsageError } from './units.js'

export async function staleCommand(
  command: 'ls-incomplete' | 'abort-incomplete',
  args: string[],
  values: Values,
): Promise<number> {
  const target = oneTarget(args, `${command} needs s3://bucket[/prefix]`)
  const { bucket, key: prefix } = parseS3Url(target)
  const olderThan = command === 'abort-incomplete' ? values['older-than'] : undefined
  if (command === 'abort-incomplete' && olderThan === undefined) {
    throw new UsageError('abort-incomplete needs --older-than (e.g. 7d)')
  }
  const olderThanMs = olderThan === undefined ? 0 : parseDuration(olderThan)
  const client = await connect(values)
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
