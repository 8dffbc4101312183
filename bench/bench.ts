// The benchmark: s3-sink against @aws-sdk/lib-storage and raw HTTP PUTs (the physical limit here), over part
// sizes and concurrencies, on three endpoints — a null endpoint on loopback (the client is what is measured),
// the same behind a modelled WAN link (latency and a per-connection bandwidth cap), and the local Swift store;
// then S3RollingSink against one S3Sink over the same bytes (what cutting a stream into objects of records costs).
//
// Every upload runs in a process of its own (CPU time and peak RSS are its alone); implementations are
// interleaved (A B C A B C …) so that a noisy machine slows them alike, and ratios are taken within each
// round before their median. Writes bench/results/latest.{md,json,svg}.
//
//   npm run bench [-- --bytes 1GiB --runs 3 --sizes 5,8,16,64 --concurrency 1,4,8
//                     --endpoints null,wan,store,memory,rolling,tracing]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { type ChartPanel, type Measurement, markdownTable, median, svgChart } from '../cli/report.js'
import { parseSize } from '../cli/units.js'
import type { BenchCase, BenchTarget } from './impls/types.js'
import { type CpuProfile, type ProfileRow, summarizeProfile } from './profile-summary.js'

const here = dirname(fileURLToPath(import.meta.url))
const MIB = 2 ** 20
const GIB = 2 ** 30

const { values } = parseArgs({
  options: {
    bytes: { type: 'string', default: '1GiB' },
    'wan-bytes': { type: 'string', default: '128MiB' },
    runs: { type: 'string', default: '3' },
    sizes: { type: 'string', default: '5,8,16,64' },
    concurrency: { type: 'string', default: '1,4,8' },
    endpoints: { type: 'string', default: 'null,wan,store,memory,rolling' },
    'memory-bytes': { type: 'string', default: '4GiB' },
    latency: { type: 'string', default: '30' },
    bandwidth: { type: 'string', default: '40MiB' },
    out: { type: 'string', default: join(here, 'results') },
  },
})
const runs = Number(values.runs)
const sizes = values.sizes.split(',').map((s) => Number(s) * MIB)
const concurrencies = values.concurrency.split(',').map(Number)
const endpoints = values.endpoints.split(',')
/**
 * What s3-sink is measured against: lib-storage; raw HTTP, which copies the stream once into reused part buffers
 * and PUTs each part in one write (the limit for a stream uploader); and the bare network path, the same PUTs of
 * buffers the stream is never copied into.
 */
const REFERENCES = ['lib-storage', 'raw-http', 'raw-network']
/**
 * s3-sink with `checksum: false` (bench/impls/s3-sink-unchecked.ts), at the reference concurrency: raw HTTP computes
 * no checksum, so this splits s3-sink's distance to it into what the part checksum costs and what the rest does.
 */
const UNCHECKED = 's3-sink-unchecked'
/** The configuration every implementation runs at, for the ratios. */
const REFERENCE = { partSize: 8 * MIB, concurrency: 4 }

interface Run {
  impl: string
  endpoint: string
  round: number
  case: BenchCase
  seconds: number
  cpuSeconds: number
  peakRss: number
  rssBefore: number
  requests?: number
  connections?: number
  peakBufferedBytes?: number
}

/** Starts the null endpoint in a process of its own; resolves with its address. */
async function startNullServer(args: string[]): Promise<{ endpoint: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(here, 'null-server.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const line = await new Promise<string>((resolve, reject) => {
    proc.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString()))
    proc.once('exit', () => reject(new Error('the null endpoint did not start')))
  })
  return { endpoint: (JSON.parse(line) as { endpoint: string }).endpoint, proc }
}

function runOne(
  impl: string,
  target: BenchTarget,
  c: BenchCase,
  { counts = false, env = {} }: { counts?: boolean; env?: Record<string, string> } = {},
): Promise<Omit<Run, 'impl' | 'endpoint' | 'round' | 'case'>> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', join(here, 'run-one.ts'), JSON.stringify({ impl, target, case: c, counts })],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1', ...env } },
    )
    let out = ''
    let err = ''
    proc.stdout.on('data', (chunk) => {
      out += chunk
    })
    proc.stderr.on('data', (chunk) => {
      err += chunk
    })
    proc.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out))
      else reject(new Error(`${impl} failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' ')}`))
    })
  })
}

