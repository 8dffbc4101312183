import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import t from 'tap'
import { ADAPTIVE_START } from '../lib/sink/concurrency.js'
import { bucketFor } from './fixtures/bucket.js'
import { connection, runCli } from './fixtures/cli.js'
import { incompleteUploads } from './fixtures/store.js'

const { Bucket, client } = await bucketFor(t, 'cli-bench')

t.test('s3-sink bench prints a table, writes a chart and leaves nothing in the bucket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 's3-sink-bench-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const chart = join(dir, 'chart.svg')
  const run = await runCli([
    'bench',
    `s3://${Bucket}/runs`,
    ...connection(),
    '--sizes',
    '5,6',
    '--concurrency',
    '1,2,adaptive',
    '--bytes',
    '12MiB',
    '--chart',
    chart,
  ])
  t.equal(run.status, 0, run.stderr)
  const rows = run.stdout.trim().split('\n')
  t.match(rows[0], /^\| implementation \| part size \| concurrency \| MiB\/s/)
  t.equal(rows.length, 2 + 6, 'a header, a rule and one row per part size × concurrency')
  for (const [size, concurrency] of [
    [5, 1],
    [5, 2],
    [6, 1],
    [6, 2],
  ]) {
    t.match(run.stdout, new RegExp(`\\| s3-sink \\| ${size} MiB \\| ${concurrency} \\| \\d+\\.\\d \\|`))
  }
  // The default, with the number of parts in flight it settled on (12 MiB in 5 MiB parts: it never grows past
  // where it starts).
  for (const size of [5, 6]) {
    t.match(
      run.stdout,
      new RegExp(`\\| s3-sink \\(adaptive: settled on\\) \\| ${size} MiB \\| ${ADAPTIVE_START} \\| \\d+\\.\\d \\|`),
    )
  }
  t.ok(existsSync(chart), 'the chart was written')
  const svg = readFileSync(chart, 'utf8')
  t.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
  t.equal(svg.match(/<polyline /g)?.length, 3, 'one line per concurrency, and one for the default')
  const left = await client.send(new ListObjectsV2Command({ Bucket }))
  t.equal(left.KeyCount ?? 0, 0, 'every uploaded object was deleted')
  t.same(await incompleteUploads(client, Bucket), [], 'no upload left either')
})

t.test('bench arguments are checked', async (t) => {
  for (const [args, message] of [
    [['bench'], /bench needs s3:\/\/bucket/],
    [['bench', 's3://b', '--sizes', '4'], /--sizes must be part sizes in MiB between 5 and 5120, got 4/],
    [['bench', 's3://b', '--runs', '0'], /--runs must be between 1 and 1000, got 0/],
    [['bench', 's3://b', '--checkpoint', 'f'], /--checkpoint goes with upload or roll, not bench/],
    [['bench', 's3://b', '--concurrency', '1,x'], /--concurrency takes a comma-separated list/],
  ] as [string[], RegExp][]) {
    const run = await runCli(args)
    t.equal(run.status, 2)
    t.match(run.stderr, message)
    t.match(run.stderr, /\nTry 's3-sink bench --help'\.\n$/, "the hint names bench's own help")
  }
})
