// The benchmark: s3-sink against the least a Writable uploader must do for the same work (a minimal one, with and
// without a CRC32), raw HTTP PUTs (the floor, without stream machinery) and @aws-sdk/lib-storage, over part sizes,
// source chunk sizes and concurrencies, on a null endpoint on loopback over HTTP and over HTTPS (the client is what
// is measured), the same behind a modelled WAN link, and the local Swift store; many small objects against the
// SDK's own PutObject (what an object costs before its first byte and after its last); then S3RollingSink against
// one S3Sink over the same bytes (what cutting a stream into objects of records costs).
//
// Every upload runs in a process of its own (CPU time and peak RSS are its alone); implementations are
// interleaved (A B C A B C …) so that a noisy machine slows them alike, and ratios are taken within each
// round before their median. Writes bench/results/latest.{md,json,svg}.
//
//   npm run bench [-- --bytes 1GiB --runs 3 --sizes 5,8,16 --chunks 64,16 --concurrency 1,4,8
//                     --endpoints null,tls,small,wan,store,memory,rolling --objects 2000]
//   (also tracing: s3-sink with OpenTelemetry off, with only a context manager, and on)
//   (also zero-copy-shared, zero-copy-fresh, zero-copy-slices: the copy against holding the written Buffers)
//
// Over modelled links to a real store (bench/links.ts; bench/results/links.{md,json,svg}), each upload's
// throughput on the link and the share of the link it used, for s3-sink with its defaults and at 4 to 32 parts in
// flight, lib-storage, the s3-sink command, aws-cli and rclone (the last two where installed):
//   npm run bench -- --link s3-region|s3-region-throttled|long-fat|slow-uplink|all|a,comma,list
//                    [--link-bytes SIZE] [--link-impls s3-sink,aws-cli,…] [--runs N]
// and many uploads at once in one process, with and without a shared UploadBudget:
//   npm run bench -- --many [--many-link s3-region] [--many-budgets 0,256MiB,64MiB]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, URL } from 'node:url'
import { parseArgs } from 'node:util'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { type ChartPanel, type Measurement, markdownTable, median, svgChart } from '../cli/report.js'
import { parseSize } from '../cli/units.js'
import type { BenchCase, BenchTarget, Impl } from './impls/types.js'
import {
  type LinkRun,
  linkChart,
  linksOverview,
  linkTable,
  type ManyRun,
  manyTable,
  summarizeLinks,
} from './link-report.js'
import { type Link, linksNamed } from './links.js'
import { type CpuProfile, type ProfileRow, summarizeProfile } from './profile-summary.js'

const here = dirname(fileURLToPath(import.meta.url))
const MIB = 2 ** 20
const GIB = 2 ** 30

const { values } = parseArgs({
  options: {
    bytes: { type: 'string', default: '1GiB' },
    'wan-bytes': { type: 'string', default: '128MiB' },
    runs: { type: 'string', default: '3' },
    sizes: { type: 'string', default: '5,8,16' },
    /** The source's chunk sizes, KiB. */
    chunks: { type: 'string', default: '64,16' },
    concurrency: { type: 'string', default: '1,4,8' },
    /** Without --link or --many, every one of these; with them, none unless named. */
    endpoints: { type: 'string' },
    /** Named links (bench/links.ts), a comma list, or all. */
    link: { type: 'string' },
    /** Bytes per upload on every link, in place of each link's own size. */
    'link-bytes': { type: 'string' },
    /** The implementations the links run (bench/impls/ names), in place of all of them. */
    'link-impls': { type: 'string' },
    many: { type: 'boolean', default: false },
    'many-link': { type: 'string', default: 's3-region' },
    /** Budgets of the many-uploads runs, 0 for none. */
    'many-budgets': { type: 'string', default: '0,256MiB,64MiB' },
    /** Small-object run: this many objects of `object-bytes`, `object-concurrency` at once. */
    objects: { type: 'string', default: '2000' },
    'object-bytes': { type: 'string', default: '256KiB' },
    'object-concurrency': { type: 'string', default: '8' },
    'memory-bytes': { type: 'string', default: '4GiB' },
    latency: { type: 'string', default: '30' },
    bandwidth: { type: 'string', default: '40MiB' },
    out: { type: 'string', default: join(here, 'results') },
  },
})
const runs = Number(values.runs)
const sizes = values.sizes.split(',').map((s) => Number(s) * MIB)
const chunkSizes = values.chunks.split(',').map((s) => Number(s) * 1024)
const concurrencies = values.concurrency.split(',').map(Number)
const endpoints = (values.endpoints ?? (values.link || values.many ? '' : 'null,tls,small,wan,store,memory,rolling'))
  .split(',')
  .filter(Boolean)
