// The progress line on stderr: bytes sent and stored, rate, parts in flight, elapsed, and percent and ETA when
// the size is known. On a terminal, one line rewritten in place 10 times a second; elsewhere (a log, when
// --progress asks for it there), one line every 5 seconds.
//
// Hand-written rather than a progress-bar library: the line must work without a known total (most
// streams here have none) and carry two byte counts; the common libraries draw a bar toward a total.
import type { S3Sink } from 's3-sink'
import { formatBytes, formatDuration } from './units.js'

export class ProgressLine {
  readonly #sink: S3Sink
  readonly #out: NodeJS.WriteStream
  readonly #total: number | undefined
  readonly #started = Date.now()
  readonly #timer: NodeJS.Timeout
  #width = 0

  constructor(sink: S3Sink, out: NodeJS.WriteStream, total: number | undefined) {
    this.#sink = sink
    this.#out = out
    this.#total = total
    this.#timer = setInterval(() => this.#draw(), out.isTTY ? 100 : 5000)
    this.#timer.unref()
  }

  /** Replaces the line with `summary` (or clears it). */
  stop(summary?: string): void {
    clearInterval(this.#timer)
    if (this.#out.isTTY) this.#out.write(`\r${' '.repeat(this.#width)}\r`)
    if (summary) this.#out.write(`${summary}\n`)
  }

  #draw(): void {
    const p = this.#sink.progress
    const elapsed = Date.now() - this.#started
    const rate = elapsed > 0 ? (p.bytesSent / elapsed) * 1000 : 0
    const parts = [`${formatBytes(p.bytesSent)} sent`, `${formatBytes(p.bytesUploaded)} stored`]
    if (this.#total) {
      const done = Math.min(1, p.bytesSent / this.#total)
      const eta = rate > 0 ? ((this.#total - p.bytesSent) / rate) * 1000 : undefined
      parts.unshift(`${bar(done)} ${(done * 100).toFixed(1)}%`)
      if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`)
    }
    parts.push(`${formatBytes(rate)}/s`, `${p.partsInFlight} in flight`, formatDuration(elapsed))
    const line = parts.join('  ')
    if (!this.#out.isTTY) {
      this.#out.write(`${line}\n`)
      return
    }
    // A terminal of unknown width (columns 0, as under some pseudo-terminals) is taken as 100 wide.
    const fitted = line.slice(0, Math.max(20, (this.#out.columns || 100) - 1))
    this.#width = Math.max(this.#width, fitted.length)
    this.#out.write(`\r${fitted.padEnd(this.#width)}`)
  }
}

function bar(done: number, width = 20): string {
  const full = Math.round(done * width)
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`
}
