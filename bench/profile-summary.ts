// Reads a V8 CPU profile (the one run-one.ts writes with BENCH_CPU_PROFILE) and tells where the time went:
// self time by function, and by kind of work (socket writes, copies, checksums, SDK, streams, GC).

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

export interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileRow {
  name: string
  ms: number
  share: number
}

/** What kind of work a frame is, by its function and file. */
export function kindOf(functionName: string, url: string): string {
  if (functionName === '(idle)') return 'idle (waiting on the network)'
  if (functionName === '(garbage collector)') return 'garbage collector'
  if (functionName === 'writeBuffer' || functionName === 'writev' || functionName === 'writeUtf8String')
    return 'socket writes (the kernel copies the bytes)'
  if (url.includes('@aws-sdk') || url.includes('@smithy')) return 'AWS SDK (per request)'
  if (/crc32|crc64/i.test(functionName) || url.includes('checksum')) return 'part checksum'
  // s3-sink copies into its blocks in part-buffer's push; raw HTTP with Buffer#copy.
  if (url.includes('part-buffer') || functionName === '_copyActual') return 'copy into part buffers'
  if (url.includes('p-queue') || /\/(lib|dist\/esm|dist\/commonjs|bench\/impls)\//.test(url)) {
    return "the uploader's own code"
  }
  if (url.startsWith('node:')) return 'Node streams, http, events'
  return 'other'
}

function label(frame: ProfileNode['callFrame']): string {
  const file = frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(lib|dist|bench|cli)\//, '$1/')
  return `${frame.functionName || '(anonymous)'} ${file ? `${file}:${frame.lineNumber + 1}` : ''}`.trim()
}

/** Self time per function and per kind of work, largest first, in ms and as a share of the profile. */
export function summarizeProfile(profile: CpuProfile): { byFunction: ProfileRow[]; byKind: ProfileRow[] } {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
  const byFunction = new Map<string, number>()
  const byKind = new Map<string, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const frame = (nodes.get(id) as ProfileNode).callFrame
    const us = profile.timeDeltas[i] ?? 0
    total += us
    const fn = label(frame)
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us)
    const kind = kindOf(frame.functionName, frame.url)
    byKind.set(kind, (byKind.get(kind) ?? 0) + us)
  })
  const rows = (m: Map<string, number>) =>
    [...m].map(([name, us]) => ({ name, ms: us / 1000, share: total ? us / total : 0 })).sort((a, b) => b.ms - a.ms)
  return { byFunction: rows(byFunction), byKind: rows(byKind) }
}