/**
 * s3-sink with `checksum: false` (bench/impls/s3-sink-unchecked.ts), at the reference concurrency: set beside the
 * minimal Writable uploader without checksum, as s3-sink (CRC32 by default) is beside the one with CRC32.
 */
const UNCHECKED = 's3-sink-unchecked'
/**
 * What s3-sink is measured against, as [subject, reference] pairs: the minimal Writable uploader
 * (bench/impls/minimal-writable.ts: the same stream through pipeline(), one copy into reused part buffers, one PUT
 * write per part) without and with a CRC32, which is the work itself; raw HTTP (the same copy and PUTs in a plain
 * loop, no stream machinery), the floor; lib-storage, the SDK's own.
 */
const PAIRS: [string, string][] = [
  [UNCHECKED, 'minimal-writable'],
  ['s3-sink', 'minimal-writable-crc32'],
  ['minimal-writable', 'raw-http'],
  [UNCHECKED, 'raw-http'],
  ['s3-sink', 'lib-storage'],
]
/** The implementations every part size and chunk size runs, at the reference concurrency. */
const REFERENCES = ['minimal-writable', 'minimal-writable-crc32', 'raw-http']
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

/** The loopback certificate the HTTPS null endpoint serves; the clients trust it as an extra CA. */
const TLS_CERT = fileURLToPath(new URL('../test/fixtures/tls/localhost.crt', import.meta.url))

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
  return runScript('run-one.ts', impl, { impl, target, case: c, counts }, env)
}

/** Runs `script` of bench/ in a process of its own with `arg` as JSON; resolves with the line of JSON it prints. */
function runScript<T>(script: string, name: string, arg: unknown, env: Record<string, string> = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(here, script), JSON.stringify(arg)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NODE_NO_WARNINGS: '1',
        NODE_EXTRA_CA_CERTS: TLS_CERT,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...env,
      },
    })
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
      else reject(new Error(`${name} failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' ')}`))
    })
  })
}

/** What the null endpoint saw since the last call (run-one makes one after its warm-up); see bench/null-server.ts. */
interface Stats {
  requests: number
  connections: number
  bytes: number
  slowDowns: number
  /** From the first request to the last answer. */
  seconds: number
  /** The endpoint's own CPU time. */
  cpuSeconds: number
  /** How late its readers' timers fired, on average and at most (ms). */
  meanLateMs: number
  maxLateMs: number
}

async function stats(endpoint: string): Promise<Stats | undefined> {
  try {
    return (await (await fetch(`${endpoint}/__stats`)).json()) as Stats
  } catch {
    return undefined
  }
}

/**
 * The cases of one endpoint: at each part size and chunk size, s3-sink with and without its checksum and the
 * references at the reference concurrency; s3-sink's other concurrencies and lib-storage (a few times slower, so
 * long to run) at the first chunk size only.
 */
function casesFor(bytes: number, chunks = chunkSizes, withLibStorage = true): { impl: string; c: BenchCase }[] {
  const cases: { impl: string; c: BenchCase }[] = []
  for (const partSize of sizes) {
    for (const [i, chunkSize] of chunks.entries()) {
      const c = { bytes, partSize, concurrency: REFERENCE.concurrency, key: '', chunkSize }
      for (const concurrency of i === 0 ? concurrencies : [REFERENCE.concurrency]) {
        cases.push({ impl: 's3-sink', c: { ...c, concurrency } })
      }
      for (const impl of [UNCHECKED, ...REFERENCES]) cases.push({ impl, c })
      if (i === 0 && withLibStorage) cases.push({ impl: 'lib-storage', c })
    }
  }
  return cases
}

