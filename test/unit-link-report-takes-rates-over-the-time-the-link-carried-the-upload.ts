import t from 'tap'
import { type LinkRun, linksOverview, linkTable, manyTable, summarizeLinks } from '../bench/link-report.js'
import type { Link } from '../bench/links.js'

const MIB = 2 ** 20
const link: Link = {
  name: 'test-link',
  description: '',
  requestBandwidth: 0,
  linkBandwidth: 100 * MIB,
  answerMs: 0,
  rttMs: 0,
  slowDownAbove: 0,
  bytes: 100 * MIB,
}

function run(label: string, round: number, linkSeconds: number, extra: Partial<LinkRun> = {}): LinkRun {
  return {
    link: link.name,
    impl: label.split(',')[0] as string,
    label,
    round,
    bytes: 100 * MIB,
    seconds: linkSeconds + 1,
    linkSeconds,
    cpuSeconds: 0.5,
    peakRss: 200 * MIB,
    requests: 14,
    connections: 4,
    slowDowns: 0,
    endpointCpuSeconds: 0.1,
    endpointLateMs: 1,
    endpointMaxLateMs: 5,
    ...extra,
  }
}

t.test('throughput is over the link time, its share over the link, medians over the rounds', async (t) => {
  const [row] = summarizeLinks(
    [run('aws-cli, defaults', 1, 2), run('aws-cli, defaults', 2, 4), run('aws-cli, defaults', 3, 5)],
    [link],
  )
  t.equal(row?.mibPerSecond, 25, '100 MiB over the median 4 s of the link, not over the 5 s of wall time')
  t.equal(row?.share, 0.25, 'a quarter of a 100 MiB/s link')
  t.equal(row?.seconds, 5, 'wall time is its own median')
  t.equal(row?.cpuSecondsPerGiB, 5.12, '0.5 CPU-s per 100 MiB')
})

t.test('failed uploads count as failures and stay out of the medians', async (t) => {
  const [row] = summarizeLinks(
    [run('rclone, defaults', 1, 2), run('rclone, defaults', 2, 1, { failed: 'exited with 1' })],
    [link],
  )
  t.equal(row?.mibPerSecond, 50)
  t.equal(row?.failures, 1)
  t.match(linkTable(row ? [row] : [], false), /rclone, defaults \(1 of 2 failed\) \| 50\.0 \| 50 %/)
})

t.test("the overview sets s3-sink's defaults beside its best fixed concurrency", async (t) => {
  const rows = summarizeLinks(
    [
      run('s3-sink, defaults', 1, 1.25),
      run('s3-sink, 8 MiB × 4', 1, 2),
      run('s3-sink, 8 MiB × 16', 1, 1.1),
      // Not a fixed concurrency: the defaults' first upload in a process.
      run('s3-sink, defaults, first upload', 1, 1),
    ],
    [link],
  )
  const overview = linksOverview(rows, [link])
  t.match(overview, /\| s3-sink, defaults \| 80 MiB\/s \(80 %\) \|/)
  t.match(overview, /0\.88× \(best: 8 MiB × 16\)/)
})

t.test('the many-uploads table says when the package has no budget', async (t) => {
  const base = {
    round: 1,
    seconds: 10,
    cpuSeconds: 5,
    peakRss: 1200 * MIB,
    rssBefore: 200 * MIB,
    stored: 200,
    failed: 0,
    smallMedian: 1,
    smallP99: 2,
    largeMedian: 8,
    largeLast: 10,
    sdkWarnings: 0,
    bytes: 800 * MIB,
    linkBandwidth: 100 * MIB,
  }
  const table = manyTable(
    [
      { ...base, budget: 0 },
      { ...base, budget: 64 * MIB, unavailable: 'this build of s3-sink has no UploadBudget' },
    ],
    200,
  )
  t.match(table, /\| none \| 200 of 200 \| 1000 \| 80 % \| 1\.00 \| 2\.00 \| 0\.20 \| 10\.0 \|/)
  t.match(table, /\| 64 MiB \| this build of s3-sink has no UploadBudget \|/)
})
