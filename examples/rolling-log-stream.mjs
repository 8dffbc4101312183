// Ships an endless log stream to S3 as a series of objects of whole lines, with S3RollingSink: a new object
// every 1 MiB or every 2 seconds, the source position committed each time an object is stored (so that a restart
// resumes after the last stored line), SIGHUP to start a new object now, SIGTERM to store what is buffered and
// exit. The example sends itself both signals.
//
//   S3_SINK_EXAMPLE_BUCKET=my-bucket node examples/rolling-log-stream.mjs
//
// Credentials and region come from the AWS SDK's usual environment (AWS_REGION, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, a profile, …); AWS_ENDPOINT_URL points it at another S3-compatible store.
import { randomBytes } from 'node:crypto'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import { S3Client } from '@aws-sdk/client-s3'
import { S3RollingSink } from 's3-sink'

const Bucket = process.env.S3_SINK_EXAMPLE_BUCKET
if (!Bucket) throw new Error('set S3_SINK_EXAMPLE_BUCKET to the bucket to store into')
// A custom endpoint (a local store) needs path-style addressing; AWS itself does not.
const client = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) })

// Where the position after the last stored byte is kept between runs (a real service keeps it with its data, or
// commits it to its queue: a Kafka offset, a journal cursor). A restart reads the source from there on.
const positionFile = join(tmpdir(), 's3-sink-example-rolling-log-stream.position.json')
const start = await readFile(positionFile, 'utf8').then(
  (text) => JSON.parse(text).position,
  () => 0,
)

/**
 * The log: JSON lines as an application writes them, in bursts, from `position` on. `stop()` ends it after the
 * last whole burst; destroying it stops it, as closing a consumer would.
 */
function logStream(position) {
  let timer
  let sequence = 0
  const stream = new Readable({
    read() {
      timer ??= setInterval(() => {
        let burst = ''
        for (let i = 0; i < 200; i++) {
          const event = {
            time: new Date().toISOString(),
            level: 'info',
            seq: sequence++,
            msg: randomBytes(24).toString('hex'),
          }
          burst += `${JSON.stringify(event)}\n`
        }
        position += Buffer.byteLength(burst)
        this.push(burst)
      }, 20)
    },
    destroy(err, callback) {
      clearInterval(timer)
      callback(err)
    },
  })
  stream.stop = () => {
    clearInterval(timer)
    stream.push(null)
  }
  return stream
}

const sink = new S3RollingSink({
  client,
  params: { Bucket, ContentType: 'application/x-ndjson' },
  key: 'examples/rolling-log-stream/%Y/%m/%d/{id}-{index}.ndjson.gz',
  maxObjectBytes: 1024 * 1024,
  maxObjectAge: 2000,
  gzip: true,
})

/** Writes the position so that a crash mid-write never leaves a torn file. */
async function commit(position) {
  await writeFile(`${positionFile}.tmp`, JSON.stringify({ position }))
  await rename(`${positionFile}.tmp`, positionFile)
}

// 'object' comes in order, once an object is stored: everything before `offset + bytes` is safe in the bucket.
// Commits are chained so that they land in that order too.
let committed = Promise.resolve()
sink.on('object', ({ key, bytes, storedBytes, offset }) => {
  const position = start + offset + bytes
  console.log(`stored s3://${Bucket}/${key}: ${bytes} bytes of log (${storedBytes} gzipped), position ${position}`)
  committed = committed.then(() => commit(position))
})

const log = logStream(start)
process.on('SIGHUP', () => {
  console.log('SIGHUP: starting a new object')
  sink.rotate().catch(() => {}) // a failure is the sink's own 'error', reported by pipeline() below
})
process.once('SIGTERM', () => {
  console.log('SIGTERM: storing what is buffered, then exiting')
  // Ending the source ends the sink: the object being filled is stored (it ends at a line's end), then 'finish'.
  log.stop()
})

// The example's own operator: a rotation after 1.5 s, a shutdown after 3 s.
setTimeout(() => process.kill(process.pid, 'SIGHUP'), 1500)
setTimeout(() => process.kill(process.pid, 'SIGTERM'), 3000)

try {
  await pipeline(log, sink)
} catch (err) {
  // pipeline() may reject before the sink has finished aborting its objects in flight (Node 20 does when the
  // source fails): wait for the sink to close before exiting.
  await finished(sink).catch(() => {}) // the sink has closed: its clean-up (the uploads aborted) is over
  throw err
}
await committed
const { position } = JSON.parse(await readFile(positionFile, 'utf8'))
console.log(`${sink.objects.length} objects stored, position ${position} committed to ${positionFile}`)
