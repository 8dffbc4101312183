// Benchmark reports: a Markdown table people can read and an SVG chart they can look at — throughput against
// part size, one line per concurrency, with reference lines. Shared by `npm run bench` and `s3-sink bench`.

export interface Measurement {
  /** Which implementation: s3-sink, lib-storage, raw-http, raw-network. */
  impl: string
  partSize: number
  concurrency: number
  bytes: number
  /** The source's chunk size, where runs differ in it. */
  chunkSize?: number | undefined
  /** Median over the runs. */
  mibPerSecond: number
  cpuSecondsPerGiB: number | undefined
  peakRssMiB: number | undefined
  /** RSS when the measured upload began (the runtime and the SDK, loaded and warmed up). */
  startRssMiB?: number | undefined
  requests: number | undefined
  /** TCP connections the upload opened, where the endpoint counts them. */
  connections?: number | undefined
  peakBufferedMiB: number | undefined
  runs: number
}

const MIB = 2 ** 20

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

const fixed = (value: number | undefined, digits: number) => (value === undefined ? '–' : value.toFixed(digits))

/** A Markdown table of measurements, best throughput first within each implementation. */
export function markdownTable(rows: Measurement[]): string {
  const chunks = rows.some((r) => r.chunkSize !== undefined)
  const lines = [
    `| implementation | part size |${chunks ? ' chunk |' : ''} concurrency | MiB/s | CPU s/GiB | peak RSS MiB (at start) | requests (connections) | peak buffered MiB |`,
    `| --- | ---: |${chunks ? ' ---: |' : ''} ---: | ---: | ---: | ---: | ---: | ---: |`,
  ]
  for (const r of rows) {
    const chunk = chunks ? ` ${r.chunkSize === undefined ? '–' : `${r.chunkSize / 1024} KiB`} |` : ''
    lines.push(
      `| ${r.impl} | ${r.partSize / MIB} MiB |${chunk} ${r.concurrency} | ${r.mibPerSecond.toFixed(1)} | ` +
        `${fixed(r.cpuSecondsPerGiB, 2)} | ${fixed(r.peakRssMiB, 0)}${r.startRssMiB === undefined ? '' : ` (${r.startRssMiB.toFixed(0)})`} | ` +
        `${r.requests ?? '–'}${r.connections === undefined ? '' : ` (${r.connections})`} | ${fixed(r.peakBufferedMiB, 0)} |`,
    )
  }
  return lines.join('\n')
}

export interface ChartPanel {
  title: string
  rows: Measurement[]
}

