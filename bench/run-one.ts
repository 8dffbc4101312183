// One measured upload, in a process of its own so that CPU time and peak RSS belong to it alone.
// Usage: node --import tsx bench/run-one.ts '<json: { impl, target, case, counts }>'; prints one line of JSON.
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { S3Client } from '@aws-sdk/client-s3'
import { benchSource } from '../cli/bench-source.js'
import { ADAPTIVE_MAX } from '../lib/sink/concurrency.js'
import type { BenchCase, BenchTarget, Impl } from './impls/types.js'

const {
  impl: name,
  target,
  case: c,
  counts,
} = JSON.parse(process.argv[2] as string) as {
  impl: string
  target: BenchTarget
  case: BenchCase
  /** The endpoint is the null server, which counts requests and connections: start its counts after warm-up. */
  counts?: boolean
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
// An upload of two windows (2 × (concurrency + 1) parts) first, not measured: JIT warm-up, the first connections,
// and the first touch of the memory that holds the parts in flight cost the same for every implementation and
// would otherwise weigh on short runs. The last matters on virtual machines such as the one in bench/results, where
// writing fresh memory runs at about 300 MiB/s against 20 GiB/s for memory touched before; a long stream, or a
// process that has uploaded before, pays it once. Two windows, not one: s3-sink fills an upload's first part in
// small blocks, so an upload of one window never held more than `concurrency` full-size blocks at once, and the
// measured upload touched one fresh part's worth of memory (16 MiB × 4, 1 GiB: 5,600 page faults against 1,400
// after two windows, and 1.08× the minimal uploader's CPU against 0.97×, medians of 11 rounds).
// Small-object runs warm up with 100 objects. A program of its own (aws-cli, rclone, the command) starts anew for
// each upload, as its users run it: no warm-up.
const chunkSize = c.chunkSize
if (c.objects && !impl.external) {
  await uploadObjects(100, `${c.key}-warm-up`)
} else if (!impl.external && !c.cold) {
  // With its defaults, s3-sink has as many parts in flight as its adaptive number reaches on the link, which an
  // upload of one window of the most it reaches ((ADAPTIVE_MAX + 1) parts) ends before it gets to: on s3-region
  // such a warm-up held about 25 parts at most, and the measured upload then touched fresh memory for the rest
  // (1.3 CPU-s/GiB and 85 % of the link, against 0.7 and 96 % when warmed by an upload as long as it). So it is
  // warmed by one as long as the measured one, and meets what it will hold.
  const warmUp =
    c.defaults && name.startsWith('s3-sink')
      ? c.bytes
      : Math.min(c.bytes, (c.defaults ? ADAPTIVE_MAX + 1 : 2 * (c.concurrency + 1)) * c.partSize)
  await impl.upload(
    client,
    target,
    { ...c, bytes: warmUp, key: `${c.key}-warm-up` },
    benchSource(warmUp, { chunkSize }),
  )
}
if (counts) await fetch(`${target.endpoint}/__stats`)
// BENCH_CPU_PROFILE=file.cpuprofile: a V8 CPU profile of the measured upload alone (not start-up, not warm-up).
const profile = process.env.BENCH_CPU_PROFILE ? await startProfile() : undefined
const rssBefore = process.memoryUsage().rss
const cpu = process.cpuUsage()
const started = performance.now()
const extra = c.objects
  ? await uploadObjects(c.objects, c.key)
  : await impl.upload(
      client,
      target,
      c,
      benchSource(c.bytes, { fresh: c.fresh ?? false, chunkSize, slab: c.slab ?? 0 }),
    )
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

/** `count` objects of `c.bytes`, `c.objectConcurrency` uploads at once, each its own stream. */
async function uploadObjects(count: number, prefix: string): Promise<Record<string, number>> {
  let next = 0
  const worker = async () => {
    while (next < count) {
      const i = next++
      await impl.upload(client, target, { ...c, key: `${prefix}/${i}` }, benchSource(c.bytes, { chunkSize }))
    }
  }
  await Promise.all(Array.from({ length: c.objectConcurrency ?? 1 }, worker))
  return {}
}

async function startProfile(): Promise<() => Promise<unknown>> {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  return async () => (await session.post('Profiler.stop')).profile
}
