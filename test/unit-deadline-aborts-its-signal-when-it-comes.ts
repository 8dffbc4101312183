import t from 'tap'
import { Deadline } from '../lib/store/deadline.js'

t.test('the signal aborts when the deadline comes, with its reason', async (t) => {
  const reason = new Error('out of time')
  const before = Date.now()
  const deadline = new Deadline(50, () => reason)
  const after = Date.now()
  t.ok(deadline.at >= before + 50 && deadline.at <= after + 50, '50 ms from when it was made')
  // The deadline's timer does not hold the process open (the requests it bounds do): this test's timer does.
  const alive = setTimeout(() => {}, 5000)
  const aborted = await new Promise<unknown>((resolve) =>
    deadline.signal.addEventListener('abort', () => resolve(deadline.signal.reason)),
  )
  clearTimeout(alive)
  t.equal(aborted, reason)
  t.equal(deadline.expired, true)
  t.equal(deadline.reason, reason)
})

t.test('a deadline that has passed is expired even before its timer fires', async (t) => {
  const deadline = new Deadline(0, () => new Error('late'))
  t.equal(deadline.expired, true, 'at once')
  t.match(deadline.reason, { message: 'late' })
})

t.test('end() clears the timer; the time still counts', async (t) => {
  const deadline = new Deadline(30, () => new Error('late'))
  deadline.end()
  let fired = false
  deadline.signal.addEventListener('abort', () => {
    fired = true
  })
  await new Promise((resolve) => setTimeout(resolve, 60))
  t.equal(fired, false, 'no timer fires after end()')
  t.equal(deadline.expired, true, 'but past its time it is expired')
})
