import t from 'tap'
import { ADAPTIVE_MAX, ADAPTIVE_START, AdaptiveConcurrency, type RequestMark } from '../lib/sink/concurrency.js'

const MB = 1e6
const MiB = 2 ** 20

interface Link {
  /** Bytes per ms one request may carry, all requests together, and ms from a request's last byte to its answer. */
  perRequest: number
  link: number
  answerMs: number
}

/**
 * A link in simulated time, 1 ms a step: requests share the link evenly up to their own cap, and are answered
 * `answerMs` after their last byte. `ready(now)` says whether the source has a part ready to send. Returns the
 * limit the policy stood at each step, and the bytes acknowledged.
 */
function simulate(
  policy: AdaptiveConcurrency,
  link: Link,
  partSize: number,
  ms: number,
  ready: (now: number) => boolean = () => true,
  throttleAt: readonly number[] = [],
): { limits: number[]; acknowledged: number; busiest: number } {
  const running: { mark: RequestMark; left: number; answerAt?: number }[] = []
  const limits: number[] = []
  let acknowledged = 0
  let busiest = 0
  let waiting = false
  for (let now = 0; now < ms; now++) {
    if (throttleAt.includes(now)) policy.throttled(now)
    waiting = ready(now)
    while (waiting && running.length < policy.limit) {
      running.push({ mark: policy.started(now), left: partSize })
      waiting = ready(now + 0.5)
    }
    busiest = Math.max(busiest, running.length)
    const sending = running.filter((r) => r.left > 0)
    const share = Math.min(link.perRequest, link.link / Math.max(1, sending.length))
    for (const r of sending) {
      r.left -= share
      if (r.left <= 0) r.answerAt = now + link.answerMs
    }
    for (const r of [...running]) {
      if (r.answerAt !== undefined && r.answerAt <= now) {
        running.splice(running.indexOf(r), 1)
        acknowledged += partSize
        policy.completed(now, r.mark, partSize, waiting)
      }
    }
    limits.push(policy.limit)
  }
  return { limits, acknowledged, busiest }
}

/** Bytes per ms at a fixed number in flight, by the same simulation. */
function fixedRate(limit: number, link: Link, partSize: number, ms: number): number {
  const fixed = new AdaptiveConcurrency(0, limit, limit)
  return simulate(fixed, link, partSize, ms).acknowledged / ms
}

const links: Record<string, Link> = {
  // An S3 region from a fast host: 40 MB/s a request, a 400 MB/s link, answers 30 ms after the last byte.
  's3-region': { perRequest: (40 * MB) / 1000, link: (400 * MB) / 1000, answerMs: 30 },
  // A long fat link: 25 MB/s a request, 125 MB/s, 100 ms.
  'long-fat': { perRequest: (25 * MB) / 1000, link: (125 * MB) / 1000, answerMs: 100 },
  // A slow uplink: 100 Mbit/s, 150 ms.
  'slow-uplink': { perRequest: (12.5 * MB) / 1000, link: (12.5 * MB) / 1000, answerMs: 150 },
}

for (const [name, link] of Object.entries(links)) {
  t.test(`on ${name}, the limit settles where the link is full, with no more parts than that takes`, async (t) => {
    const partSize = 8 * MiB
    const ms = name === 'slow-uplink' ? 240_000 : 30_000
    const policy = new AdaptiveConcurrency(0)
    const { limits, acknowledged } = simulate(policy, link, partSize, ms)
    const rate = acknowledged / ms
    const best = Math.max(...[1, 2, 4, 8, 16, 32].map((n) => fixedRate(n, link, partSize, ms)))
    t.ok(
      rate >= 0.9 * best,
      `${((rate / link.link) * 100).toFixed(0)} % of the link; best fixed ${((best / link.link) * 100).toFixed(0)} %`,
    )
    // The fewest in flight that fill the link: the bandwidth-delay product in parts, and what the policy holds.
    const perRequestMs = partSize / link.perRequest + link.answerMs
    const needed = Math.ceil(link.link / (partSize / perRequestMs))
    // Where it settled: the level held longest over the second half (a probe of a level above comes now and then).
    const held = new Map<number, number>()
    for (const limit of limits.slice(limits.length / 2)) held.set(limit, (held.get(limit) ?? 0) + 1)
    const settled = [...held].reduce((a, b) => (b[1] > a[1] ? b : a))[0]
    t.ok(settled >= needed, `settled on ${settled}, the link needs ${needed}`)
    // Levels double and halve, and parts that start together also end together and leave the link idle while they
    // wait for their answers, so one level above the one that holds the need can still bring more: no further,
    // whether the need is above the level the window starts at or below it (a slow uplink: 2 parts).
    const above = 2 * 2 ** Math.ceil(Math.log2(needed))
    t.ok(settled <= above, `settled on ${settled}, the link needs ${needed}`)
  })
}

t.test('over a short upload (1 GiB on the S3-region link, about 3 s), the limit is found in time', async (t) => {
  // What a level is worth is learnt from its first answers, not after every part of it has ended: an upload of a
  // few seconds moves nearly what the best fixed number moves.
  const link = links['s3-region'] as Link
  const partSize = 8 * MiB
  const ms = 3000
  const { acknowledged } = simulate(new AdaptiveConcurrency(0), link, partSize, ms)
  const fixed = [8, 16, 32].map((n) => simulate(new AdaptiveConcurrency(0, n, n), link, partSize, ms).acknowledged)
  const best = Math.max(...fixed)
  t.ok(acknowledged >= 0.95 * best, `${(acknowledged / MiB).toFixed(0)} MiB; best fixed ${(best / MiB).toFixed(0)} MiB`)
})

t.test('a source slower than the link gets no more in flight than it needs', async (t) => {
  const policy = new AdaptiveConcurrency(0)
  const partSize = 8 * MiB
  // 50 MB/s from the source on the S3-region link: a part every 168 ms.
  const every = partSize / ((50 * MB) / 1000)
  let next = 0
  const ready = (now: number) => {
    if (now < next) return false
    next += every
    return true
  }
  const { limits, busiest } = simulate(policy, links['s3-region'] as Link, partSize, 20_000, ready)
  t.equal(Math.max(...limits), ADAPTIVE_START, 'the limit never grew')
  t.ok(busiest <= 3, `at most ${busiest} parts in flight`)
})

t.test('a throttling answer halves the limit, once per cool-down, and the limit climbs back later', async (t) => {
  const policy = new AdaptiveConcurrency(0)
  const link = links['s3-region'] as Link
  const partSize = 8 * MiB
  const { limits } = simulate(policy, link, partSize, 60_000, () => true, [10_000, 10_001, 10_500, 10_900])
  const before = limits[9_999] as number
  t.ok(before >= 12, `settled on ${before} before`)
  t.equal(limits[10_000], Math.floor(before / 2), 'halved at the first answer')
  t.equal(limits[10_950], Math.floor(before / 2), 'not halved again within the cool-down')
  t.ok((limits.at(-1) as number) > Math.floor(before / 2), `back to ${limits.at(-1)} later`)
})

t.test('the limit never passes its maximum, nor falls below one', async (t) => {
  const wide: Link = { perRequest: (40 * MB) / 1000, link: (100_000 * MB) / 1000, answerMs: 30 }
  const policy = new AdaptiveConcurrency(0)
  const { limits } = simulate(policy, wide, 8 * MiB, 20_000)
  t.equal(Math.max(...limits), ADAPTIVE_MAX)
  const throttled = new AdaptiveConcurrency(0, 1)
  for (let now = 0; now < 100_000; now += 5000) throttled.throttled(now)
  t.equal(throttled.limit, 1)
})
