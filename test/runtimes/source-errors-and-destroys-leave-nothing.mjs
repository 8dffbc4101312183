// A source that fails and a sink destroyed midway, each after parts were stored: pipeline() rejects, and once the
// sink has closed the store holds neither the object nor an incomplete upload. pipeline() settles in the order
// docs/runtimes.md states for each runtime.
import assert from 'node:assert/strict'
import process from 'node:process'
import { Readable } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { S3Sink } from 's3-sink'
import { check, finish } from './fixtures/harness.mjs'
import {
  chunksOf,
  incompleteUploads,
  keysUnder,
  MiB,
  makeBucket,
  makeClient,
  pseudoRandomBytes,
} from './fixtures/store.mjs'

const client = makeClient()
const { Bucket, drop } = await makeBucket(client, 'failures')
const partSize = 5 * MiB
const data = pseudoRandomBytes(11 * MiB, 9)

/** A sink for `Key` that records the order of 'close' and of the end of pipeline(), and counts stored parts. */
function sinkFor(Key) {
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize })
  const seen = { order: [], parts: 0 }
  sink.on('close', () => seen.order.push('close'))
  sink.on('part', () => seen.parts++)
  return { sink, seen }
}

/** The sink closed; then neither the object nor an upload is in the store. */
async function nothingLeft(sink, Key) {
  await finished(sink).catch(() => {})
  assert.deepEqual(await incompleteUploads(client, Bucket, Key), [], 'no incomplete upload')
  assert.deepEqual(await keysUnder(client, Bucket, Key), [], 'no object')
}

/** A stream that gives `data` and then never ends on its own: only the sink's failure ends it. */
function endless() {
  const source = new Readable({ read() {} })
  for (const chunk of chunksOf(data, 256 * 1024)) source.push(chunk)
  return source
}

/** Waits until `seen` counts `n` stored parts, so the failure comes with an upload in the store. */
async function untilParts(seen, n) {
  while (seen.parts < n) await sleep(10)
}

// On Node 20 pipeline() rejects as soon as a stream source fails; from Node 22 (and on Bun and Deno, which follow
// Node's stream code) it waits for the sink's 'close'. A source that is an async generator is not a stream:
// pipeline() rejects as soon as it throws, on every runtime.
const nodeMajor = Number(process.versions.node.split('.')[0])
const waitsForClose = Boolean(process.versions.bun || process.versions.deno) || nodeMajor >= 22

await check('an async generator that throws after two parts: pipeline() rejects with its error', async () => {
  const Key = 'generator'
  const { sink, seen } = sinkFor(Key)
  async function* source() {
    yield* chunksOf(data, 256 * 1024)
    await untilParts(seen, 2)
    throw new Error('the source failed')
  }
  await assert.rejects(
    pipeline(source, sink).finally(() => seen.order.push('rejected')),
    /the source failed/,
  )
  await nothingLeft(sink, Key)
  assert.deepEqual(seen.order, ['rejected', 'close'], 'pipeline() rejected before the sink closed')
})

await check(
  `a Readable destroyed with an error after two parts: pipeline() rejects ${waitsForClose ? 'after' : 'before'} the sink has closed`,
  async () => {
    const Key = 'readable'
    const { sink, seen } = sinkFor(Key)
    const source = endless()
    untilParts(seen, 2).then(() => source.destroy(new Error('the source failed')))
    await assert.rejects(
      pipeline(source, sink).finally(() => seen.order.push('rejected')),
      /the source failed/,
    )
    await nothingLeft(sink, Key)
    assert.deepEqual(seen.order, waitsForClose ? ['close', 'rejected'] : ['rejected', 'close'])
  },
)

await check('sink.destroy() after the first part: pipeline() rejects, nothing is left', async () => {
  const Key = 'destroyed'
  const { sink, seen } = sinkFor(Key)
  sink.once('part', () => sink.destroy())
  const source = endless()
  await assert.rejects(pipeline(source, sink), { code: 'ERR_STREAM_PREMATURE_CLOSE' })
  await nothingLeft(sink, Key)
  assert.ok(seen.parts >= 1, 'a part had been stored')
})

await check('an AbortSignal aborted after the first part: pipeline() rejects, nothing is left', async () => {
  const Key = 'aborted'
  const controller = new AbortController()
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize, signal: controller.signal })
  sink.once('part', () => controller.abort())
  const source = endless()
  await assert.rejects(pipeline(source, sink))
  await nothingLeft(sink, Key)
})

await drop()
client.destroy()
finish()
