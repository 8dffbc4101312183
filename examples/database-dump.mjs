// Streams a database dump straight from the dump command's stdout into S3, and stores it only if the command
// succeeds: a dump that exits non-zero aborts the upload, so a truncated dump is never stored.
//
//   S3_SINK_EXAMPLE_BUCKET=my-bucket node examples/database-dump.mjs
//
// The "database" here is a small Node program printing SQL, so that the example runs anywhere; replace it with
// `pg_dump`, `mysqldump --single-transaction`, `mongodump --archive`, … Credentials and region come from the AWS
// SDK's usual environment; AWS_ENDPOINT_URL points it at another S3-compatible store.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { finished, pipeline } from 'node:stream/promises'
import { HeadObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3'
import { S3Sink } from 's3-sink'

const Bucket = process.env.S3_SINK_EXAMPLE_BUCKET
if (!Bucket) throw new Error('set S3_SINK_EXAMPLE_BUCKET to the bucket to store into')
const client = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) })

/** Runs `command` and uploads its stdout to `Key`; rejects, leaving nothing stored, if the command fails. */
async function dumpToS3(command, args, Key) {
  const dump = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  // Listen at once: the command may exit before its output has been read. once() rejects if it cannot start;
  // that is reported where `exited` is awaited, below.
  const exited = once(dump, 'exit')
  exited.catch(() => {})
  const sink = new S3Sink({
    client,
    params: { Bucket, Key, ContentType: 'application/sql' },
    partSize: 5 * 1024 * 1024, // the smallest S3 allows, so that this small dump is a multipart upload
  })
  const uploaded = pipeline(
    dump.stdout,
    // Passes the output through, then holds the end of the stream until the command's exit status is known:
    // the object is completed only after a zero exit. Throwing here makes pipeline() destroy the sink, which
    // aborts the multipart upload and the parts already sent.
    async function* untilExitStatus(output) {
      yield* output
      const [code, signal] = await exited
      if (code !== 0) throw new Error(`${command} failed (${signal ?? `exit status ${code}`}); the upload was aborted`)
    },
    sink,
  )
  try {
    await uploaded
  } catch (err) {
    // pipeline() may reject before the sink has finished aborting the upload (Node 20 does when the source
    // fails): wait for the sink to close before going on or exiting, or the upload and its parts may be left.
    await finished(sink).catch(() => {}) // the sink has closed: its clean-up (the upload aborted) is over
    dump.kill() // the command is no use any more if the upload failed
    throw err
  }
  return sink.result
}

// A dump-like program: 60,000 INSERT lines (about 6 MiB, more than one 5 MiB part), then an exit status.
const fakeDump = (exitStatus) => `
  const out = process.stdout
  out.write('BEGIN;\\n')
  let i = 0
  const more = () => {
    while (i < 60000) {
      const line = 'INSERT INTO events VALUES (' + i + ", 'event " + i + " " + 'x'.repeat(60) + "');\\n"
      i++
      if (!out.write(line)) return out.once('drain', more)
    }
    out.write('COMMIT;\\n', () => process.exit(${exitStatus}))
  }
  more()
`

// 1. The command succeeds: the dump is stored.
const goodKey = 'examples/database-dump/events.sql'
const result = await dumpToS3(process.execPath, ['-e', fakeDump(0)], goodKey)
console.log(`stored s3://${Bucket}/${goodKey}: ${result.size} bytes in ${result.parts} parts, ETag ${result.ETag}`)

// 2. The command writes as much and then fails: the upload is aborted, nothing is stored for that key.
const badKey = 'examples/database-dump/events-failed.sql'
try {
  await dumpToS3(process.execPath, ['-e', fakeDump(3)], badKey)
  throw new Error('the failed dump was stored')
} catch (err) {
  console.log(`the failing dump was not stored: ${err.message}`)
}
const head = await client.send(new HeadObjectCommand({ Bucket, Key: badKey })).catch((err) => err)
const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: badKey }))
console.log(
  `s3://${Bucket}/${badKey}: ${head.name === 'NotFound' ? 'no object' : 'AN OBJECT'}, ` +
    `${uploads.Uploads?.length ?? 0} incomplete uploads`,
)
