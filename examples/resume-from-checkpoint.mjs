// Resumes an upload after a crash from a checkpoint file: the parts already in the store are not sent again.
// The example runs the first attempt in a child process that is killed (SIGKILL, as a crash or an OOM kill
// would) after two parts, then resumes it from the checkpoint the child left.
//
//   S3_SINK_EXAMPLE_BUCKET=my-bucket node examples/resume-from-checkpoint.mjs
//
// Credentials and region come from the AWS SDK's usual environment (AWS_REGION, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, a profile, …); AWS_ENDPOINT_URL points it at another S3-compatible store.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createReadStream, renameSync, writeFileSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finished, pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { S3Client } from '@aws-sdk/client-s3'
import { resumeOffset, S3Sink } from 's3-sink'

const Bucket = process.env.S3_SINK_EXAMPLE_BUCKET
if (!Bucket) throw new Error('set S3_SINK_EXAMPLE_BUCKET to the bucket to store into')
// A custom endpoint (a local store) needs path-style addressing; AWS itself does not.
const client = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) })
const Key = 'examples/resume-from-checkpoint/data.bin'

/**
 * Saves each checkpoint before going on: written to a new file and renamed over the old one, so that a crash
 * at any moment leaves the last whole checkpoint. It holds ids and part ETags, no credentials.
 */
function keepCheckpoints(sink, checkpointFile) {
  sink.on('checkpoint', (state) => {
    writeFileSync(`${checkpointFile}.tmp`, JSON.stringify(state))
    renameSync(`${checkpointFile}.tmp`, checkpointFile)
  })
}

if (process.argv[2] === 'first-attempt') {
  // The child: uploads the file, saving checkpoints, and dies without warning after two parts.
  const [, , , file, checkpointFile] = process.argv
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * 1024 * 1024, concurrency: 1 })
  keepCheckpoints(sink, checkpointFile)
  sink.on('checkpoint', (state) => {
    // This listener comes after the one that saved the checkpoint.
    console.log(`first attempt: part ${state.parts.length} stored, checkpoint saved`)
    if (state.parts.length === 2) process.kill(process.pid, 'SIGKILL')
  })
  await pipeline(createReadStream(file), sink)
} else {
  // The input: a 22 MiB file, five parts of 5 MiB.
  const dir = await mkdtemp(join(tmpdir(), 's3-sink-example-'))
  const file = join(dir, 'data.bin')
  const checkpointFile = join(dir, 'data.bin.checkpoint.json')
  await writeFile(file, randomBytes(22 * 1024 * 1024))
  try {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'first-attempt', file, checkpointFile], {
      stdio: 'inherit',
    })
    const [code, signal] = await once(child, 'exit')
    console.log(`first attempt ended by ${signal ?? `exit status ${code}`}`)

    // After the crash: the checkpoint names the multipart upload and the parts it had stored.
    const state = JSON.parse(await readFile(checkpointFile, 'utf8'))
    // The file can seek, so read it from the end of the parts the store still holds rather than from byte 0.
    const offset = await resumeOffset(client, state)
    console.log(`resuming upload ${state.uploadId} at byte ${offset} (${state.parts.length} parts in the checkpoint)`)
    const sink = new S3Sink({ client, params: { Bucket, Key }, resume: state, sourceOffset: offset })
    keepCheckpoints(sink, checkpointFile) // a second crash would resume from further on
    let sent = 0
    sink.on('part', () => sent++)
    try {
      await pipeline(createReadStream(file, { start: offset }), sink)
    } catch (err) {
      // pipeline() may reject before the sink has finished with the upload (Node 20 does when the source fails):
      // wait for the sink to close before going on or exiting.
      await finished(sink).catch(() => {}) // the sink has closed: its clean-up (the upload aborted) is over
      throw err
    }

    const { size, parts, ETag } = sink.result
    console.log(`stored s3://${Bucket}/${Key}: ${size} bytes in ${parts} parts (${sent} sent on resume), ETag ${ETag}`)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