/** Requests and connections the null endpoint saw since the last call (run-one makes one after its warm-up). */
async function stats(endpoint: string): Promise<{ requests: number; connections: number } | undefined> {
  try {
    return (await (await fetch(`${endpoint}/__stats`)).json()) as { requests: number; connections: number }
  } catch {
    return undefined
  }
}

/** The cases of one endpoint: s3-sink over the whole grid, the references at each part size with concurrency 4. */
function casesFor(bytes: number): { impl: string; c: BenchCase }[] {
  const cases: { impl: string; c: BenchCase }[] = []
  for (const partSize of sizes) {
    for (const concurrency of concurrencies) {
      cases.push({ impl: 's3-sink', c: { bytes, partSize, concurrency, key: '' } })
    }
    for (const impl of [UNCHECKED, ...REFERENCES]) {
      cases.push({ impl, c: { bytes, partSize, concurrency: REFERENCE.concurrency, key: '' } })
    }
  }
  return cases
}

async function measure(
  name: string,
  target: BenchTarget,
  cases: { impl: string; c: BenchCase }[],
  counts: boolean,
  rounds = runs,
) {
  const results: Run[] = []
  for (let round = 1; round <= rounds; round++) {
    for (const [i, { impl, c }] of cases.entries()) {
      const key = `bench/${name}/${impl}-${c.partSize / MIB}-${c.concurrency}-${round}-${i}`
      const run = await runOne(impl, target, { ...c, key }, { counts })
      // The stats request itself is one more request and connection; not counted.
      const seen = counts ? await stats(target.endpoint) : undefined
      const counted = seen ? { requests: seen.requests, connections: seen.connections } : {}
      results.push({ impl, endpoint: name, round, case: c, ...run, ...counted })
      const rate = c.bytes / MIB / run.seconds
      process.stderr.write(
        `${name} round ${round}/${rounds}  ${impl.padEnd(11)} ${String(c.partSize / MIB).padStart(3)} MiB ×${c.concurrency}  ` +
          `${rate.toFixed(1).padStart(7)} MiB/s  ${((run.cpuSeconds / c.bytes) * GIB).toFixed(2)} CPU-s/GiB\n`,
      )
    }
  }
  return results
}

function summarize(results: Run[]): Measurement[] {
  const groups = new Map<string, Run[]>()
  for (const r of results) {
    const key = `${r.impl}|${r.case.partSize}|${r.case.concurrency}`
    groups.set(key, [...(groups.get(key) ?? []), r])
  }
  return [...groups.values()].map((group) => {
    const first = group[0] as Run
    const requests = group.map((r) => r.requests).filter((n): n is number => n !== undefined)
    const connections = group.map((r) => r.connections).filter((n): n is number => n !== undefined)
    const buffered = group.map((r) => r.peakBufferedBytes).filter((n): n is number => n !== undefined)
    return {
      impl: first.impl,
      partSize: first.case.partSize,
      concurrency: first.case.concurrency,
      bytes: first.case.bytes,
      mibPerSecond: median(group.map((r) => first.case.bytes / MIB / r.seconds)),
      cpuSecondsPerGiB: median(group.map((r) => (r.cpuSeconds / r.case.bytes) * GIB)),
      peakRssMiB: median(group.map((r) => r.peakRss / MIB)),
      startRssMiB: median(group.map((r) => r.rssBefore / MIB)),
      requests: requests.length ? median(requests) : undefined,
      connections: connections.length ? median(connections) : undefined,
      peakBufferedMiB: buffered.length ? median(buffered) / MIB : undefined,
      runs: group.length,
    }
  })
}

interface Ratio {
  subject: string
  partSize: number
  reference: string
  ratio: number
  range: number[]
  /** The subject's CPU seconds over the reference's. */
  cpuRatio: number
}

