// The reports of the link runs (`npm run bench -- --link NAME`, `--many`): tables per link, one table of every
// link side by side, and a chart of the share of each link each implementation used.
import { median } from '../cli/report.js'
import type { Link } from './links.js'

const MIB = 2 ** 20
const GIB = 2 ** 30

/** One upload over a modelled link. */
export interface LinkRun {
  link: string
  impl: string
  /** What ran, as the report names it: `s3-sink, 8 MiB × 16`, `aws-cli, defaults`. */
  label: string
  round: number
  bytes: number
  /** Wall time as the uploader measured it (a program: its whole life, start-up included). */
  seconds: number
  /** From the endpoint's first request to its last answer: the time the link carried the upload. */
  linkSeconds: number
  cpuSeconds: number
  peakRss: number
  requests: number
  connections: number
  slowDowns: number
  /** The endpoint's own CPU seconds while it carried the upload. */
  endpointCpuSeconds: number
  /** How late the endpoint's paused readers were resumed, on average and at most (ms). */
  endpointLateMs: number
  endpointMaxLateMs: number
  /** Why the upload failed, when it did. */
  failed?: string
}

export interface LinkRow {
  link: string
  label: string
  /** Medians over the rounds that stored the object. */
  mibPerSecond: number
  /** Bytes per second on the link over the link's capacity. */
  share: number
  seconds: number
  cpuSecondsPerGiB: number
  peakRssMiB: number
  requests: number
  connections: number
  slowDowns: number
  runs: number
  failures: number
}

/** The medians of each link and label, in the order the runs came. */
export function summarizeLinks(runs: LinkRun[], links: Link[]): LinkRow[] {
  const groups = new Map<string, LinkRun[]>()
  for (const r of runs) groups.set(`${r.link}|${r.label}`, [...(groups.get(`${r.link}|${r.label}`) ?? []), r])
  return [...groups.values()].map((group) => {
    const first = group[0] as LinkRun
    const link = links.find((l) => l.name === first.link) as Link
    const ok = group.filter((r) => r.failed === undefined && r.linkSeconds > 0)
    const of = (f: (r: LinkRun) => number) => (ok.length ? median(ok.map(f)) : Number.NaN)
    const rate = of((r) => r.bytes / r.linkSeconds)
    return {
      link: first.link,
      label: first.label,
      mibPerSecond: rate / MIB,
      share: rate / link.linkBandwidth,
      seconds: of((r) => r.seconds),
      cpuSecondsPerGiB: of((r) => (r.cpuSeconds / r.bytes) * GIB),
      peakRssMiB: of((r) => r.peakRss / MIB),
      requests: of((r) => r.requests),
      connections: of((r) => r.connections),
      slowDowns: of((r) => r.slowDowns),
      runs: group.length,
      failures: group.length - ok.length,
    }
  })
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '–')
const percent = (share: number) => (Number.isFinite(share) ? `${(share * 100).toFixed(0)} %` : '–')

/** One link's table: every implementation with its throughput on the link, share of it, cost and requests. */
export function linkTable(rows: LinkRow[], throttled: boolean): string {
  const lines = [
    `| implementation | MiB/s | of the link | wall s | CPU s/GiB | peak RSS MiB | requests (connections) |${throttled ? ' SlowDowns |' : ''}`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: |${throttled ? ' ---: |' : ''}`,
  ]
  for (const r of rows) {
    const failed = r.failures ? ` (${r.failures} of ${r.runs} failed)` : ''
    lines.push(
      `| ${r.label}${failed} | ${fixed(r.mibPerSecond, 1)} | ${percent(r.share)} | ${fixed(r.seconds, 1)} | ` +
        `${fixed(r.cpuSecondsPerGiB, 2)} | ${fixed(r.peakRssMiB, 0)} | ${fixed(r.requests, 0)} (${fixed(r.connections, 0)}) |` +
        `${throttled ? ` ${fixed(r.slowDowns, 0)} |` : ''}`,
    )
  }
  return lines.join('\n')
}

/** Every link side by side: a row per implementation, `MiB/s (share)` per link. */
export function linksOverview(rows: LinkRow[], links: Link[]): string {
  const labels = [...new Set(rows.map((r) => r.label))]
  const shown = links.filter((l) => rows.some((r) => r.link === l.name))
  return [
    `| implementation | ${shown.map((l) => l.name).join(' | ')} |`,
    `| --- |${' ---: |'.repeat(shown.length)}`,
    ...labels.map((label) => {
      const cells = shown.map((l) => {
        const r = rows.find((row) => row.link === l.name && row.label === label)
        return r ? `${fixed(r.mibPerSecond, 0)} MiB/s (${percent(r.share)})` : '–'
      })
      return `| ${label} | ${cells.join(' | ')} |`
    }),
    `| *s3-sink's defaults ÷ its best fixed concurrency* | ${shown.map((l) => defaultsOverBest(rows, l.name)).join(' | ')} |`,
  ].join('\n')
}

