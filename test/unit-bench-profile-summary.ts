import t from 'tap'
import { kindOf, summarizeProfile } from '../bench/profile-summary.js'

t.test('frames are sorted into kinds of work by function and file', async (t) => {
  const cases: [string, string, string][] = [
    ['(idle)', '', 'idle (waiting on the network)'],
    ['(garbage collector)', '', 'garbage collector'],
    ['writeBuffer', '', 'socket writes (the kernel copies the bytes)'],
    ['writev', '', 'socket writes (the kernel copies the bytes)'],
    ['crc32c', '', 'part checksum'],
    ['fn', 'file:///x/dist/esm/checksum.js', 'part checksum'],
    ['push', 'file:///x/dist/esm/part-buffer.js', 'copy into part buffers'],
    ['send', 'file:///x/node_modules/@smithy/core/dist-cjs/index.js', 'AWS SDK (per request)'],
    ['fn', 'file:///x/node_modules/@aws-sdk/flexible-checksums/dist-cjs/index.js', 'AWS SDK (per request)'],
    ['#pump', 'file:///x/dist/esm/sink.js', "the uploader's own code"],
    ['add', 'file:///x/node_modules/p-queue/dist/index.js', "the uploader's own code"],
    ['_copyActual', 'node:buffer', 'copy into part buffers'],
    ['upload', 'file:///x/bench/impls/raw-http.ts', "the uploader's own code"],
    ['emit', 'node:events', 'Node streams, http, events'],
    ['runMicrotasks', '', 'other'],
  ]
  for (const [fn, url, kind] of cases) t.equal(kindOf(fn, url), kind, `${fn} ${url}`)
})

t.test('self time adds up per function and per kind, largest first, with shares', async (t) => {
  const frame = (id: number, functionName: string, url = '') => ({
    id,
    callFrame: { functionName, url, lineNumber: 9 },
  })
  const profile = {
    nodes: [
      frame(1, '(root)'),
      frame(2, 'writeBuffer'),
      frame(3, 'push', 'file:///x/dist/esm/part-buffer.js'),
      frame(4, 'writev'),
    ],
    samples: [2, 3, 2, 4, 1],
    timeDeltas: [1000, 3000, 2000, 4000, 0],
  }
  const { byFunction, byKind } = summarizeProfile(profile)
  t.same(
    byKind.map((r) => [r.name, r.ms, r.share]),
    [
      ['socket writes (the kernel copies the bytes)', 7, 0.7],
      ['copy into part buffers', 3, 0.3],
      ['other', 0, 0],
    ],
  )
  t.same(
    byFunction.map((r) => [r.name, r.ms]),
    [
      ['writev', 4],
      ['writeBuffer', 3],
      ['push dist/esm/part-buffer.js:10', 3],
      ['(root)', 0],
    ],
  )
})
