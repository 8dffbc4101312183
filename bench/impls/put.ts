// One signed PUT of a Buffer, written with one `end(body)` on a keep-alive agent (node:http or node:https, as the
// endpoint says), signed with UNSIGNED-PAYLOAD and, when given, a checksum header: the least a part costs on the
// wire. Shared by the raw HTTP loop and the minimal Writable uploader.
import { Agent as HttpAgent, request as httpRequest } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { Hash } from '@smithy/hash-node'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'
import type { BenchTarget } from './types.js'

export interface Putter {
  /**
   * PUTs `body` to `path` with `query`; resolves with the answer's ETag. A list of Buffers is written corked, so
   * that the socket takes them in one writev.
   */
  put(path: string, query: Record<string, string>, body: Buffer | Buffer[], checksumCrc32?: string): Promise<string>
  close(): void
}

export function putter(target: BenchTarget, maxSockets: number): Putter {
  const url = new URL(target.endpoint)
  const tls = url.protocol === 'https:'
  const signer = new SignatureV4({
    service: 's3',
    region: target.region,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false,
    applyChecksum: false,
  })
  // The certificate of a loopback endpoint is trusted through NODE_EXTRA_CA_CERTS, as the SDK's client trusts it.
  const agent = tls ? new HttpsAgent({ keepAlive: true, maxSockets }) : new HttpAgent({ keepAlive: true, maxSockets })
  const request = tls ? httpsRequest : httpRequest
  return {
    async put(path, query, body, checksumCrc32) {
      const headers: Record<string, string> = {
        host: url.host,
        'content-length': String(Array.isArray(body) ? body.reduce((n, b) => n + b.length, 0) : body.length),
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      }
      if (checksumCrc32 !== undefined) headers['x-amz-checksum-crc32'] = checksumCrc32
      const signed = await signer.sign(
        new HttpRequest({
          method: 'PUT',
          protocol: url.protocol,
          hostname: url.hostname,
          port: Number(url.port),
          path,
          query,
          headers,
        }),
      )
      const search = new URLSearchParams(signed.query as Record<string, string>).toString()
      return new Promise<string>((resolve, reject) => {
        const req = request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            method: 'PUT',
            path: search ? `${path}?${search}` : path,
            headers: signed.headers,
          },
          (res) => {
            const etag = String(res.headers.etag)
            res.resume()
            res.on('end', () => (res.statusCode === 200 ? resolve(etag) : reject(new Error(`HTTP ${res.statusCode}`))))
          },
        )
        req.on('error', reject)
        if (!Array.isArray(body)) return req.end(body)
        req.cork()
        for (const chunk of body) req.write(chunk)
        req.end()
      })
    },
    close() {
      agent.destroy()
    },
  }
}

/** Part buffers kept across the uploads of a process, so that the warm-up upload has touched them. */
const pools = new Map<number, Buffer[]>()

export function takePool(partSize: number, count: number): Buffer[] {
  const pool = pools.get(partSize) ?? []
  pools.delete(partSize)
  while (pool.length < count) pool.push(Buffer.allocUnsafe(partSize))
  return pool
}

export function givePool(partSize: number, pool: Buffer[]): void {
  pools.set(partSize, pool)
}