/**
 * The subject's throughput (and CPU time) over each reference's, within each round at the same configuration;
 * then the median.
 */
function ratios(results: Run[], subject = 's3-sink', references = REFERENCES): Ratio[] {
  const out: Ratio[] = []
  for (const partSize of sizes) {
    for (const reference of references) {
      const perRound: number[] = []
      const cpuPerRound: number[] = []
      for (let round = 1; round <= runs; round++) {
        const at = (impl: string) =>
          results.find(
            (r) =>
              r.impl === impl &&
              r.round === round &&
              r.case.partSize === partSize &&
              r.case.concurrency === REFERENCE.concurrency,
          )
        const mine = at(subject)
        const theirs = at(reference)
        if (mine && theirs) {
          perRound.push(theirs.seconds / mine.seconds)
          cpuPerRound.push(mine.cpuSeconds / theirs.cpuSeconds)
        }
      }
      if (perRound.length) {
        out.push({
          subject,
          partSize,
          reference,
          ratio: median(perRound),
          range: [Math.min(...perRound), Math.max(...perRound)],
          cpuRatio: median(cpuPerRound),
        })
      }
    }
  }
  return out
}

/** The uploads profiled after the null endpoint's runs, at the reference configuration, side by side. */
const PROFILED = ['s3-sink', UNCHECKED, 'raw-http']

/**
 * One more upload of each of PROFILED at the reference configuration, profiled: where their CPU time goes, by kind
 * of work side by side (the difference is what s3-sink does that raw HTTP does not), then s3-sink's top functions.
 */
async function profileSection(target: BenchTarget): Promise<string> {
  const c = { bytes, ...REFERENCE, key: 'bench/profile' }
  const profiles: { impl: string; cpuPerGiB: number; byKind: ProfileRow[]; byFunction: ProfileRow[] }[] = []
  for (const impl of PROFILED) {
    const file = join(tmpdir(), `s3-sink-bench-${process.pid}-${impl}.cpuprofile`)
    const run = await runOne(impl, target, c, { env: { BENCH_CPU_PROFILE: file } })
    profiles.push({
      impl,
      cpuPerGiB: (run.cpuSeconds / bytes) * GIB,
      ...summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile),
    })
    rmSync(file, { force: true })
  }
  const perGiB = (ms: number) => (ms / 1000 / (bytes / GIB)).toFixed(3)
  const kinds = [...new Set(profiles.flatMap((p) => p.byKind.map((r) => r.name)))]
  const msOf = (rows: ProfileRow[], name: string) => rows.find((r) => r.name === name)?.ms ?? 0
  const first = profiles[0] as (typeof profiles)[number]
  kinds.sort((a, b) => msOf(first.byKind, b) - msOf(first.byKind, a))
  const byKind =
    `| CPU-s/GiB | ${profiles.map((p) => p.impl).join(' | ')} |\n| --- |${' ---: |'.repeat(profiles.length)}\n` +
    kinds.map((kind) => `| ${kind} | ${profiles.map((p) => perGiB(msOf(p.byKind, kind))).join(' | ')} |`).join('\n') +
    `\n| **process CPU, profiler on** | ${profiles.map((p) => `**${p.cpuPerGiB.toFixed(3)}**`).join(' | ')} |`
  const top =
    '| | ms | share | CPU-s/GiB |\n| --- | ---: | ---: | ---: |\n' +
    first.byFunction
      .slice(0, 12)
      .map(
        (r) =>
          `| ${r.name.replaceAll('|', '\\|')} | ${r.ms.toFixed(0)} | ${(r.share * 100).toFixed(1)} % | ${perGiB(r.ms)} |`,
      )
      .join('\n')
  return (
    `### Where the time goes: ${REFERENCE.partSize / MIB} MiB × ${REFERENCE.concurrency}, ${bytes / MIB} MiB, ` +
    'null endpoint\n\nA V8 CPU profile of the measured upload alone, one more run of each, self time of the main ' +
    'thread by kind of work (idle is time the thread waited; the process CPU also counts the kernel work and ' +
    `helper threads a profile of the main thread does not see):\n\n${byKind}\n\n` +
    `s3-sink's functions at the top:\n\n${top}`
  )
}