/** The small-object cases: each implementation stores `objects` objects, `object-concurrency` at once. */
function smallCases(): { impl: string; c: BenchCase }[] {
  const c: BenchCase = {
    bytes: parseSize(values['object-bytes']),
    ...REFERENCE,
    key: '',
    objects: Number(values.objects),
    objectConcurrency: Number(values['object-concurrency']),
  }
  return ['sdk-put', 's3-sink', UNCHECKED, 'lib-storage'].map((impl) => ({ impl, c }))
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
      const key = `bench/${name}/${impl}-${c.partSize / MIB}-${c.concurrency}-${(c.chunkSize ?? 65536) / 1024}-${round}-${i}`
      const run = await runOne(impl, target, { ...c, key }, { counts })
      // The stats request itself is one more request and connection; not counted.
      const seen = counts ? await stats(target.endpoint) : undefined
      const counted = seen ? { requests: seen.requests, connections: seen.connections } : {}
      results.push({ impl, endpoint: name, round, case: c, ...run, ...counted })
      const total = c.bytes * (c.objects ?? 1)
      const rate = total / MIB / run.seconds
      const cost = c.objects
        ? `${((run.cpuSeconds / c.objects) * 1000).toFixed(3)} CPU-ms/object`
        : `${((run.cpuSeconds / total) * GIB).toFixed(2)} CPU-s/GiB`
      process.stderr.write(
        `${name} round ${round}/${rounds}  ${impl.padEnd(22)} ${String(c.partSize / MIB).padStart(3)} MiB ×${c.concurrency} ` +
          `${String((c.chunkSize ?? 65536) / 1024).padStart(2)} KiB  ${rate.toFixed(1).padStart(7)} MiB/s  ${cost}\n`,
      )
    }
  }
  return results
}

