// Stores a .zip archive in S3, generated on the fly from data the program makes (a report, a CSV export, a
// stream of rows): nothing is written to disk. Uses `archiver` (npm install archiver).
//
//   S3_SINK_EXAMPLE_BUCKET=my-bucket node examples/zip-archive.mjs
//
// Credentials and region come from the AWS SDK's usual environment (AWS_REGION, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, a profile, …); AWS_ENDPOINT_URL points it at another S3-compatible store.
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import { S3Client } from '@aws-sdk/client-s3'
import { ZipArchive } from 'archiver'
import { S3Sink } from 's3-sink'

const Bucket = process.env.S3_SINK_EXAMPLE_BUCKET
if (!Bucket) throw new Error('set S3_SINK_EXAMPLE_BUCKET to the bucket to store into')
// A custom endpoint (a local store) needs path-style addressing; AWS itself does not.
const client = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) })

/** An export of `count` rows as CSV, produced as the archive reads it, a thousand rows at a time. */
async function* csvRows(count) {
  yield 'id,name,payload\n'
  for (let id = 1; id <= count; id += 1000) {
    let batch = ''
    for (let row = id; row < Math.min(id + 1000, count + 1); row++) {
      batch += `${row},item ${row},${randomBytes(24).toString('hex')}\n`
    }
    yield batch
  }
}

const Key = 'examples/zip-archive/export.zip'
const sink = new S3Sink({ client, params: { Bucket, Key, ContentType: 'application/zip' } })
const archive = new ZipArchive({ zlib: { level: 6 } })
// Start the upload first: the archive is read as its entries are added, and waits while the sink is busy.
const uploaded = pipeline(archive, sink)

archive.append('This archive was streamed to S3 by s3-sink.\n', { name: 'README.txt' })
archive.append(Readable.from(csvRows(100_000)), { name: 'export/items.csv' })
archive.append(randomBytes(2 * 1024 * 1024), { name: 'export/blob.bin', store: true }) // already dense: not deflated
await archive.finalize()
try {
  await uploaded
} catch (err) {
  // pipeline() may reject before the sink has finished aborting the upload (Node 20 does when the source fails):
  // wait for the sink to close before going on or exiting.
  await finished(sink).catch(() => {}) // the sink has closed: its clean-up (the upload aborted) is over
  throw err
}

const { size, parts, ETag } = sink.result
console.log(`stored s3://${Bucket}/${Key}: ${size} bytes, ${parts} parts, ETag ${ETag}, holding:`)
for (const name of ['README.txt', 'export/items.csv', 'export/blob.bin']) console.log(`  ${name}`)
