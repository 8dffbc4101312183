// An S3 endpoint that speaks just enough of the multipart protocol and throws bodies away, so that a benchmark
// measures the client. Optionally models a link to a remote store: a delay before each answer, before a
// `100 Continue` and before a new connection is served, and a bandwidth cap per connection (bodies are read no
// faster than the cap).
//
// With `--tls`, it speaks HTTPS with the self-signed loopback certificate of test/fixtures/tls (clients trust it
// through NODE_EXTRA_CA_CERTS), since real S3 is TLS and encrypting every byte is part of what a client pays.
//
// Run as its own process: `node --import tsx bench/null-server.ts [--latency MS] [--bandwidth BYTES_PER_S] [--tls]`;
// it prints `{"endpoint": ...}` once listening. GET /__stats answers the request and connection counts since the last call.
import { createHash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { crc32 } from 'node:zlib'

/** The loopback certificate (CN localhost, SAN 127.0.0.1 and localhost) the tests use too. */
const TLS_CERT = new URL('../test/fixtures/tls/localhost.crt', import.meta.url)
const TLS_KEY = new URL('../test/fixtures/tls/localhost.key', import.meta.url)

const { values } = parseArgs({
  options: {
    latency: { type: 'string', default: '0' },
    bandwidth: { type: 'string', default: '0' },
    tls: { type: 'boolean', default: false },
  },
})
const latency = Number(values.latency)
const bandwidth = Number(values.bandwidth)

let requests = 0
let bytes = 0
let connections = 0
const counted = new WeakSet<object>()

/**
 * Reads and discards the body, no faster than `bandwidth` bytes per second when one is set; `keep` collects it
 * (the small XML body of a Complete).
 */
function drain(req: IncomingMessage, keep?: Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    let received = 0
    const started = Date.now()
    req.on('data', (chunk: Buffer) => {
      keep?.push(chunk)
      received += chunk.length
      if (bandwidth <= 0) return
      const wait = started + (received / bandwidth) * 1000 - Date.now()
      if (wait > 1) {
        req.pause()
        setTimeout(() => req.resume(), wait)
      }
    })
    req.on('end', () => resolve(received))
    req.on('error', reject)
  })
}

function xml(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

const handler = async (req: IncomingMessage, res: ServerResponse) => {
  const url = new URL(req.url ?? '/', 'http://null')
  if (url.pathname === '/__stats') {
    res.end(JSON.stringify({ requests, bytes, connections }))
    requests = 0
    bytes = 0
    connections = 0
    return
  }
  requests++
  // Connections that carried an upload's requests (not the stats requests).
  if (!counted.has(req.socket)) {
    counted.add(req.socket)
    connections++
  }
  const completing = req.method === 'POST' && url.searchParams.has('uploadId')
  const body: Buffer[] | undefined = completing ? [] : undefined
  const received = await drain(req, body)
  bytes += received
  if (latency > 0) await sleep(latency)
  const [, bucket = '', ...rest] = url.pathname.split('/')
  const key = decodeURIComponent(rest.join('/'))
  const q = url.searchParams
  const etag = `"${createHash('md5')
    .update(`${key}${q.get('partNumber') ?? ''}${received}`)
    .digest('hex')}"`
  if (req.method === 'POST' && q.has('uploads')) {
    return xml(
      res,
      `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key>` +
        `<UploadId>${randomUUID()}</UploadId></InitiateMultipartUploadResult>`,
    )
  }
  if (completing) {
    return xml(
      res,
      `<CompleteMultipartUploadResult><Location>http://null/${bucket}/${key}</Location><Bucket>${bucket}</Bucket>` +
        `<Key>${key}</Key><ETag>&quot;${randomUUID().replaceAll('-', '')}-1&quot;</ETag>` +
        `${compositeCrc32(Buffer.concat(body ?? []).toString())}</CompleteMultipartUploadResult>`,
    )
  }
  if (req.method === 'PUT') {
    const echo = Object.fromEntries(Object.entries(req.headers).filter(([name]) => name.startsWith('x-amz-checksum-')))
    res.writeHead(200, { etag, 'content-length': 0, ...echo })
    return res.end()
  }
  if (req.method === 'DELETE') {
    res.writeHead(204)
    return res.end()
  }
  res.writeHead(200, { 'content-length': 0 })
  res.end()
}
/**
 * As S3 answers a Complete whose parts carry CRC32 checksums: the object's composite CRC32 (the CRC32 of the
 * parts' checksums in order, then `-<parts>`), so that a client has no reason to ask for it with a HeadObject.
 */
function compositeCrc32(completeXml: string): string {
  const values = [...completeXml.matchAll(/<ChecksumCRC32>([^<]*)<\/ChecksumCRC32>/g)].map((m) => m[1] as string)
  if (values.length === 0) return ''
  const crc = crc32(Buffer.concat(values.map((v) => Buffer.from(v, 'base64'))))
  const value = Buffer.alloc(4)
  value.writeUInt32BE(crc >>> 0)
  return `<ChecksumCRC32>${value.toString('base64')}-${values.length}</ChecksumCRC32><ChecksumType>COMPOSITE</ChecksumType>`
}

const server = values.tls
  ? createHttpsServer({ cert: readFileSync(TLS_CERT), key: readFileSync(TLS_KEY) }, handler)
  : createHttpServer(handler)
if (latency > 0) {
  // On a modelled link, `Expect: 100-continue` costs a round trip before the body goes, and so does a new
  // connection (its TCP handshake; TLS, which this endpoint does not speak, would add one or two more).
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    setTimeout(() => {
      res.writeContinue()
      server.emit('request', req, res)
    }, latency)
  })
  server.on(values.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    socket.pause()
    setTimeout(() => socket.resume(), latency)
  })
}
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  process.stdout.write(`${JSON.stringify({ endpoint: `${values.tls ? 'https' : 'http'}://127.0.0.1:${port}` })}\n`)
})
