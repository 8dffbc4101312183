// Every request the library sends × every fault kind, on the first attempt only: the request is tried again
// and the outcome is as if nothing had happened — the same bytes in the store, no upload left behind.
import { AbortMultipartUploadCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import { bucketFor } from './fixtures/bucket.js'
import { assertStored, faultsFor, OPERATIONS, runScenario } from './fixtures/fault-scenarios.js'

const { Bucket, client: direct } = await bucketFor(t, 'transient')
const timings: string[] = []

for (const operation of OPERATIONS) {
  for (const fault of faultsFor(operation)) {
    t.test(`${operation} meets "${fault}" once`, async (t) => {
      const outcome = await runScenario(t, direct, Bucket, operation, fault, false)
      timings.push(`${operation} | ${fault} | ${outcome.ms} ms`)
      if (operation === 'ListMultipartUploads') {
        t.equal(outcome.error, undefined, 'the listing succeeded')
        t.same(outcome.listed, [outcome.expectedListed], 'and found the one upload of the key')
        t.same(
          outcome.left.map((u) => u.UploadId),
          [outcome.expectedListed],
          'which a listing leaves as it was',
        )
        await direct.send(
          new AbortMultipartUploadCommand({ Bucket, Key: outcome.Key, UploadId: outcome.expectedListed }),
        )
        return
      }
      t.same(outcome.left, [], 'no incomplete upload is left')
      if (operation === 'AbortMultipartUpload') {
        t.match(outcome.error, { message: 'source failed' }, 'the source error, as Node reports it')
        t.notOk((outcome.error as { abortError?: unknown }).abortError, 'and the abort went through')
        return
      }
      t.equal(outcome.error, undefined, 'the upload succeeded')
      await assertStored(t, direct, Bucket, outcome)
    })
  }
}

t.teardown(() => console.log(`# transient scenarios (operation | fault | time)\n# ${timings.join('\n# ')}`))
