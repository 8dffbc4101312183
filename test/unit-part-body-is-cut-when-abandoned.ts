import { once } from 'node:events'
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { PartBody } from '../lib/store/part-body.js'
import { pseudoRandomBytes } from './fixtures/sources.js'

const MiB = 2 ** 20

// A server that answers at once and then reads on slowly, as a store that rejects a request does.
const server = createServer((req, res) => {
  res.writeHead(403, { 'content-length': 0 })
  res.end()
  req.on('data', () => {
    req.pause()
    setTimeout(() => req.resume(), 20)
  })
})
server.listen(0, '127.0.0.1')
await once(server, 'listening')
const { port } = server.address() as AddressInfo
t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))

function put(body: PartBody, length: number) {
  const req = request({ host: '127.0.0.1', port, method: 'PUT', path: '/', headers: { 'content-length': length } })
  req.on('error', () => {})
  body.pipe(req)
  return req
}

t.test('a request whose body is not all sent is destroyed with its socket', async (t) => {
  // A part of four blocks: each is handed to the request whole, the next only once the socket took the last.
  const blocks = [1, 2, 3, 4].map((seed) => pseudoRandomBytes(8 * MiB, seed))
  const part = { length: 32 * MiB }
  const sent: number[] = []
  const body = new PartBody(blocks, (n) => sent.push(n))
  const req = put(body, part.length)
  const [res] = await once(req, 'response')
  res.resume()
  t.equal(res.statusCode, 403)
  t.notOk(req.writableFinished, 'the answer came before the body was all sent')
  body.abandon()
  const readWhenAbandoned = sent.reduce((a, b) => a + b, 0)
  t.ok(req.destroyed, 'the request is destroyed')
  await once(req, 'close')
  t.ok(req.socket?.destroyed ?? true, 'and its socket with it')
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(
    sent.reduce((a, b) => a + b, 0),
    readWhenAbandoned,
    'nothing more of the part is read from its blocks',
  )
  t.ok(readWhenAbandoned < part.length, `${readWhenAbandoned / MiB} MiB of 32 were handed over`)
  t.ok(
    sent.every((n) => n === 8 * MiB),
    'one whole block at a time',
  )
})

t.test('a request that sent all of its body is left alone', async (t) => {
  const part = pseudoRandomBytes(1024, 2)
  const body = new PartBody([part], () => {})
  const req = put(body, part.length)
  const [res] = await once(req, 'response')
  res.resume()
  if (!req.writableFinished) await once(req, 'finish')
  body.abandon()
  t.notOk(req.destroyed, 'a finished request keeps its socket for the next one')
  t.ok(body.destroyed)
})
