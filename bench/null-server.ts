// An S3 endpoint that speaks just enough of the multipart protocol and throws bodies away, so that a benchmark
// measures the client. Optionally models a link to a remote store (bench/links.ts names some): a bandwidth cap per
// request and one for all requests together (the link), a delay between a request's last body byte and its answer,
// a round trip before a `100 Continue` and before a new connection is served, and a store that answers 503
// SlowDown above a request rate. The caps pace reads of the bodies (a reader over its share pauses its socket, so
// TCP holds the sender back) and the delays are timers: the figures hold on a busy machine, and the endpoint itself
// spends little CPU.
//
// With `--tls`, it speaks HTTPS with the self-signed loopback certificate of test/fixtures/tls (clients trust it
// through NODE_EXTRA_CA_CERTS), since real S3 is TLS and encrypting every byte is part of what a client pays.
//
// Run as its own process: `node --import tsx bench/null-server.ts [--link NAME] [--latency MS] [--answer-delay MS]
// [--rtt MS] [--bandwidth BYTES_PER_S] [--link-bandwidth BYTES_PER_S] [--slowdown-above REQUESTS_PER_S] [--tls]`;
// it prints `{"endpoint": ...}` once listening. GET /__stats answers what it saw since the last call: requests,
// body bytes, connections, SlowDowns, the seconds from the first request's arrival to the last answer, the CPU
// seconds it spent itself, and how late its readers' timers fired (mean and most); it also fills the SlowDown bucket again.
import { createHash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { crc32 } from 'node:zlib'
import { linksNamed } from './links.js'
import { TokenBucket } from './token-bucket.js'

/** The loopback certificate (CN localhost, SAN 127.0.0.1 and localhost) the tests use too. */
const TLS_CERT = new URL('../test/fixtures/tls/localhost.crt', import.meta.url)
const TLS_KEY = new URL('../test/fixtures/tls/localhost.key', import.meta.url)

const { values } = parseArgs({
  options: {
    /** A named link of bench/links.ts; the other options override its figures. */
    link: { type: 'string' },
    /** Milliseconds: the answer delay and the round trip at once (the older, single figure). */
    latency: { type: 'string' },
    'answer-delay': { type: 'string' },
    rtt: { type: 'string' },
    /** Bytes per second, per request. */
    bandwidth: { type: 'string' },
    /** Bytes per second, all requests together. */
    'link-bandwidth': { type: 'string' },
    'slowdown-above': { type: 'string' },
    tls: { type: 'boolean', default: false },
  },
})
const named = values.link ? linksNamed(values.link)[0] : undefined
const figure = (value: string | undefined, fallback: number) => (value === undefined ? fallback : Number(value))
const answerMs = figure(values['answer-delay'] ?? values.latency, named?.answerMs ?? 0)
const rttMs = figure(values.rtt ?? values.latency, named?.rttMs ?? 0)
const requestBandwidth = figure(values.bandwidth, named?.requestBandwidth ?? 0)
const linkBandwidth = figure(values['link-bandwidth'], named?.linkBandwidth ?? 0)
const slowDownAbove = figure(values['slowdown-above'], named?.slowDownAbove ?? 0)

/**
 * A reader pauses only once it owes more than this (ms): shorter pauses cost a timer and a stop and start of the
 * socket each, and gain nothing, as a timer fires a millisecond late anyway.
 */
const PAUSE_MS = 4
/**
 * A cap's burst, in ms of its rate: on a busy machine a paused reader's timer fires late, and without slack the
 * time it lost would be lost to the link; with it, the reader catches up. A request's bucket starts empty, so the
 * burst never speeds a request beyond its cap; the link's fills only while the link is idle.
 */
const BURST_MS = 50
/** The bucket of a cap of `rate` bytes a second; empty at `emptyAt` (ms) when given. */
const bucketOf = (rate: number, emptyAt?: number) =>
  new TokenBucket(rate, Math.max(64 * 1024, (rate * BURST_MS) / 1000), emptyAt)
/** The link: every request's body bytes take from it. */
const link = linkBandwidth > 0 ? bucketOf(linkBandwidth) : undefined
/**
 * Requests admitted: one token each, up to a second's worth at once. Full again at each stats call, so that every
 * measured upload finds the prefix at rest, whatever its warm-up took.
 */
const admission = () => (slowDownAbove > 0 ? new TokenBucket(slowDownAbove, slowDownAbove) : undefined)
let admitted = admission()

let requests = 0
let bytes = 0
let connections = 0
let slowDowns = 0
/** When the first request since the last stats call arrived, and when the last answer went (performance.now()). */
let firstArrival: number | undefined
let lastAnswer = 0
/** Pauses of readers, the ms their timers fired late in all, and the latest one. */
let pauses = 0
let lateMs = 0
let maxLateMs = 0
/** The endpoint's own CPU time when the stats were last taken: what it spent on the link is in the next stats. */
let cpuAtStats = process.cpuUsage()
const counted = new WeakSet<object>()
/** The parts' sizes of each multipart upload in progress (by upload id, then part number). */
const uploads = new Map<string, Map<string, number>>()
/**
 * Each stored object's size and ETag, by bucket and key, for a HeadObject after the upload (rclone checks the
 * size it sent against it); the bytes themselves are thrown away.
 */
const stored = new Map<string, { size: number; etag: string }>()

/**
 * Reads and discards the body, no faster than the request's cap and its share of the link when they are set:
 * each read takes its bytes from both buckets and, when one of them is owed more than PAUSE_MS, the request is
 * paused for that long (its socket then stops being read, and TCP holds the sender back). `keep` collects the body
 * (the small XML body of a Complete).
 */
function drain(req: IncomingMessage, keep?: Buffer[]): Promise<number> {
  const own = requestBandwidth > 0 ? bucketOf(requestBandwidth, performance.now()) : undefined
  return new Promise((resolve, reject) => {
    let received = 0
    req.on('data', (chunk: Buffer) => {
      keep?.push(chunk)
      received += chunk.length
      if (!own && !link) return
      const now = performance.now()
      const wait = Math.max(own?.take(chunk.length, now) ?? 0, link?.take(chunk.length, now) ?? 0)
      if (wait > PAUSE_MS) {
        req.pause()
        const due = now + wait
        setTimeout(() => {
          // How late the timer fired: beyond the burst, time lost to the link on a busy machine.
          const late = performance.now() - due
          pauses++
          lateMs += late
          maxLateMs = Math.max(maxLateMs, late)
          req.resume()
        }, wait)
      }
    })
    req.on('end', () => resolve(received))
    req.on('error', reject)
  })
}

function answered(): void {
  lastAnswer = performance.now()
}

function xml(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

const handler = async (req: IncomingMessage, res: ServerResponse) => {
  const url = new URL(req.url ?? '/', 'http://null')
  if (url.pathname === '/__stats') {
    const seconds = firstArrival === undefined ? 0 : Math.max(0, lastAnswer - firstArrival) / 1000
    const cpu = process.cpuUsage(cpuAtStats)
    cpuAtStats = process.cpuUsage()
    const cpuSeconds = (cpu.user + cpu.system) / 1e6
    const meanLateMs = pauses ? lateMs / pauses : 0
    res.end(JSON.stringify({ requests, bytes, connections, slowDowns, seconds, cpuSeconds, meanLateMs, maxLateMs }))
    pauses = 0
    lateMs = 0
    maxLateMs = 0
    requests = 0
    bytes = 0
    connections = 0
    slowDowns = 0
    firstArrival = undefined
    admitted = admission()
    return
  }
  requests++
  firstArrival ??= performance.now()
  res.once('finish', answered)
  // Admission is decided on arrival, as a store does; the body still crosses the link (no `100 Continue` was
  // asked for, or the client sends it anyway), and the answer comes after it.
  const throttled = admitted !== undefined && !admitted.tryTake(1, performance.now())
  // Connections that carried an upload's requests (not the stats requests).
  if (!counted.has(req.socket)) {
    counted.add(req.socket)
    connections++
  }
  const completing = req.method === 'POST' && url.searchParams.has('uploadId')
  const body: Buffer[] | undefined = completing ? [] : undefined
  const received = await drain(req, body)
  bytes += received
  if (answerMs > 0) await sleep(answerMs)
  if (throttled) {
    slowDowns++
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.' +
      `</Message><RequestId>${randomUUID()}</RequestId></Error>`
    res.writeHead(503, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) })
    return res.end(body)
  }
  const [, bucket = '', ...rest] = url.pathname.split('/')
  const key = decodeURIComponent(rest.join('/'))
  const q = url.searchParams
  const etag = `"${createHash('md5')
    .update(`${key}${q.get('partNumber') ?? ''}${received}`)
    .digest('hex')}"`
  const uploadId = q.get('uploadId')
  if (req.method === 'POST' && q.has('uploads')) {
    return xml(
      res,
      `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key>` +
        `<UploadId>${randomUUID()}</UploadId></InitiateMultipartUploadResult>`,
    )
  }
  if (completing) {
    const parts = uploads.get(uploadId ?? '')
    uploads.delete(uploadId ?? '')
    const sizes = [...(parts?.values() ?? [])]
    const objectEtag = `"${randomUUID().replaceAll('-', '')}-${sizes.length}"`
    stored.set(url.pathname, { size: sizes.reduce((sum, size) => sum + size, 0), etag: objectEtag })
    return xml(
      res,
      `<CompleteMultipartUploadResult><Location>http://null/${bucket}/${key}</Location><Bucket>${bucket}</Bucket>` +
        `<Key>${key}</Key><ETag>${objectEtag.replaceAll('"', '&quot;')}</ETag>` +
        `${compositeCrc32(Buffer.concat(body ?? []).toString())}</CompleteMultipartUploadResult>`,
    )
  }
  if (req.method === 'PUT') {
    if (uploadId) {
      const parts = uploads.get(uploadId) ?? new Map<string, number>()
      parts.set(q.get('partNumber') ?? '', received)
      uploads.set(uploadId, parts)
    } else {
      stored.set(url.pathname, { size: received, etag })
    }
    const echo = Object.fromEntries(Object.entries(req.headers).filter(([name]) => name.startsWith('x-amz-checksum-')))
    res.writeHead(200, { etag, 'content-length': 0, ...echo })
    return res.end()
  }
  if (req.method === 'DELETE') {
    if (uploadId) uploads.delete(uploadId)
    else stored.delete(url.pathname)
    res.writeHead(204)
    return res.end()
  }
  const object = stored.get(url.pathname)
  if (req.method === 'HEAD' && object) {
    res.writeHead(200, { etag: object.etag, 'content-length': object.size, 'last-modified': new Date().toUTCString() })
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
if (rttMs > 0) {
  // On a modelled link, `Expect: 100-continue` costs a round trip before the body goes, and so does a new
  // connection (its TCP handshake; TLS adds one more, which this endpoint does not model).
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    setTimeout(() => {
      res.writeContinue()
      server.emit('request', req, res)
    }, rttMs)
  })
  server.on(values.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    socket.pause()
    setTimeout(() => socket.resume(), rttMs)
  })
}
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  process.stdout.write(`${JSON.stringify({ endpoint: `${values.tls ? 'https' : 'http'}://127.0.0.1:${port}` })}\n`)
})
