// Many uploads at once in one process, as an HTTP server streaming request bodies to S3 runs them: `large.count`
// uploads of `large.bytes` and `small.count` of `small.bytes`, all started at once (large and small in turn), each
// an S3Sink with its default options over one S3Client with its defaults, and all given one UploadBudget of
// `budget` bytes when one is asked for and the package has it (feature-detected, so that the same run measures
// a package without it). A process of its own, so that its peak RSS is its alone.
//
// Usage: node --import tsx bench/many-uploads.ts '<json: { target, large, small, budget }>'; prints one line of JSON.
import { pipeline } from 'node:stream/promises'
import { S3Client } from '@aws-sdk/client-s3'
import * as s3sink from 's3-sink'
import { benchSource } from '../cli/bench-source.js'
import { median } from '../cli/report.js'
import type { BenchTarget } from './impls/types.js'

interface Uploads {
  count: number
  bytes: number
}

const { target, large, small, budget } = JSON.parse(process.argv[2] as string) as {
  target: BenchTarget
  large: Uploads
  small: Uploads
  /** Bytes all the sinks may hold together; 0: no budget (each sink alone). */
  budget: number
}

type BudgetClass = new (options: { maxBufferedBytes: number }) => object
const UploadBudget = (s3sink as Record<string, unknown>).UploadBudget as BudgetClass | undefined
if (budget > 0 && typeof UploadBudget !== 'function') {
  process.stdout.write(`${JSON.stringify({ unavailable: 'this build of s3-sink has no UploadBudget' })}\n`)
  process.exit(0)
}

/** The SDK's warnings (it warns when requests wait for a socket), counted rather than printed. */
let sdkWarnings = 0
const client = new S3Client({
  endpoint: target.endpoint,
  region: target.region,
  forcePathStyle: true,
  credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
  logger: {
    debug() {},
    info() {},
    warn() {
      sdkWarnings++
    },
    error() {},
  },
})

function upload(key: string, bytes: number, options: Record<string, unknown>): Promise<void> {
  const sink = new s3sink.S3Sink({ client, params: { Bucket: target.bucket, Key: key }, ...options })
  return pipeline(benchSource(bytes), sink)
}

// Not measured: the code loaded and run once, the first connections opened (one small upload and one of three
// parts).
await upload('many/warm-up-small', small.bytes, {})
await upload('many/warm-up-large', 3 * 8 * 2 ** 20, {})
sdkWarnings = 0
await fetch(`${target.endpoint}/__stats`)

const shared = budget > 0 && UploadBudget ? new UploadBudget({ maxBufferedBytes: budget }) : undefined
const options = shared ? { budget: shared } : {}
const rssBefore = process.memoryUsage().rss
const cpu = process.cpuUsage()
const started = performance.now()
const finished: { small: number[]; large: number[] } = { small: [], large: [] }
const failures: string[] = []
const uploads: Promise<void>[] = []
for (let i = 0; i < Math.max(large.count, small.count); i++) {
  for (const [kind, u] of [
    ['large', large],
    ['small', small],
  ] as const) {
    if (i >= u.count) continue
    uploads.push(
      upload(`many/${kind}-${i}`, u.bytes, options).then(
        () => {
          finished[kind].push((performance.now() - started) / 1000)
        },
        (error: Error) => {
          failures.push(`${kind} ${i}: ${error.message}`)
        },
      ),
    )
  }
}
await Promise.all(uploads)
const seconds = (performance.now() - started) / 1000
const used = process.cpuUsage(cpu)
client.destroy()

/** The nearest-rank percentile `p` (0..1) of `values`. */
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.max(0, Math.ceil(p * values.length) - 1)] ?? Number.NaN
process.stdout.write(
  `${JSON.stringify({
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    peakRss: process.resourceUsage().maxRSS * 1024,
    rssBefore,
    budget: shared ? budget : 0,
    stored: finished.small.length + finished.large.length,
    failed: failures.length,
    firstFailure: failures[0],
    smallMedian: median(finished.small),
    smallP99: percentile(finished.small, 0.99),
    largeMedian: median(finished.large),
    largeLast: Math.max(...finished.large),
    sdkWarnings,
  })}\n`,
)
