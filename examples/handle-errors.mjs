// Handles each kind of failure by its code: bad options (thrown by the constructor), a bucket that does not
// exist, a source that fails, an upload cancelled with an AbortSignal. Every failed upload is aborted, leaving
// nothing in the store; the example then stores a report of what it saw.
//
//   S3_SINK_EXAMPLE_BUCKET=my-bucket node examples/handle-errors.mjs
//
// Credentials and region come from the AWS SDK's usual environment (AWS_REGION, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, a profile, …); AWS_ENDPOINT_URL points it at another S3-compatible store.
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import { S3Client } from '@aws-sdk/client-s3'
import { S3Sink, S3SinkError } from 's3-sink'

const Bucket = process.env.S3_SINK_EXAMPLE_BUCKET
if (!Bucket) throw new Error('set S3_SINK_EXAMPLE_BUCKET to the bucket to store into')
// A custom endpoint (a local store) needs path-style addressing; AWS itself does not.
const client = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) })
const prefix = 'examples/handle-errors/'
const report = []

/** Uploads `source`; on failure, waits until the sink has aborted its upload, then rethrows. */
async function upload(source, options) {
  const sink = new S3Sink({ client, ...options })
  try {
    await pipeline(source, sink)
    return sink.result
  } catch (err) {
    // pipeline() may reject before the sink has finished aborting the upload (Node 20 does when the source
    // fails): wait for the sink to close before going on or exiting.
    await finished(sink).catch(() => {}) // the sink has closed: its clean-up (the upload aborted) is over
    throw err
  }
}

/** What to do about an error, by its code. */
function handle(what, err) {
  let advice
  if (err instanceof S3SinkError) {
    // The store's own error (NoSuchBucket, AccessDenied, SlowDown, …) is the cause, scrubbed of the request.
    const cause = err.cause?.name ?? err.cause?.code
    switch (err.code) {
      case 'ERR_S3_SINK_CREATE_FAILED':
      case 'ERR_S3_SINK_PUT_FAILED':
      case 'ERR_S3_SINK_PART_FAILED':
      case 'ERR_S3_SINK_COMPLETE_FAILED':
        advice =
          cause === 'NoSuchBucket'
            ? 'create the bucket or fix its name'
            : cause === 'AccessDenied'
              ? 'give the credentials s3:PutObject on the key'
              : `the store refused (${cause ?? 'no answer'}) after ${err.attempts ?? 1} attempts: try again later`
        break
      case 'ERR_S3_SINK_ABORTED':
        advice = 'cancelled on purpose: nothing to do'
        break
      case 'ERR_S3_SINK_ABORT_FAILED':
        advice = `abort upload ${err.uploadId} later (s3-sink abort-incomplete), or let a lifecycle rule do it`
        break
      default:
        advice = 'see the error table of the docs'
    }
  } else if (err.code === 'ERR_INVALID_ARG_TYPE' || err.code === 'ERR_OUT_OF_RANGE') {
    advice = 'a bug in the calling code: fix the option the message names'
  } else {
    advice = "the source's own error: the upload was aborted, retry once the source is fixed"
  }
  const line = { what, name: err.name, code: err.code, message: err.message, advice }
  report.push(line)
  console.log(`${what}: ${err.name} ${err.code ?? ''}\n  ${err.message}\n  → ${advice}`)
}

// 1. Options are checked by the constructor, which throws at once: TypeError or RangeError with Node's codes.
try {
  new S3Sink({ client, params: { Bucket, Key: `${prefix}x` }, partSize: 1024 })
} catch (err) {
  handle("a part size below S3's minimum", err)
}
try {
  new S3Sink({ client, params: { Bucket } })
} catch (err) {
  handle('no Key', err)
}

// 2. A bucket that does not exist: the store's NoSuchBucket is the cause of the sink's coded error.
try {
  await upload(Readable.from([Buffer.from('hello\n')]), {
    params: { Bucket: `${Bucket}-missing-${randomBytes(4).toString('hex')}`, Key: `${prefix}hello.txt` },
  })
} catch (err) {
  handle('a bucket that does not exist', err)
}

// 3. The source fails after 12 MiB (two parts stored): the upload is aborted and the source's error comes out.
async function* failingSource() {
  for (let i = 0; i < 12; i++) {
    yield randomBytes(1024 * 1024)
    await new Promise((resolve) => setTimeout(resolve, 20)) // rows arriving from a database, say
  }
  throw Object.assign(new Error('the source database went away'), { code: 'ECONNRESET' })
}
try {
  await upload(Readable.from(failingSource()), {
    params: { Bucket, Key: `${prefix}broken.bin` },
    partSize: 5 * 1024 * 1024,
  })
} catch (err) {
  handle('a source that fails mid-stream', err)
}

// 4. An upload cancelled by its AbortSignal (a deadline here; a user's cancel button elsewhere).
async function* slowSource() {
  for (;;) {
    yield randomBytes(64 * 1024)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
try {
  await upload(Readable.from(slowSource()), {
    params: { Bucket, Key: `${prefix}cancelled.bin` },
    signal: AbortSignal.timeout(300),
  })
} catch (err) {
  handle('an upload past its deadline', err)
}

// What is stored: the report (the failed uploads above left nothing).
const Key = `${prefix}report.json`
const result = await upload(Readable.from([JSON.stringify(report, null, 2)]), {
  params: { Bucket, Key, ContentType: 'application/json' },
})
console.log(`stored s3://${Bucket}/${Key}: ${result.size} bytes, ETag ${result.ETag}`)