/** s3-sink's throughput with its defaults over its best at a fixed concurrency on `link`, and which that was. */
function defaultsOverBest(rows: LinkRow[], link: string): string {
  const mine = rows.filter((r) => r.link === link && r.label.startsWith('s3-sink, '))
  const defaults = mine.find((r) => r.label === 's3-sink, defaults')
  const best = mine
    .filter((r) => / × \d+$/.test(r.label) && Number.isFinite(r.mibPerSecond))
    .sort((a, b) => b.mibPerSecond - a.mibPerSecond)[0]
  if (!defaults || !best) return '–'
  return `${(defaults.mibPerSecond / best.mibPerSecond).toFixed(2)}× (best: ${best.label.slice('s3-sink, '.length)})`
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** A panel per link, side by side: a bar per implementation, the share of the link it used. */
export function linkChart(rows: LinkRow[], links: Link[], subtitle: string): string {
  const shown = links.filter((l) => rows.some((r) => r.link === l.name))
  const labels = [...new Set(rows.map((r) => r.label))]
  const width = 380
  const labelW = 170
  const barH = 16
  const top = 44
  const plotW = width - labelW - 44
  const height = top + labels.length * (barH + 6) + 36
  const parts: string[] = []
  shown.forEach((link, index) => {
    const x0 = index * width + labelW
    parts.push(
      `<text x="${index * width + width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(link.name)}</text>`,
      `<text x="${index * width + width / 2}" y="33" text-anchor="middle" font-size="10" fill="#555">` +
        `${escapeXml(`${link.linkBandwidth / 1e6} MB/s link, ${link.answerMs} ms answers`)}</text>`,
    )
    for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
      const x = x0 + tick * plotW
      parts.push(
        `<line x1="${x}" y1="${top - 4}" x2="${x}" y2="${height - 30}" stroke="${tick === 1 ? '#888' : '#eee'}"/>`,
        `<text x="${x}" y="${height - 18}" text-anchor="middle" font-size="10">${tick * 100}%</text>`,
      )
    }
    labels.forEach((label, i) => {
      const y = top + i * (barH + 6)
      const r = rows.find((row) => row.link === link.name && row.label === label)
      const share = r && Number.isFinite(r.share) ? r.share : 0
      const color = label.startsWith('s3-sink') ? (label.includes('defaults') ? '#1f77b4' : '#7fb2d9') : '#bbbbbb'
      parts.push(
        `<text x="${x0 - 6}" y="${y + barH - 4}" text-anchor="end" font-size="10">${escapeXml(label)}</text>`,
        `<rect x="${x0}" y="${y}" width="${(Math.min(share, 1.05) * plotW).toFixed(1)}" height="${barH}" fill="${color}"/>`,
        `<text x="${x0 + Math.min(share, 1.05) * plotW + 4}" y="${y + barH - 4}" font-size="10">${r ? percent(r.share) : '–'}</text>`,
      )
    })
  })
  const totalW = Math.max(1, shown.length) * width
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${totalW}" height="${height + 14}" viewBox="0 0 ${totalW} ${height + 14}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    `<text x="${totalW / 2}" y="${height + 6}" text-anchor="middle" font-size="10" fill="#555">${escapeXml(subtitle)}</text>`,
    '</svg>',
    '',
  ].join('\n')
}

/** One run of many uploads at once (bench/many-uploads.ts). */
export interface ManyRun {
  round: number
  /** Bytes all the sinks may hold together; 0: none. */
  budget: number
  seconds: number
  cpuSeconds: number
  peakRss: number
  rssBefore: number
  stored: number
  failed: number
  firstFailure?: string
  smallMedian: number
  smallP99: number
  largeMedian: number
  largeLast: number
  sdkWarnings: number
  /** Bytes all the uploads sent. */
  bytes: number
  /** The link's capacity, bytes per second. */
  linkBandwidth: number
  /** Set when the package has no UploadBudget (a run with a budget could not be made). */
  unavailable?: string
}

/** The many-uploads table: a row per budget, medians over the rounds. */
export function manyTable(runs: ManyRun[], uploads: number): string {
  const budgets = [...new Set(runs.map((r) => r.budget))]
  const lines = [
    '| budget | stored | peak RSS over start, MiB | link used | small uploads done, median s | 99th percentile s | ÷ the whole run | whole run s | CPU s | SDK warnings |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const budget of budgets) {
    const name = budget ? `${budget / MIB} MiB` : 'none'
    const group = runs.filter((r) => r.budget === budget)
    const unavailable = group.find((r) => r.unavailable)
    if (unavailable) {
      lines.push(`| ${name} | ${unavailable.unavailable} |${' – |'.repeat(8)}`)
      continue
    }
    const of = (f: (r: ManyRun) => number) => median(group.map(f))
    lines.push(
      `| ${name} | ${of((r) => r.stored)} of ${uploads} | ${of((r) => (r.peakRss - r.rssBefore) / MIB).toFixed(0)} | ` +
        `${percent(of((r) => r.bytes / r.seconds / r.linkBandwidth))} | ${of((r) => r.smallMedian).toFixed(2)} | ` +
        `${of((r) => r.smallP99).toFixed(2)} | ${of((r) => r.smallP99 / r.seconds).toFixed(2)} | ` +
        `${of((r) => r.seconds).toFixed(1)} | ${of((r) => r.cpuSeconds).toFixed(1)} | ${of((r) => r.sdkWarnings)} |`,
    )
  }
  return lines.join('\n')
}
