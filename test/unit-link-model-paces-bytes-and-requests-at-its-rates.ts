import t from 'tap'
import { LINKS, linksNamed } from '../bench/links.js'
import { TokenBucket } from '../bench/token-bucket.js'

const CHUNK = 64 * 1024

/**
 * Readers that take a chunk from `bucket` each time they read, reading at once while they owe nothing beyond
 * `pauseMs` and otherwise sleeping what they owe plus `lateMs` (a busy machine's late timer); answers the bytes
 * they read per second over `ms`.
 */
function readAt(bucket: TokenBucket, readers: number, ms: number, { pauseMs = 4, lateMs = 0 } = {}): number {
  const wakeAt = Array.from({ length: readers }, () => 0)
  let bytes = 0
  for (;;) {
    // The reader whose turn comes first reads next.
    const reader = wakeAt.indexOf(Math.min(...wakeAt))
    const now = wakeAt[reader] as number
    if (now >= ms) break
    bytes += CHUNK
    const wait = bucket.take(CHUNK, now)
    // Reading a chunk takes a little time of its own (10 µs), so that time moves while nobody waits.
    wakeAt[reader] = now + 0.01 + (wait > pauseMs ? wait + lateMs : 0)
  }
  return (bytes / ms) * 1000
}

t.test('a full bucket gives its burst at once, then asks for the time the rest takes at the rate', async (t) => {
  const bucket = new TokenBucket(1e6, 100_000)
  t.equal(bucket.take(100_000, 0), 0, 'the burst needs no wait')
  t.equal(bucket.take(100_000, 0), 100, '100 kB more at 1 MB/s: 100 ms')
  t.equal(bucket.take(50_000, 0), 150, 'the debts add up')
  t.equal(bucket.take(0, 150), 0, 'once the time owed has passed, nothing is owed')
})

t.test('a bucket made empty paces from its first byte, and makes up for late timers within its burst', async (t) => {
  const bucket = new TokenBucket(1e6, 100_000, 1000)
  t.equal(bucket.take(100_000, 1000), 100, 'its first 100 kB wait 100 ms at 1 MB/s: no free burst')
  t.equal(bucket.take(100_000, 1150), 50, 'woken 50 ms late, the next 100 kB wait only 50 ms')
  t.equal(bucket.take(100_000, 1500), 0, 'woken 300 ms late: the burst makes up 100 ms of it at once')
  t.equal(bucket.take(100_000, 1500), 100, 'and no more')
})

t.test('time the bucket sat idle fills it no further than its burst', async (t) => {
  const bucket = new TokenBucket(1e6, 100_000)
  bucket.take(100_000, 0)
  t.equal(bucket.take(300_000, 10_000), 200, 'after 10 s idle, 300 kB still waits for the 200 kB beyond the burst')
})

t.test('a reader that sleeps what it owes reads at the rate, one reader or many sharing the bucket', async (t) => {
  for (const [rate, readers] of [
    [40e6, 1],
    [400e6, 1],
    [400e6, 16],
    [12.5e6, 4],
  ] as const) {
    const read = readAt(new TokenBucket(rate, rate * 0.02), readers, 20_000)
    t.ok(
      Math.abs(read / rate - 1) < 0.01,
      `${readers} reader(s) at ${rate / 1e6} MB/s: ${(read / 1e6).toFixed(2)} MB/s`,
    )
  }
})

t.test('the burst lets readers whose timers fire late catch up; without one, the late time is lost', async (t) => {
  const rate = 400e6
  const withBurst = readAt(new TokenBucket(rate, rate * 0.02), 4, 20_000, { lateMs: 3 })
  t.ok(withBurst / rate > 0.99, `20 ms burst, timers 3 ms late: ${(withBurst / 1e6).toFixed(1)} MB/s`)
  const without = readAt(new TokenBucket(rate, CHUNK), 1, 20_000, { lateMs: 3 })
  t.ok(without / rate < 0.7, `no burst, one reader, timers 3 ms late: ${(without / 1e6).toFixed(1)} MB/s`)
})

t.test('a request rate admits a second of requests at once, then one per 1/rate', async (t) => {
  const admitted = new TokenBucket(30, 30)
  const first = Array.from({ length: 40 }, () => admitted.tryTake(1, 0))
  t.equal(first.filter(Boolean).length, 30, '30 of 40 arriving at once')
  t.notOk(admitted.tryTake(1, 20), 'none 20 ms later')
  t.ok(admitted.tryTake(1, 34), 'one after 1/30 s')
  t.notOk(admitted.tryTake(1, 34), 'and only one')
  let over10s = 0
  for (let ms = 1000; ms < 11_000; ms += 5) if (admitted.tryTake(1, ms)) over10s++
  // The bucket filled again while nothing arrived (34 ms to 1 s): its second of requests, then 30 a second.
  t.ok(Math.abs(over10s - 330) <= 3, `${over10s} admitted over 10 s of requests every 5 ms`)
})

t.test('a bucket refuses a rate it cannot pace at', async (t) => {
  t.throws(() => new TokenBucket(0, 1), RangeError)
  t.throws(() => new TokenBucket(Number.NaN, 1), RangeError)
  t.throws(() => new TokenBucket(1, -1), RangeError)
})

t.test('links are named one by one, in a list, or all', async (t) => {
  t.same(
    linksNamed('all').map((l) => l.name),
    LINKS.map((l) => l.name),
  )
  t.same(
    linksNamed('long-fat,s3-region').map((l) => l.name),
    ['long-fat', 's3-region'],
  )
  t.throws(() => linksNamed('moon'), /unknown link moon/)
  for (const link of LINKS) {
    t.ok(link.linkBandwidth > 0 && link.requestBandwidth <= link.linkBandwidth, `${link.name}: caps in order`)
  }
  const region = linksNamed('s3-region')[0]
  t.equal(region?.linkBandwidth, (region?.requestBandwidth ?? 0) * 10, 's3-region: the link ten times a request')
})
