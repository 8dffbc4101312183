// The upload's retry clock, on attempts that stand for the store: it starts at a stalled attempt's last progress,
// and once it has run out, an attempt in flight is cut after OVERTIME_STALL_TIMEOUT of silence — unless it makes
// progress, which gives it back its stall timeout. No store: the attempts are promises the test drives.
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { S3SinkError } from '../lib/core/errors.js'
import { type AttemptTools, OVERTIME_STALL_TIMEOUT, RequestPath } from '../lib/store/request.js'
import type { RequestPolicy } from '../lib/store/retry.js'
import { sdkClient } from './fixtures/store.js'

const client = sdkClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })
// The request path's timers do not hold the process open (the store's sockets do); here, nothing else would.
const alive = setInterval(() => {}, 1000)
t.teardown(() => {
  clearInterval(alive)
  client.destroy()
})

const reset = (): Error => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })

/** An attempt that never answers; it ends only when the request path cancels it. */
const silent = ({ signal }: AttemptTools): Promise<never> =>
  new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))

function pathWith(policy: Partial<RequestPolicy>, signal = new AbortController().signal): RequestPath {
  const full: RequestPolicy = { maxAttempts: 100, retryTimeout: 600, baseDelay: 10, maxDelay: 20, stallTimeout: 8000 }
  return new RequestPath(client, { ...full, ...policy }, signal)
}

async function outcome(run: Promise<unknown>): Promise<{ error?: S3SinkError; ms: number }> {
  const started = Date.now()
  try {
    await run
    return { ms: Date.now() - started }
  } catch (err) {
    return { error: err as S3SinkError, ms: Date.now() - started }
  }
}

t.test('once the clock has run out, a silent attempt is cut after a short silence, not a stallTimeout', async (t) => {
  const path = pathWith({})
  // One request fails (the clock starts), then goes silent; another was silent from the start.
  const failing = path.run('UploadPart', (tools) => (tools.attempt === 1 ? Promise.reject(reset()) : silent(tools)), {
    partNumber: 1,
  })
  const quiet = path.run('UploadPart', silent, { partNumber: 2 })
  const [a, b] = await Promise.all([outcome(failing), outcome(quiet)])
  for (const { error, ms } of [a, b]) {
    t.type(error, S3SinkError)
    t.equal(error?.code, 'ERR_S3_SINK_PART_FAILED')
    t.match(error?.cause, { code: 'ERR_S3_SINK_STALLED' })
    t.match(error?.message, `made no progress for ${OVERTIME_STALL_TIMEOUT} ms once the upload's requests had been`)
    // The stall timeout is 8 s: cut by the clock, the attempts end about 2 s after they began.
    t.ok(ms < 6000, `ended after ${ms} ms`)
  }
})

t.test('an attempt that makes progress once the clock has run out gets its stall timeout back', async (t) => {
  const path = pathWith({})
  const failing = path.run('UploadPart', (tools) => (tools.attempt === 1 ? Promise.reject(reset()) : silent(tools)), {
    partNumber: 1,
  })
  // A part on a slow link: bytes move now and then until 3 s, then 3 s more without any (the kernel holds the
  // body's tail), then the answer. Silent for longer than OVERTIME_STALL_TIMEOUT, after progress in overtime.
  const slow = path.run(
    'UploadPart',
    async ({ progress, signal }) => {
      for (let ms = 0; ms < 3000; ms += 250) {
        await sleep(250, undefined, { signal })
        progress()
      }
      await sleep(3000, undefined, { signal })
      return 'stored'
    },
    { partNumber: 2 },
  )
  const [a, b] = await Promise.all([outcome(failing), outcome(slow)])
  t.match(a.error, { code: 'ERR_S3_SINK_PART_FAILED' }, 'the silent one is cut')
  // Cut because the clock ran out, well before its own stall timeout (8 s): the clock did run out while the other
  // one was moving bytes, so that one was in overtime when it went silent.
  t.match(a.error?.message, /once the upload's requests had been failing/, 'by the retry clock')
  t.ok(a.ms < 6000, `the silent one ended after ${a.ms} ms, well within its stall timeout`)
  t.equal(b.error, undefined, 'the one that moved bytes is answered')
})

t.test('a stalled attempt has been failing since its last progress, not since the watchdog called it', async (t) => {
  // stallTimeout 1 s, retryTimeout 1.5 s. Part 1 moves bytes at 0, then nothing: it stalls at 1 s, and the upload has
  // been failing since 0, so the clock runs out at 1.5 s. Part 2 begins at 0.5 s, silent; it stalls at 1.5 s and
  // is not tried again. Counted from part 1's stall, the clock would run out at 2.5 s, and part 2 be tried again.
  const path = pathWith({ stallTimeout: 1000, retryTimeout: 1500 })
  const first = outcome(
    path.run(
      'UploadPart',
      (tools) => {
        tools.progress()
        return silent(tools)
      },
      { partNumber: 1 },
    ),
  )
  await sleep(500)
  const second = await outcome(path.run('UploadPart', silent, { partNumber: 2 }))
  t.match(second.error, { code: 'ERR_S3_SINK_PART_FAILED', attempts: 1 })
  t.match(second.error?.message, /had been failing for retryTimeout \(1500 ms\)/)
  t.match((await first).error, { code: 'ERR_S3_SINK_PART_FAILED' })
})

t.test('with stallTimeout 0 the clock cuts nothing: the watchdog stays off', async (t) => {
  const owner = new AbortController()
  const path = pathWith({ stallTimeout: 0, retryTimeout: 300 }, owner.signal)
  const failing = outcome(
    path.run('UploadPart', (tools) => (tools.attempt === 1 ? Promise.reject(reset()) : silent(tools)), {
      partNumber: 1,
    }),
  )
  const slow = path.run(
    'UploadPart',
    async ({ signal }) => {
      await sleep(OVERTIME_STALL_TIMEOUT + 1000, undefined, { signal })
      return 'stored'
    },
    { partNumber: 2 },
  )
  t.equal((await outcome(slow)).error, undefined, 'answered after more than the overtime silence')
  // The silent one would wait for ever: only its owner ends it.
  t.equal(await Promise.race([failing.then(() => 'settled'), sleep(200, 'pending')]), 'pending')
  owner.abort(new Error('done'))
  t.match((await failing).error, { message: 'done' })
})
