// Uploads a file to S3 compressed with gzip on the way, printing progress as each part is stored.
//
//   S3_SINK_EXAMPLE_BUCKET=my-bucket node examples/upload-file-gzip-progress.mjs
//
// Credentials and region come from the AWS SDK's usual environment (AWS_REGION, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, a profile, …); AWS_ENDPOINT_URL points it at another S3-compatible store.
import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finished, pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { S3Client } from '@aws-sdk/client-s3'
import { S3Sink } from 's3-sink'

const Bucket = process.env.S3_SINK_EXAMPLE_BUCKET
if (!Bucket) throw new Error('set S3_SINK_EXAMPLE_BUCKET to the bucket to store into')
// A custom endpoint (a local store) needs path-style addressing; AWS itself does not.
const client = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) })

// The input: a 16 MiB log-like text file (random payloads, so that gzip leaves more than one part's worth).
const dir = await mkdtemp(join(tmpdir(), 's3-sink-example-'))
const file = join(dir, 'app.log')
const lines = []
for (let i = 0; i < 160_000; i++) {
  const time = new Date(1_700_000_000_000 + i * 1000).toISOString()
  lines.push(`${time} INFO request ${i} ${randomBytes(60).toString('base64')}`)
}
await writeFile(file, `${lines.join('\n')}\n`)

const Key = 'examples/upload-file-gzip-progress/app.log.gz'
const sink = new S3Sink({
  client,
  params: { Bucket, Key, ContentType: 'text/plain', ContentEncoding: 'gzip' },
  partSize: 5 * 1024 * 1024, // the smallest S3 allows, so that this small file shows several parts
})
// 'progress' follows every part the store acknowledged; sink.progress can also be read at any time.
sink.on('progress', (p) => {
  console.log(`${p.partsUploaded} parts stored: ${p.bytesUploaded} of the ${p.bytesWritten} bytes written so far`)
})

try {
  // Resolves once the object exists in the store; rejects (and aborts the upload) if any step fails.
  await pipeline(createReadStream(file), createGzip(), sink)
} catch (err) {
  // pipeline() may reject before the sink has finished aborting the upload (Node 20 does when the source fails):
  // wait for the sink to close before going on or exiting, or the upload and its billed parts may be left.
  await finished(sink).catch(() => {}) // the sink has closed: its clean-up (the upload aborted) is over
  throw err
} finally {
  await rm(dir, { recursive: true, force: true })
}

const { ETag, size, parts } = sink.result
console.log(`stored s3://${Bucket}/${Key}: ${size} bytes in ${parts} parts, ETag ${ETag}`)
