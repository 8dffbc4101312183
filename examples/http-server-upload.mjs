// An HTTP server that streams each request body straight into an S3 object (PUT /<name>), without holding
// the body in memory or on disk, and aborts the upload when the client goes away mid-body: a cut-off upload
// leaves nothing in the bucket. The example sends its server one whole upload and one it cuts off.
//
//   S3_SINK_EXAMPLE_BUCKET=my-bucket node examples/http-server-upload.mjs
//
// Credentials and region come from the AWS SDK's usual environment (AWS_REGION, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, a profile, …); AWS_ENDPOINT_URL points it at another S3-compatible store.
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer, request } from 'node:http'
import { finished, pipeline } from 'node:stream/promises'
import { HeadObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3'
import { S3Sink } from 's3-sink'

const Bucket = process.env.S3_SINK_EXAMPLE_BUCKET
if (!Bucket) throw new Error('set S3_SINK_EXAMPLE_BUCKET to the bucket to store into')
// A custom endpoint (a local store) needs path-style addressing; AWS itself does not.
const client = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) })
const prefix = 'examples/http-server-upload/'

const server = createServer((req, res) => {
  // Only plain names: the key is built from the client's input.
  const name = new URL(req.url, 'http://localhost').pathname.slice(1)
  if (req.method !== 'PUT' || !/^[\w.-]{1,200}$/.test(name)) {
    res.writeHead(400).end('PUT /<name> with the body to store\n')
    return
  }
  const Key = prefix + name
  const sink = new S3Sink({
    client,
    params: { Bucket, Key, ContentType: req.headers['content-type'] ?? 'application/octet-stream' },
    partSize: 5 * 1024 * 1024,
  })
  // A client that disconnects before the end of its body makes `req` fail ('aborted'): pipeline() then
  // destroys the sink, which cancels its requests and aborts the multipart upload.
  pipeline(req, sink)
    .then(
      () => {
        const { size, ETag } = sink.result
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ Key, size, ETag }))
        console.log(`server: stored s3://${Bucket}/${Key} (${size} bytes)`)
      },
      async (err) => {
        // pipeline() may reject before the sink has finished aborting the upload (Node 20 does when the
        // request fails): wait for the sink to close.
        await finished(sink).catch(() => {}) // the sink has closed: its clean-up (the upload aborted) is over
        console.log(`server: upload of ${Key} aborted (${err.code ?? err.message})`)
        if (!res.headersSent && !res.destroyed) res.writeHead(502).end('the upload failed\n')
      },
    )
    // For the example's own client, which waits for its cut-off upload to be cleaned up.
    .finally(() => server.emit('upload-ended', Key))
})
server.listen(0, '127.0.0.1')
await once(server, 'listening')
const { port } = server.address()

// 1. A whole upload: 12 MiB sent in 64 KiB writes, as a client streaming a file would.
const body = randomBytes(12 * 1024 * 1024)
const answer = await new Promise((resolve, reject) => {
  const req = request({ port, method: 'PUT', path: '/upload.bin' }, (res) => {
    let text = ''
    res.setEncoding('utf8').on('data', (s) => (text += s))
    res.on('end', () => resolve(`${res.statusCode} ${text}`))
  })
  req.on('error', reject)
  for (let at = 0; at < body.length; at += 65536) req.write(body.subarray(at, at + 65536))
  req.end()
})
console.log(`client: ${answer}`)

// 2. A client that sends 7 MiB of a longer body and then disconnects.
const ended = once(server, 'upload-ended')
const cut = request({ port, method: 'PUT', path: '/cut-off.bin', headers: { 'content-length': 20 * 1024 * 1024 } })
cut.on('error', () => {}) // the disconnect is on purpose
cut.write(body.subarray(0, 7 * 1024 * 1024), () => setTimeout(() => cut.destroy(), 200))
await ended
server.close()

const head = await client.send(new HeadObjectCommand({ Bucket, Key: `${prefix}cut-off.bin` })).catch((err) => err)
const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: `${prefix}cut-off.bin` }))
console.log(
  `s3://${Bucket}/${prefix}cut-off.bin: ${head.name === 'NotFound' ? 'no object' : 'AN OBJECT'}, ` +
    `${uploads.Uploads?.length ?? 0} incomplete uploads`,
)