function summarize(results: Run[]): Measurement[] {
  const groups = new Map<string, Run[]>()
  for (const r of results) {
    const key = `${r.impl}|${r.case.partSize}|${r.case.concurrency}|${r.case.chunkSize}`
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
      chunkSize: first.case.chunkSize,
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
  chunkSize: number | undefined
  reference: string
  /** The reference's seconds over the subject's, per round (the subject's throughput over the reference's). */
  perRound: number[]
  /** The subject's CPU seconds over the reference's, per round. */
  cpuPerRound: number[]
}

/**
 * The subject's throughput (and CPU time) over each reference's, within each round at the same configuration
 * (part size, chunk size, the reference concurrency): a noisy machine slows a round's runs alike.
 */
function ratios(results: Run[], pairs: [string, string][]): Ratio[] {
  const out: Ratio[] = []
  const configs = new Map<string, BenchCase>()
  for (const r of results) {
    if (r.case.concurrency === REFERENCE.concurrency) configs.set(`${r.case.partSize}|${r.case.chunkSize}`, r.case)
  }
  const rounds = Math.max(0, ...results.map((r) => r.round))
  for (const config of configs.values()) {
    for (const [subject, reference] of pairs) {
      const perRound: number[] = []
      const cpuPerRound: number[] = []
      for (let round = 1; round <= rounds; round++) {
        const at = (impl: string) =>
          results.find(
            (r) =>
              r.impl === impl &&
              r.round === round &&
              r.case.partSize === config.partSize &&
              r.case.chunkSize === config.chunkSize &&
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
        out.push({ subject, partSize: config.partSize, chunkSize: config.chunkSize, reference, perRound, cpuPerRound })
      }
    }
  }
  return out
}

/** Median, then every round's value and the spread (highest − lowest), e.g. `0.97× (0.95 0.97 0.99; ±0.02)`. */
function spread(values: number[]): string {
  const half = (Math.max(...values) - Math.min(...values)) / 2
  return `${median(values).toFixed(2)}× (${values.map((v) => v.toFixed(2)).join(' ')}; ±${half.toFixed(2)})`
}

function ratioTable(rows: Ratio[], configuration: (r: Ratio) => string): string {
  return (
    '| subject | configuration | reference | throughput ÷ reference | CPU ÷ reference |\n' +
    '| --- | --- | --- | --- | --- |\n' +
    rows
      .map(
        (r) =>
          `| ${r.subject} | ${configuration(r)} | ${r.reference} | ${spread(r.perRound)} | ${spread(r.cpuPerRound)} |`,
      )
      .join('\n')
  )
}

/** The small-object run: CPU per object and requests per object, medians; CPU ratios to the SDK's PutObject. */
function smallSection(title: string, results: Run[]): string {
  const c = (results[0] as Run).case
  const objects = c.objects ?? 1
  const impls = [...new Set(results.map((r) => r.impl))]
  const rows = impls.map((impl) => {
    const runs = results.filter((r) => r.impl === impl)
    const cpuMs = median(runs.map((r) => (r.cpuSeconds / objects) * 1000))
    const perSecond = median(runs.map((r) => objects / r.seconds))
    const requests = runs.map((r) => r.requests).filter((n): n is number => n !== undefined)
    const rss = median(runs.map((r) => r.peakRss / MIB))
    return (
      `| ${impl} | ${cpuMs.toFixed(3)} | ${perSecond.toFixed(0)} | ` +
      `${requests.length ? (median(requests) / objects).toFixed(2) : '–'} | ${rss.toFixed(0)} |`
    )
  })
  const rounds = Math.max(...results.map((r) => r.round))
  const versus = impls
    .filter((impl) => impl !== 'sdk-put')
    .map((impl) => {
      const cpu: number[] = []
      const rate: number[] = []
      for (let round = 1; round <= rounds; round++) {
        const mine = results.find((r) => r.impl === impl && r.round === round)
        const theirs = results.find((r) => r.impl === 'sdk-put' && r.round === round)
        if (mine && theirs) {
          cpu.push(mine.cpuSeconds / theirs.cpuSeconds)
          rate.push(theirs.seconds / mine.seconds)
        }
      }
      return `| ${impl} | sdk-put | ${spread(rate)} | ${spread(cpu)} |`
    })
  return (
    `### ${title}\n\n| implementation | CPU ms per object | objects/s | requests per object | peak RSS MiB |\n` +
    `| --- | ---: | ---: | ---: | ---: |\n${rows.join('\n')}\n\nPer round against the SDK's own PutObject ` +
    '(median, each round, ± half the spread):\n\n| subject | reference | objects/s ÷ reference | CPU ÷ reference |\n' +
    `| --- | --- | --- | --- |\n${versus.join('\n')}`
  )
}

/** The uploads profiled after the null endpoint's runs, at the reference configuration, side by side. */
const PROFILED = ['s3-sink', 'minimal-writable-crc32', UNCHECKED, 'minimal-writable']

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
    'thread by kind of work, 64 KiB chunks (idle is time the thread waited; the process CPU also counts the kernel work and ' +
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

/**
 * What each link runs: s3-sink with its defaults and at fixed concurrencies (8 MiB parts), the others with their
 * defaults (the programs' from their own configuration: aws-cli 8 MiB × 10, rclone 5 MiB × 4).
 */
const LINK_CASES: { impl: string; label: string; c: Partial<BenchCase> }[] = [
  { impl: 's3-sink', label: 's3-sink, defaults', c: { defaults: true } },
  ...[4, 8, 16, 32].map((concurrency) => ({
    impl: 's3-sink',
    label: `s3-sink, 8 MiB × ${concurrency}`,
    c: { concurrency },
  })),
  { impl: 'lib-storage', label: 'lib-storage, defaults', c: { defaults: true } },
  // The command is a process of its own: its reference is the library's first upload in a process.
  { impl: 's3-sink', label: 's3-sink, defaults, first upload', c: { defaults: true, cold: true } },
  { impl: 's3-sink-cli', label: 's3-sink command, defaults', c: { defaults: true } },
  { impl: 'aws-cli', label: 'aws-cli, defaults', c: { defaults: true } },
  { impl: 'rclone', label: 'rclone, defaults', c: { defaults: true } },
]

/**
 * Every case of LINK_CASES whose implementation runs here, interleaved over the rounds. Throughput is taken over
 * the time the link carried the upload (the endpoint's first request to its last answer): a program's start-up is
 * not the link's. A failed upload (a client that gives up under SlowDown) is reported, not fatal.
 */
async function measureLink(link: Link, target: BenchTarget): Promise<LinkRun[]> {
  const linkBytes = values['link-bytes'] ? parseSize(values['link-bytes']) : link.bytes
  const only = values['link-impls']?.split(',')
  const cases: typeof LINK_CASES = []
  for (const linkCase of LINK_CASES) {
    if (only && !only.includes(linkCase.impl)) continue
    const { impl } = (await import(`./impls/${linkCase.impl}.js`)) as { impl: Impl }
    if (impl.available && !impl.available()) {
      process.stderr.write(`${link.name}: ${linkCase.impl} is not installed here; left out\n`)
      continue
    }
    cases.push(linkCase)
  }
  const results: LinkRun[] = []
  for (let round = 1; round <= runs; round++) {
    for (const [i, { impl, label, c }] of cases.entries()) {
      const key = `bench/${link.name}/${impl}-${round}-${i}`
      const whole: BenchCase = { bytes: linkBytes, partSize: 8 * MIB, concurrency: 4, key, ...c }
      let run: Omit<Run, 'impl' | 'endpoint' | 'round' | 'case'> | undefined
      let failed: string | undefined
      try {
        run = await runOne(impl, target, whole, { counts: true })
      } catch (error) {
        failed = (error as Error).message
      }
      const seen = await stats(target.endpoint)
      const result: LinkRun = {
        link: link.name,
        impl,
        label,
        round,
        bytes: linkBytes,
        seconds: run?.seconds ?? Number.NaN,
        linkSeconds: seen?.seconds ?? Number.NaN,
        cpuSeconds: run?.cpuSeconds ?? Number.NaN,
        peakRss: run?.peakRss ?? Number.NaN,
        requests: seen?.requests ?? Number.NaN,
        connections: seen?.connections ?? Number.NaN,
        slowDowns: seen?.slowDowns ?? 0,
        endpointCpuSeconds: seen?.cpuSeconds ?? Number.NaN,
        endpointLateMs: seen?.meanLateMs ?? Number.NaN,
        endpointMaxLateMs: seen?.maxLateMs ?? Number.NaN,
        ...(failed === undefined ? {} : { failed }),
      }
      results.push(result)
      const rate = linkBytes / result.linkSeconds
      process.stderr.write(
        `${link.name} round ${round}/${runs}  ${label.padEnd(28)} ` +
          (failed
            ? `failed: ${failed}\n`
            : `${(rate / MIB).toFixed(1).padStart(6)} MiB/s  ${((rate / link.linkBandwidth) * 100).toFixed(0).padStart(3)} % of the link  ` +
              `${((result.cpuSeconds / linkBytes) * GIB).toFixed(2)} CPU-s/GiB${result.slowDowns ? `  ${result.slowDowns} SlowDowns` : ''}\n`),
      )
    }
  }
  return results
}

/** The many-uploads scenario: half large, half small uploads at once, in one process. */
const MANY = { large: { count: 100, bytes: 16 * MIB }, small: { count: 100, bytes: 100 * 1024 } }

/** bench/many-uploads.ts once per budget of --many-budgets, over the rounds. */
async function measureMany(link: Link, target: BenchTarget): Promise<ManyRun[]> {
  const budgets = values['many-budgets'].split(',').map((b) => (b === '0' ? 0 : parseSize(b)))
  const results: ManyRun[] = []
  const bytes = MANY.large.count * MANY.large.bytes + MANY.small.count * MANY.small.bytes
  for (let round = 1; round <= runs; round++) {
    for (const budget of budgets) {
      const out = await runScript<Omit<ManyRun, 'round' | 'bytes' | 'linkBandwidth'>>(
        'many-uploads.ts',
        'many-uploads',
        {
          target,
          ...MANY,
          budget,
        },
      )
      await stats(target.endpoint)
      const run: ManyRun = { ...out, budget, round, bytes, linkBandwidth: link.linkBandwidth }
      results.push(run)
      process.stderr.write(
        `many on ${link.name} round ${round}/${runs}  budget ${budget ? `${budget / MIB} MiB` : 'none'}  ` +
          (run.unavailable
            ? `${run.unavailable}\n`
            : `${run.stored} stored, ${((run.peakRss - run.rssBefore) / MIB).toFixed(0)} MiB over start, ` +
              `${((bytes / run.seconds / link.linkBandwidth) * 100).toFixed(0)} % of the link, small uploads done at ` +
              `${run.smallMedian.toFixed(2)} s (median) and ${run.smallP99.toFixed(2)} s (99th percentile) of ${run.seconds.toFixed(1)} s\n`),
      )
    }
  }
  return results
}

/**
 * What the endpoint spent on `link` (CPU seconds per GiB of body it read) and how late its readers' timers fired,
 * medians over the link's uploads: a timer later than the buckets' burst is time lost to the link.
 */
function endpointNote(link: string): string {
  const runs = linkRuns.filter((r) => r.link === link && r.failed === undefined)
  const of = (f: (r: LinkRun) => number) => {
    const values = runs.map(f).filter(Number.isFinite)
    return values.length ? median(values) : Number.NaN
  }
  return (
    `The endpoint itself spent ${of((r) => (r.endpointCpuSeconds / r.bytes) * GIB).toFixed(2)} CPU-s per GiB it ` +
    `read; its readers' timers fired ${of((r) => r.endpointLateMs).toFixed(1)} ms late on average, ` +
    `${of((r) => r.endpointMaxLateMs).toFixed(0)} ms at most (medians over these uploads; the buckets make up 50 ms).`
  )
}

/** bench/results/links.{md,json,svg}: the links' tables, every link side by side, many uploads, the chart. */
function writeLinkResults(): void {
  const links = values.link ? linksNamed(values.link) : []
  const manyLink = values.many ? linksNamed(values['many-link'])[0] : undefined
  const rows = summarizeLinks(linkRuns, links)
  const sizes = (link: Link) => (values['link-bytes'] ? parseSize(values['link-bytes']) : link.bytes) / MIB
  const parts = [
    `## Benchmark over modelled links\n\n${about}. Each upload ran in a process of its own, implementations ` +
      'interleaved, against the null endpoint modelling the link (bench/null-server.ts, bench/links.ts: it paces ' +
      'reads of the request bodies and delays the answers, so the figures hold on a busy machine). MiB/s is over the ' +
      'time the link carried the upload (the endpoint\'s first request to its last answer); "of the link" is that ' +
      "over the link's capacity; wall s is the uploader's own time (a program's whole life, start-up included).",
  ]
  if (rows.length) {
    parts.push(
      '![share of each link used](links.svg)',
      `### Every link\n\n${linksOverview(rows, links)}`,
      ...links.map(
        (link) =>
          `### ${link.name}: ${link.description}; ${sizes(link)} MiB\n\n` +
          linkTable(
            rows.filter((r) => r.link === link.name),
            link.slowDownAbove > 0,
          ) +
          `\n\n${endpointNote(link.name)}`,
      ),
    )
    const failures = linkRuns.filter((r) => r.failed)
    if (failures.length) {
      parts.push(
        `Failed uploads:\n\n${failures.map((r) => `- ${r.link}, ${r.label}, round ${r.round}: ${r.failed}`).join('\n')}`,
      )
    }
  }
  if (manyRuns.length && manyLink) {
    parts.push(
      `### ${MANY.large.count + MANY.small.count} uploads at once in one process, ${manyLink.name}\n\n` +
        `${MANY.large.count} of ${MANY.large.bytes / MIB} MiB and ${MANY.small.count} of ${MANY.small.bytes / 1024} KiB, ` +
        'all started at once, each an S3Sink with its defaults over one S3Client with its defaults, with and without one ' +
        'shared UploadBudget. Peak RSS is over the RSS when they started; the link used is all their bytes over the ' +
        "whole run's time; the small uploads' finish times are from the start.\n\n" +
        manyTable(manyRuns, MANY.large.count + MANY.small.count),
    )
  }
  writeFileSync(join(values.out, 'links.md'), `${parts.join('\n\n')}\n`)
  writeFileSync(
    join(values.out, 'links.json'),
    `${JSON.stringify({ machine: machine(), when, links, runs: linkRuns, many: manyRuns }, null, 1)}\n`,
  )
  if (rows.length) writeFileSync(join(values.out, 'links.svg'), linkChart(rows, links, about))
  process.stderr.write(`\nwrote ${join(values.out, 'links.md')}, links.json and links.svg\n`)
}

const linkRuns: LinkRun[] = []
const manyRuns: ManyRun[] = []
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
    let pairs = PAIRS
    if (name === 'null' || name === 'tls' || name === 'wan') {
      const args =
        name === 'wan'
          ? ['--latency', values.latency, '--bandwidth', String(parseSize(values.bandwidth))]
          : name === 'tls'
            ? ['--tls']
            : []
      const server = await startNullServer(args)
      servers.push(server.proc)
      target = { endpoint: server.endpoint, region: 'us-east-1', bucket: 'bench', ...credentials }
      if (name === 'wan') endpointBytes = wanBytes
      title =
        name === 'null'
          ? `null endpoint on loopback, HTTP, ${endpointBytes / MIB} MiB`
          : name === 'tls'
            ? `null endpoint on loopback, HTTPS (TLS 1.3, self-signed), ${endpointBytes / MIB} MiB`
            : `modelled WAN: ${values.latency} ms, ${values.bandwidth}/s per connection, ${endpointBytes / MIB} MiB`
      // The link is what a WAN run measures, whatever the chunk size.
      cases = name === 'wan' ? casesFor(endpointBytes, chunkSizes.slice(0, 1)) : casesFor(endpointBytes)
    } else if (name === 'small') {
      const server = await startNullServer([])
      servers.push(server.proc)
      target = { endpoint: server.endpoint, region: 'us-east-1', bucket: 'bench', ...credentials }
      cases = smallCases()
      const first = cases[0]?.c as BenchCase
      title =
        `small objects: ${first.objects} × ${first.bytes / 1024} KiB, ${first.objectConcurrency} at once, null ` +
        'endpoint (HTTP; echoes checksums as S3 does)'
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
      cases = ['s3-sink', 'minimal-writable-crc32', 'lib-storage', 'raw-http'].map((impl) => ({
        impl,
        c: { bytes: endpointBytes, ...REFERENCE, key: '' },
      }))
      pairs = [
        ['s3-sink', 'minimal-writable-crc32'],
        ['s3-sink', 'raw-http'],
        ['s3-sink', 'lib-storage'],
      ]
    } else if (name === 'memory') {
      // Peak RSS for a long stream whose chunks are fresh memory, as a file's are: what each client keeps.
      const server = await startNullServer([])
      servers.push(server.proc)
      target = { endpoint: server.endpoint, region: 'us-east-1', bucket: 'bench', ...credentials }
      endpointBytes = parseSize(values['memory-bytes'])
      title = `memory: ${endpointBytes / GIB} GiB of fresh 64 KiB chunks, null endpoint`
      cases = ['s3-sink', UNCHECKED, 'minimal-writable-crc32', 'lib-storage', 'raw-http'].map((impl) => ({
        impl,
        c: { bytes: endpointBytes, ...REFERENCE, key: '', fresh: true },
      }))
      pairs = [
        ['s3-sink', 'minimal-writable-crc32'],
        [UNCHECKED, 'raw-http'],
        ['s3-sink', 'lib-storage'],
      ]
    } else if (name.startsWith('zero-copy-')) {
      // The copy into reused part buffers against holding the written Buffers and sending a part as their list,
      // both in their least form (the minimal uploader with CRC32), for three sources: the same 64 KiB chunks
      // again and again (nothing to allocate), fresh 64 KiB chunks (a file), and 16 KiB slices of fresh 1 MiB
      // buffers (a socket, a parser), where a slice kept keeps its whole buffer.
      const server = await startNullServer([])
      servers.push(server.proc)
      target = { endpoint: server.endpoint, region: 'us-east-1', bucket: 'bench', ...credentials }
      const source = name.slice('zero-copy-'.length)
      const of: Record<string, Partial<BenchCase>> = {
        shared: {},
        fresh: { fresh: true },
        slices: { fresh: true, chunkSize: 16 * 1024, slab: MIB },
      }
      const variant = of[source]
      if (!variant) throw new Error(`unknown source ${source}: use zero-copy-shared, zero-copy-fresh, zero-copy-slices`)
      title = `zero copy: ${endpointBytes / MIB} MiB of ${
        source === 'shared'
          ? 'the same 64 KiB chunks'
          : source === 'fresh'
            ? 'fresh 64 KiB chunks'
            : '16 KiB slices of fresh 1 MiB buffers'
      }, null endpoint`
      cases = ['minimal-writable-held', 'minimal-writable-crc32'].map((impl) => ({
        impl,
        c: { bytes: endpointBytes, ...REFERENCE, key: '', ...variant },
      }))
      pairs = [['minimal-writable-held', 'minimal-writable-crc32']]
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
      pairs = [
        ['rolling', 's3-sink'],
        ['rolling', 'rolling-anywhere'],
        ['rolling-anywhere', 's3-sink'],
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
      pairs = [
        ['s3-sink-traced', 's3-sink'],
        ['s3-sink-traced', 's3-sink-context-only'],
        ['s3-sink-context-only', 's3-sink'],
      ]
    } else {
      throw new Error(
        `unknown endpoint ${name}: use null, tls, small, wan, store, memory, rolling, zero-copy-{shared,fresh,slices}, tracing`,
      )
    }
    // One round of the memory run: peak RSS barely varies, and 4 GiB per upload is long.
    const results = await measure(name, target, cases, counts, name === 'memory' ? 1 : runs)
    all.push(...results)
    if (name === 'small') {
      sections.push(smallSection(title, results))
      continue
    }
    const rows = summarize(results)
    const table = markdownTable(
      [...rows].sort(
        (a, b) =>
          a.impl.localeCompare(b.impl) ||
          a.partSize - b.partSize ||
          (b.chunkSize ?? 0) - (a.chunkSize ?? 0) ||
          a.concurrency - b.concurrency,
      ),
    )
    const configuration = (r: Ratio) =>
      `${r.partSize / MIB} MiB × ${REFERENCE.concurrency}${r.chunkSize ? `, ${r.chunkSize / 1024} KiB chunks` : ''}`
    sections.push(
      `### ${title}\n\n${table}\n\nThroughput and CPU time over the reference's within each round: the median, ` +
        `each round's value, ± half the spread:\n\n${ratioTable(ratios(results, pairs), configuration)}`,
    )
    // The chart is throughput against part size, at the first chunk size: the endpoints swept over part sizes.
    const charted = rows.filter((r) => r.chunkSize === undefined || r.chunkSize === chunkSizes[0])
    if (name === 'null') panels.push({ title: 'null endpoint, HTTP (loopback)', rows: charted })
    if (name === 'tls') panels.push({ title: 'null endpoint, HTTPS (loopback)', rows: charted })
    if (name === 'wan') panels.push({ title: 'modelled WAN link', rows: charted })
    if (name === 'null') sections.push(await profileSection(target))
  }
  if (values.link) {
    for (const link of linksNamed(values.link)) {
      const server = await startNullServer(['--link', link.name])
      servers.push(server.proc)
      const target = { endpoint: server.endpoint, region: 'us-east-1', bucket: 'bench', ...credentials }
      linkRuns.push(...(await measureLink(link, target)))
      server.proc.kill()
    }
  }
  if (values.many) {
    const link = linksNamed(values['many-link'])[0] as Link
    const server = await startNullServer(['--link', link.name])
    servers.push(server.proc)
    const target = { endpoint: server.endpoint, region: 'us-east-1', bucket: 'bench', ...credentials }
    manyRuns.push(...(await measureMany(link, target)))
    server.proc.kill()
  }
} finally {
  for (const proc of servers) proc.kill()
}

const when = new Date().toISOString().slice(0, 16).replace('T', ' ')
const about = `${machine()}; ${runs} rounds, medians; ${when} UTC`
mkdirSync(values.out, { recursive: true })
if (linkRuns.length || manyRuns.length) writeLinkResults()
if (endpoints.length === 0) process.exit(0)
writeFileSync(join(values.out, 'latest.json'), `${JSON.stringify({ machine: machine(), when, runs: all }, null, 1)}\n`)
writeFileSync(
  join(values.out, 'latest.md'),
  `## Benchmark\n\n${about}. Each upload ran in a process of its own; implementations interleaved; the source ` +
    `hands out chunks (${chunkSizes.map((c) => c / 1024).join(' or ')} KiB; smaller ones are slices of 64 KiB ` +
    'buffers) that cost nothing to make.\n\n![throughput against part size](latest.svg)\n\n' +
    `${sections.join('\n\n')}\n`,
)
if (panels.length) writeFileSync(join(values.out, 'latest.svg'), svgChart(panels, about))
process.stderr.write(`\nwrote ${join(values.out, 'latest.md')}, latest.json and latest.svg\n`)