function machine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU'
  let kernel = ''
  try {
    kernel = execFileSync('uname', ['-r']).toString().trim()
  } catch {}
  return `${cpus().length} × ${cpu}, ${Math.round(totalmem() / GIB)} GiB, Linux ${kernel}, Node ${process.version}`
}

const bytes = parseSize(values.bytes)
const wanBytes = parseSize(values['wan-bytes'])
const all: Run[] = []
const sections: string[] = []
const panels: ChartPanel[] = []
const servers: ChildProcess[] = []
const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' }
try {
  for (const name of endpoints) {
    let target: BenchTarget
    let counts = true
    let title: string
    let endpointBytes = bytes
    let cases: { impl: string; c: BenchCase }[]
    let ratioOf = (results: Run[]) => [
      ...ratios(results),
      ...ratios(results, UNCHECKED, ['raw-http']),
      ...ratios(results, 's3-sink', [UNCHECKED]),
    ]
    if (name === 'null' || name === 'wan') {
      const args =
        name === 'wan' ? ['--latency', values.latency, '--bandwidth', String(parseSize(values.bandwidth))] : []
      const server = await startNullServer(args)
      servers.push(server.proc)
      target = { endpoint: server.endpoint, region: 'us-east-1', bucket: 'bench', ...credentials }
      if (name === 'wan') endpointBytes = wanBytes
      title =
        name === 'null'
          ? `null endpoint on loopback, ${endpointBytes / MIB} MiB`
          : `modelled WAN: ${values.latency} ms, ${values.bandwidth}/s per connection, ${endpointBytes / MIB} MiB`
      cases = casesFor(endpointBytes)
    } else if (name === 'store') {
      if (!process.env.S3_ENDPOINT) throw new Error('the store endpoint needs S3_ENDPOINT: run `npm run bench`')
      target = {
        endpoint: process.env.S3_ENDPOINT,
        region: process.env.S3_REGION ?? 'us-east-1',
        accessKeyId: process.env.S3_ACCESS_KEY_ID ?? '',
        secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? '',
        bucket: 's3-sink-bench',
      }
      const client = new S3Client({
        endpoint: target.endpoint,
        region: target.region,
        forcePathStyle: true,
        credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
      })
      await client.send(new CreateBucketCommand({ Bucket: target.bucket })).catch(() => {})
      counts = false
      endpointBytes = Math.min(bytes, 256 * MIB)
      title = `local OpenStack Swift (s3api), ${endpointBytes / MIB} MiB`
      cases = ['s3-sink', 'lib-storage', 'raw-http'].map((impl) => ({
        impl,
        c: { bytes: endpointBytes, ...REFERENCE, key: '' },
      }))
    } else if (name === 'memory') {
      // Peak RSS for a long stream whose chunks are fresh memory, as a file's are: what each client keeps.
      const server = await startNullServer([])
      servers.push(server.proc)
      target = { endpoint: server.endpoint, region: 'us-east-1', bucket: 'bench', ...credentials }
      endpointBytes = parseSize(values['memory-bytes'])
      title = `memory: ${endpointBytes / GIB} GiB of fresh 64 KiB chunks, null endpoint`
      cases = ['s3-sink', UNCHECKED, 'lib-storage', 'raw-http'].map((impl) => ({
        impl,
        c: { bytes: endpointBytes, ...REFERENCE, key: '', fresh: true },
      }))
    } else if (name === 'rolling') {
      // The same bytes through one S3Sink and through S3RollingSink (objects of 64 MiB, cut after '\n' or
      // anywhere): what the record scan and one upload per object cost.
      const server = await startNullServer([])
      servers.push(server.proc)
      target = { endpoint: server.endpoint, region: 'us-east-1', bucket: 'bench', ...credentials }
      title = `rolling sink: ${endpointBytes / MIB} MiB of records (256 bytes on average) into 64 MiB objects, null endpoint`
      cases = ['s3-sink', 'rolling', 'rolling-anywhere'].map((impl) => ({
        impl,
        c: { bytes: endpointBytes, ...REFERENCE, key: '' },
      }))
      ratioOf = (results) => [
        ...ratios(results, 'rolling', ['s3-sink', 'rolling-anywhere']),
        ...ratios(results, 'rolling-anywhere', ['s3-sink']),
      ]
    } else if (name === 'tracing') {
      // s3-sink with nothing registered with OpenTelemetry (nothing of its API is loaded), with only a context
      // manager registered (no span is made), and with a tracer and a meter provider (a span per upload and per
      // request, the metrics): what tracing costs, and how much of it is the context manager's.
      const server = await startNullServer([])
      servers.push(server.proc)
      target = { endpoint: server.endpoint, region: 'us-east-1', bucket: 'bench', ...credentials }
      title = `OpenTelemetry off and on: ${endpointBytes / MIB} MiB, null endpoint`
      cases = sizes.flatMap((partSize) =>
        ['s3-sink', 's3-sink-context-only', 's3-sink-traced'].map((impl) => ({
          impl,
          c: { bytes: endpointBytes, partSize, concurrency: REFERENCE.concurrency, key: '' },
        })),
      )
      ratioOf = (results) => [
        ...ratios(results, 's3-sink-traced', ['s3-sink', 's3-sink-context-only']),
        ...ratios(results, 's3-sink-context-only', ['s3-sink']),
      ]
    } else {
      throw new Error(`unknown endpoint ${name}: use null, wan, store, memory, rolling, tracing`)
    }
    // One round of the memory run: peak RSS barely varies, and 4 GiB per upload is long.
    const results = await measure(name, target, cases, counts, name === 'memory' ? 1 : runs)
    all.push(...results)
    const rows = summarize(results)
    const table = markdownTable(
      [...rows].sort(
        (a, b) => a.impl.localeCompare(b.impl) || a.partSize - b.partSize || a.concurrency - b.concurrency,
      ),
    )
    const ratioRows = ratioOf(results).map(
      (r) =>
        `| ${r.subject} | ${r.partSize / MIB} MiB × ${REFERENCE.concurrency} | ${r.reference} | ${r.ratio.toFixed(2)}× | ` +
        `${r.range.map((x) => x.toFixed(2)).join('–')} | ${r.cpuRatio.toFixed(2)}× |`,
    )
    sections.push(
      `### ${title}\n\n${table}\n\nThroughput over the reference's, median of the per-round ratios; CPU time likewise:\n\n` +
        '| subject | configuration | reference | throughput ÷ reference | lowest–highest round | CPU ÷ reference |\n' +
        `| --- | --- | --- | ---: | ---: | ---: |\n${ratioRows.join('\n')}`,
    )
    // The chart is throughput against part size: the two endpoints swept over part sizes.
    if (name === 'null') panels.push({ title: 'null endpoint (loopback)', rows })
    if (name === 'wan') panels.push({ title: 'modelled WAN link', rows })
    if (name === 'null') sections.push(await profileSection(target))
  }
} finally {
  for (const proc of servers) proc.kill()
}

const when = new Date().toISOString().slice(0, 16).replace('T', ' ')
const about = `${machine()}; ${runs} rounds, medians; ${when} UTC`
mkdirSync(values.out, { recursive: true })
writeFileSync(join(values.out, 'latest.json'), `${JSON.stringify({ machine: machine(), when, runs: all }, null, 1)}\n`)
writeFileSync(
  join(values.out, 'latest.md'),
  `## Benchmark\n\n${about}. Each upload ran in a process of its own; implementations interleaved; the source ` +
    'hands out 64 KiB chunks that cost nothing to make.\n\n![throughput against part size](latest.svg)\n\n' +
    `${sections.join('\n\n')}\n`,
)
if (panels.length) writeFileSync(join(values.out, 'latest.svg'), svgChart(panels, about))
process.stderr.write(`\nwrote ${join(values.out, 'latest.md')}, latest.json and latest.svg\n`)