const COLORS = ['#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf']
const REFERENCE_STYLE: Record<string, { color: string; dash: string }> = {
  'raw-http': { color: '#444444', dash: '6 4' },
  'raw-network': { color: '#999999', dash: '1 3' },
  'lib-storage': { color: '#d62728', dash: '2 3' },
  'minimal-writable': { color: '#ff7f0e', dash: '8 3' },
  'minimal-writable-crc32': { color: '#bcbd22', dash: '8 3' },
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/**
 * An SVG chart per panel, side by side: MiB/s against part size (log scale), one line per s3-sink
 * concurrency, other implementations as dashed reference lines labelled with their concurrency.
 */
export function svgChart(panels: ChartPanel[], subtitle: string): string {
  const width = 460
  const height = 320
  const margin = { left: 58, right: 16, top: 40, bottom: 84 }
  const plotW = width - margin.left - margin.right
  const plotH = height - margin.top - margin.bottom
  const parts: string[] = []
  panels.forEach((panel, index) => {
    const x0 = index * width
    const sizes = [...new Set(panel.rows.map((r) => r.partSize))].sort((a, b) => a - b)
    const maxRate = Math.max(1, ...panel.rows.map((r) => r.mibPerSecond))
    const top = niceCeiling(maxRate)
    const logMin = Math.log2(sizes[0] ?? MIB)
    const logMax = Math.log2(sizes[sizes.length - 1] ?? MIB)
    const x = (size: number) =>
      x0 + margin.left + (logMax === logMin ? plotW / 2 : ((Math.log2(size) - logMin) / (logMax - logMin)) * plotW)
    const y = (rate: number) => margin.top + plotH - (rate / top) * plotH
    parts.push(
      `<text x="${x0 + width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(panel.title)}</text>`,
      `<line x1="${x0 + margin.left}" y1="${margin.top + plotH}" x2="${x0 + margin.left + plotW}" y2="${margin.top + plotH}" stroke="#888"/>`,
      `<line x1="${x0 + margin.left}" y1="${margin.top}" x2="${x0 + margin.left}" y2="${margin.top + plotH}" stroke="#888"/>`,
    )
    for (let i = 0; i <= 4; i++) {
      const rate = (top / 4) * i
      parts.push(
        `<line x1="${x0 + margin.left}" y1="${y(rate)}" x2="${x0 + margin.left + plotW}" y2="${y(rate)}" stroke="#eee"/>`,
        `<text x="${x0 + margin.left - 6}" y="${y(rate) + 4}" text-anchor="end" font-size="11">${Math.round(rate)}</text>`,
      )
    }
    for (const size of sizes) {
      parts.push(
        `<text x="${x(size)}" y="${margin.top + plotH + 16}" text-anchor="middle" font-size="11">${size / MIB}</text>`,
      )
    }
    parts.push(
      `<text x="${x0 + margin.left + plotW / 2}" y="${margin.top + plotH + 32}" text-anchor="middle" font-size="11">part size (MiB)</text>`,
      `<text x="${x0 + 14}" y="${margin.top + plotH / 2}" font-size="11" transform="rotate(-90 ${x0 + 14} ${margin.top + plotH / 2})" text-anchor="middle">MiB/s</text>`,
    )
    const series = new Map<string, Measurement[]>()
    for (const row of panel.rows) {
      const name = `${row.impl} ×${row.concurrency}`
      series.set(name, [...(series.get(name) ?? []), row])
    }
    let legend = 0
    let color = 0
    for (const [name, rows] of [...series].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
      const impl = rows[0]?.impl ?? ''
      const style = REFERENCE_STYLE[impl] ?? { color: COLORS[color++ % COLORS.length] as string, dash: '' }
      const points = rows
        .sort((a, b) => a.partSize - b.partSize)
        .map((r) => `${x(r.partSize).toFixed(1)},${y(r.mibPerSecond).toFixed(1)}`)
      const dash = style.dash ? ` stroke-dasharray="${style.dash}"` : ''
      parts.push(`<polyline fill="none" stroke="${style.color}" stroke-width="2"${dash} points="${points.join(' ')}"/>`)
      for (const point of points) {
        const [px, py] = point.split(',')
        parts.push(`<circle cx="${px}" cy="${py}" r="2.5" fill="${style.color}"/>`)
      }
      const lx = x0 + margin.left + (legend % 3) * 132
      const ly = margin.top + plotH + 50 + Math.floor(legend / 3) * 15
      parts.push(
        `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${ly - 4}" stroke="${style.color}" stroke-width="2"${dash}/>`,
        `<text x="${lx + 22}" y="${ly}" font-size="11">${escapeXml(name)}</text>`,
      )
      legend++
    }
  })
  const totalW = width * panels.length
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${totalW}" height="${height + 30}" viewBox="0 0 ${totalW} ${height + 30}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    ...subtitle
      .split('; ')
      .map(
        (line, i) =>
          `<text x="${totalW / 2}" y="${height + 2 + i * 12}" text-anchor="middle" font-size="10" fill="#555">${escapeXml(line)}</text>`,
      ),
    '</svg>',
    '',
  ].join('\n')
}

function niceCeiling(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= value) return step * magnitude
  }
  return 10 * magnitude
}
