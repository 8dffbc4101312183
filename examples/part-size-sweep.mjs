// Which part size and concurrency suit your link? Uploads the same data with each combination, through the
// library as your code would, and prints throughput and memory for each: the question `s3-sink bench` answers
// from the command line. The test objects are deleted; the table is stored as results.json.
//
//   S3_SINK_EXAMPLE_BUCKET=my-bucket node examples/part-size-sweep.mjs
//
// The sizes here are small so that the example runs in seconds; for a real answer upload at least a few
// hundred MiB per combination, from the machine that will do the uploads. Credentials and region come from
// the AWS SDK's usual environment; AWS_ENDPOINT_URL points it at another S3-compatible store.
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { S3Sink } from 's3-sink'

const Bucket = process.env.S3_SINK_EXAMPLE_BUCKET
if (!Bucket) throw new Error('set S3_SINK_EXAMPLE_BUCKET to the bucket to store into')
// A custom endpoint (a local store) needs path-style addressing; AWS itself does not.
const client = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) })
const prefix = 'examples/part-size-sweep/'

const MiB = 1024 * 1024
const totalBytes = 16 * MiB
const partSizes = [5 * MiB, 8 * MiB]
const concurrencies = [1, 2, 4]
// One block of random bytes, written again and again: the source costs nothing next to the upload.
const block = randomBytes(MiB)
function* source() {
  for (let sent = 0; sent < totalBytes; sent += block.length) yield block
}

const results = []
for (const partSize of partSizes) {
  for (const concurrency of concurrencies) {
    const Key = `${prefix}sample-${partSize / MiB}MiB-x${concurrency}.bin`
    const sink = new S3Sink({ client, params: { Bucket, Key }, partSize, concurrency })
    const started = process.hrtime.bigint()
    try {
      await pipeline(Readable.from(source()), sink)
    } catch (err) {
      // pipeline() may reject before the sink has finished aborting the upload (Node 20 does when the source
      // fails): wait for the sink to close before exiting.
      await finished(sink).catch(() => {}) // the sink has closed: its clean-up (the upload aborted) is over
      throw err
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    results.push({
      partSize,
      concurrency,
      parts: sink.result.parts,
      seconds: Number(seconds.toFixed(3)),
      mibPerSecond: Number((totalBytes / MiB / seconds).toFixed(1)),
      peakBufferedMiB: Number((sink.progress.peakBufferedBytes / MiB).toFixed(1)),
    })
    await client.send(new DeleteObjectCommand({ Bucket, Key }))
  }
}

console.log(`${totalBytes / MiB} MiB per upload`)
console.log('part size  concurrency  parts  seconds    MiB/s  peak memory')
for (const r of results) {
  console.log(
    `${`${r.partSize / MiB} MiB`.padStart(9)}  ${String(r.concurrency).padStart(11)}  ${String(r.parts).padStart(5)}  ` +
      `${r.seconds.toFixed(2).padStart(7)}  ${r.mibPerSecond.toFixed(1).padStart(7)}  ${`${r.peakBufferedMiB} MiB`.padStart(11)}`,
  )
}
const best = results.reduce((a, b) => (b.mibPerSecond > a.mibPerSecond ? b : a))
console.log(`fastest here: partSize ${best.partSize / MiB} MiB with concurrency ${best.concurrency}`)

const Key = `${prefix}results.json`
await client.send(new DeleteObjectCommand({ Bucket, Key })).catch(() => {})
const sink = new S3Sink({ client, params: { Bucket, Key, ContentType: 'application/json' } })
try {
  await pipeline(Readable.from([JSON.stringify({ totalBytes, results }, null, 2)]), sink)
} catch (err) {
  await finished(sink).catch(() => {}) // the sink has closed: its clean-up (the upload aborted) is over
  throw err
}
console.log(`stored s3://${Bucket}/${Key}: ${sink.result.size} bytes`)
