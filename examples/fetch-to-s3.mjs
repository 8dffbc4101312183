// A fetch() download streamed to S3 through sink.toWeb(): the body is never held whole in memory, the download
// waits while the parts in flight are full, and pipeTo() resolves only once the object is stored. Stored twice:
// as downloaded, and gzipped on the way through a CompressionStream.
//
// The download comes from a small HTTP server this program starts, so that it runs without the internet; any
// other URL works the same.
//
//   AWS_ENDPOINT_URL=… AWS_REGION=… AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… S3_SINK_EXAMPLE_BUCKET=… \
//     node examples/fetch-to-s3.mjs
import { createServer } from 'node:http'
import { S3Client } from '@aws-sdk/client-s3'
import { S3Sink } from 's3-sink'

const Bucket = process.env.S3_SINK_EXAMPLE_BUCKET
if (!Bucket) throw new Error('set S3_SINK_EXAMPLE_BUCKET to the bucket to store into')
// A custom endpoint (a local store) needs path-style addressing; AWS does not.
const client = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) })

// The input: 200,000 rows of CSV (about 12 MiB), generated as the server sends them.
const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'text/csv' })
  let row = 0
  const send = () => {
    while (row < 200_000) {
      const line = `${row},sensor-${row % 97},${(Math.sin(row) * 100).toFixed(3)},${new Date(1_700_000_000_000 + row * 1000).toISOString()}\n`
      row++
      if (!response.write(line)) return response.once('drain', send)
    }
    response.end()
  }
  send()
})
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${server.address().port}/readings.csv`

try {
  // As downloaded.
  const response = await fetch(url)
  if (!response.ok || !response.body) throw new Error(`GET ${url}: ${response.status}`)
  const plain = new S3Sink({
    client,
    params: { Bucket, Key: 'examples/fetch-to-s3/readings.csv', ContentType: 'text/csv' },
  })
  // pipeTo() settles only once the store is settled too (stored, or the upload aborted): nothing to wait for after.
  await response.body.pipeTo(plain.toWeb())
  const stored = plain.result
  const how = stored.parts ? `${stored.parts} parts` : 'one PutObject'
  console.log(`stored s3://${Bucket}/${stored.Key}: ${stored.size} bytes in ${how}, ETag ${stored.ETag}`)

  // Gzipped on the way: any TransformStream fits between the body and the sink.
  const again = await fetch(url)
  if (!again.ok || !again.body) throw new Error(`GET ${url}: ${again.status}`)
  const gzipped = new S3Sink({
    client,
    params: { Bucket, Key: 'examples/fetch-to-s3/readings.csv.gz', ContentType: 'text/csv', ContentEncoding: 'gzip' },
  })
  await again.body.pipeThrough(new CompressionStream('gzip')).pipeTo(gzipped.toWeb())
  const zipped = gzipped.result
  console.log(`stored s3://${Bucket}/${zipped.Key}: ${zipped.size} bytes gzipped, ETag ${zipped.ETag}`)
} finally {
  server.close()
  client.destroy()
}
