// A source that fails while CreateMultipartUpload is in flight: the store makes the upload all the same — before
// its answer comes back, or late, after the request was held on its way (as a store goes on with a request whose
// client went away) — and none is left once the sink closes.

import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { S3Sink, type S3SinkOptions } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { type Fault, throughProxy } from './fixtures/fault-proxy.js'
import { pseudoRandomBytes } from './fixtures/sources.js'
import { incompleteUploads, MiB } from './fixtures/store.js'
import { lacks } from './fixtures/store-support.js'

const { client: direct, Bucket } = await bucketFor(t, 'create-in-flight')

interface Case {
  name: string
  fault: Fault
  options?: Partial<S3SinkOptions>
  /** Whether the Create's answer reaches the sink, so that it knows the upload it aborts. */
  answered: boolean
  /** The upload is found by its Initiated time, which not every store gives. */
  byList?: boolean
}

// The sink waits a moment (a second) for the answer of a Create in flight: within it, the answer names the upload
// to abort; past it, or when the attempt ends without an answer, the upload is looked for by list, again once the
// store can no longer be making it. The answered cases hold the request a quarter of that second: the store has
// the rest of it to answer, even on a busy machine.
const CASES: Case[] = [
  {
    name: 'the store made the upload, its answer is held back',
    fault: { kind: 'hold', ms: 250 },
    answered: true,
  },
  {
    name: 'the request is held on its way, then reaches the store',
    fault: { kind: 'delay', ms: 250, evenIfGone: true },
    answered: true,
  },
  {
    name: 'the request is held on its way longer than the sink waits, then reaches the store',
    fault: { kind: 'delay', ms: 1800, evenIfGone: true },
    answered: false,
    byList: true,
  },
  {
    name: 'the attempt stalls and gives up before the request reaches the store',
    fault: { kind: 'delay', ms: 1200, evenIfGone: true },
    options: { stallTimeout: 400 },
    answered: false,
    byList: true,
  },
]

for (const c of CASES) {
  t.test(
    `${c.name}: pipeline rejects with the source's error, no upload is left`,
    { skip: c.byList && lacks('initiatedTimes') },
    async (t) => {
      const { proxy, client } = await throughProxy(t, (r) =>
        r.operation === 'CreateMultipartUpload' ? c.fault : undefined,
      )
      const Key = `create-in-flight/${c.name.replaceAll(' ', '-')}`
      const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, ...c.options })
      const closed = new Promise<void>((resolve) => sink.once('close', resolve))
      const boom = new Error('the source broke') as Error & { abortError?: unknown }
      const data = pseudoRandomBytes(6 * MiB, 7)
      let failedAt = 0
      async function* source() {
        for (let at = 0; at < data.length; at += MiB) yield data.subarray(at, at + MiB)
        // The first part is full: the Create is on its way. Fail once the proxy has it.
        while (!proxy.seen.some((r) => r.operation === 'CreateMultipartUpload')) await sleep(10)
        failedAt = Date.now()
        throw boom
      }

      await t.rejects(pipeline(Readable.from(source()), sink), boom, "pipeline rejects with the source's error")
      await closed
      t.equal(
        proxy.seen.filter((r) => r.operation === 'CreateMultipartUpload').length,
        1,
        'one Create was sent: none after the failure',
      )
      if (c.answered) t.ok(sink.uploadId, "the Create's answer was awaited: the sink knows the upload")
      t.equal(boom.abortError, undefined, 'the clean-up did not fail')
      t.same(await incompleteUploads(direct, Bucket, Key), [], 'no incomplete upload is left for the key')
      // Once the held request has reached the store (and a second more), an upload made late would show.
      const late = c.fault.kind === 'hold' || c.fault.kind === 'delay' ? c.fault.ms : 0
      await sleep(Math.max(0, failedAt + late + 1000 - Date.now()))
      t.same(await incompleteUploads(direct, Bucket, Key), [], 'nor one made late')
    },
  )
}
