// One measured upload, in a process of its own so that CPU time and peak RSS belong to it alone.
// Usage: node --import tsx bench/run-one.ts '<json: { impl, target, case }>'; prints one line of JSON.
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { S3Client } from '@aws-sdk/client-s3'
import { benchSource } from '../cli/bench-source.js'
import type { BenchCase, BenchTarget, Impl } from './impls/types.js'

const {
  impl: name,
  target,
  case: c,
} = JSON.parse(process.argv[2] as string) as {
  impl: string
  target: BenchTarget
  case: BenchCase
}
const { impl } = (await import(`./impls/${name}.js`)) as { impl: Impl }
const client = new S3Client({
  endpoint: target.endpoint,
  region: target.region,
  forcePathStyle: true,
  credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
  // The SDK's warning about streamed requests it cannot retry is noise here.
  logger: { debug() {}, info() {}, warn() {}, error() {} },
})
// A short upload first, not measured: JIT warm-up and the first connections cost the same for every
// implementation and would otherwise weigh on short runs.
await impl.upload(
  client,
  target,
  { ...c, bytes: Math.min(c.bytes, 2 * c.partSize), key: `${c.key}-warm-up` },
  benchSource(Math.min(c.bytes, 2 * c.partSize)),
)
// BENCH_CPU_PROFILE=file.cpuprofile: a V8 CPU profile of the measured upload alone (not start-up, not warm-up).
const profile = process.env.BENCH_CPU_PROFILE ? await startProfile() : undefined
const rssBefore = process.memoryUsage().rss
const cpu = process.cpuUsage()
const started = performance.now()
const extra = await impl.upload(client, target, c, benchSource(c.bytes, { fresh: c.fresh ?? false }))
const seconds = (performance.now() - started) / 1000
const used = process.cpuUsage(cpu)
if (profile) writeFileSync(process.env.BENCH_CPU_PROFILE as string, JSON.stringify(await profile()))
client.destroy()
process.stdout.write(
  `${JSON.stringify({
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    peakRss: process.resourceUsage().maxRSS * 1024,
    rssBefore,
    ...extra,
  })}\n`,
)

async function startProfile(): Promise<() => Promise<unknown>> {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  return async () => (await session.post('Profiler.stop')).profile
}
