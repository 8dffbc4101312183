// A block is one socket write, which Node counts as written at once; PartBody.sent() counts what the kernel has
// taken (libuv's write queue, under TLS that of the TCP handle beneath), so that it moves while a block drains
// over a slow link — over plain HTTP and over TLS alike.
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage } from 'node:http'
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https'
import type { AddressInfo, Server } from 'node:net'
import t from 'tap'
import { PartBody } from '../lib/store/part-body.js'

const MiB = 2 ** 20
const tls = {
  key: readFileSync(new URL('./fixtures/tls/localhost.key', import.meta.url)),
  cert: readFileSync(new URL('./fixtures/tls/localhost.crt', import.meta.url)),
}

/** Reads a request's body at about 16 MiB/s, then answers. */
function slowReader(req: IncomingMessage, res: { end: (body: string) => void }) {
  const started = Date.now()
  let received = 0
  req.on('data', (chunk: Buffer) => {
    received += chunk.length
    const wait = started + (received / (16 * MiB)) * 1000 - Date.now()
    if (wait > 0) {
      req.pause()
      setTimeout(() => req.resume(), wait)
    }
  })
  req.on('end', () => res.end('ok'))
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

for (const scheme of ['http', 'https'] as const) {
  t.test(`${scheme}: sent() moves while one 32 MiB block drains, never back, all of it in the end`, async (t) => {
    const server = scheme === 'http' ? createHttpServer(slowReader) : createHttpsServer(tls, slowReader)
    const port = await listen(server)
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const block = Buffer.alloc(32 * MiB, 7)
    const body = new PartBody([block], () => {})
    const options = { host: '127.0.0.1', port, method: 'PUT', path: '/', headers: { 'content-length': block.length } }
    const req = scheme === 'http' ? httpRequest(options) : httpsRequest({ ...options, rejectUnauthorized: false })
    body.pipe(req)
    const samples: number[] = []
    const timer = setInterval(() => samples.push(body.sent()), 20)
    const [res] = (await once(req, 'response')) as [IncomingMessage]
    res.resume()
    await once(res, 'end')
    clearInterval(timer)

    const between = samples.filter((n) => n > 0 && n < block.length)
    t.ok(between.length >= 10, `${between.length} samples between nothing and all of the block`)
    t.ok(new Set(between).size >= 5, `${new Set(between).size} distinct values: it moved as the block drained`)
    t.ok(
      samples.every((n, i) => i === 0 || n >= (samples[i - 1] as number)),
      'it never went back',
    )
    t.equal(body.sent(), block.length, 'all of the block in the end')
    t.equal(body.queued(), 0, 'nothing waits once the request is done')
  })
}
