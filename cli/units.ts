// Parsing of the command line's values: sizes with units, durations, s3:// addresses.

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 2 ** 10,
  kb: 2 ** 10,
  kib: 2 ** 10,
  m: 2 ** 20,
  mb: 2 ** 20,
  mib: 2 ** 20,
  g: 2 ** 30,
  gb: 2 ** 30,
  gib: 2 ** 30,
  t: 2 ** 40,
  tb: 2 ** 40,
  tib: 2 ** 40,
}

/**
 * `16MiB`, `8M`, `8MB`, `1.5GiB`, `1048576` → bytes. Every unit is binary (M = MiB), as aws-cli reads them.
 * Throws a one-line message on anything else.
 */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  const unit = match ? SIZE_UNITS[(match[2] ?? '').toLowerCase()] : undefined
  if (!match || unit === undefined) {
    throw new UsageError(`not a size: ${JSON.stringify(text)} (use bytes or a unit: 16MiB, 8M, 1GiB)`)
  }
  const bytes = Number(match[1]) * unit
  if (!Number.isSafeInteger(Math.round(bytes))) throw new UsageError(`size too large: ${text}`)
  return Math.round(bytes)
}

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** `7d`, `12h`, `30m`, `90s`, `2w` → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(text)
  if (!match) throw new UsageError(`not a duration: ${JSON.stringify(text)} (use 90s, 30m, 12h, 7d or 2w)`)
  return Math.round(Number(match[1]) * (DURATION_UNITS[(match[2] ?? '').toLowerCase()] as number))
}

/** `s3://bucket/key/with/slashes` → { bucket, key }; the key may be empty (`s3://bucket` or `s3://bucket/`). */
export function parseS3Url(text: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(text)
  if (!match) throw new UsageError(`not an s3:// address: ${JSON.stringify(text)} (use s3://bucket/key)`)
  return { bucket: match[1] as string, key: match[2] ?? '' }
}

/** `1.5 GiB`, `12.0 MiB`, `512 B`: bytes for people. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`
}

/** `1:02:03`, `4:05`: a duration for people. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m)
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`
}

/** `5MiB`, `5GiB`, `1000`: a size as the options take it (whole binary units, else bytes). */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['TiB', 2 ** 40],
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`
  }
  return String(bytes)
}

/** A mistake on the command line (or a missing region or credentials): exit status 2, one line, and the hint. */
export class UsageError extends Error {
  override name = 'UsageError'
  /** The command whose help the hint points to. */
  command: string | undefined
}
