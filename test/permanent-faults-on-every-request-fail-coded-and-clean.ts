// Every request the library sends × every fault kind, on every attempt: a coded error in bounded time and
// nothing left behind — except where the table says what stays and how it is reported.
import { AbortMultipartUploadCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import { S3SinkError } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import {
  assertStored,
  type FaultName,
  faultsFor,
  OPERATIONS,
  type Operation,
  runScenario,
} from './fixtures/fault-scenarios.js'
import { lacks } from './fixtures/store-support.js'

const { Bucket, client: direct } = await bucketFor(t, 'permanent')
const timings: string[] = []

interface Expected {
  /** The code the upload fails with; undefined: it succeeds. */
  code?: string
  /** Incomplete uploads of the key left at the end (each reported by `abortError`, or kept for resuming). */
  left: 0 | 1
  /** The code of the clean-up failure the error reports as `abortError`, if any. */
  abortError?: string
}

const CODES: Record<Operation, string> = {
  CreateMultipartUpload: 'ERR_S3_SINK_CREATE_FAILED',
  UploadPart: 'ERR_S3_SINK_PART_FAILED',
  PutObject: 'ERR_S3_SINK_PUT_FAILED',
  CompleteMultipartUpload: 'ERR_S3_SINK_COMPLETE_FAILED',
  AbortMultipartUpload: 'source failed',
  ListParts: 'ERR_S3_SINK_RESUME_FAILED',
  ListMultipartUploads: 'ERR_S3_SINK_LIST_FAILED',
  HeadObject: 'ERR_S3_SINK_COMPLETE_FAILED',
}

function expected(operation: Operation, fault: FaultName): Expected {
  const down = fault === 'store down'
  switch (operation) {
    case 'CreateMultipartUpload':
      // Each attempt whose answer was lost made an upload: all of them are found and aborted. With the store
      // gone for good they cannot even be looked for, and the error says so.
      return down
        ? { code: CODES[operation], left: 0, abortError: 'ERR_S3_SINK_LIST_FAILED' }
        : { code: CODES[operation], left: 0 }
    case 'CompleteMultipartUpload':
      // Every answer lost, but the first Complete went through: HeadObject finds the object, with its ETag.
      if (fault === 'answer lost after the store acted') return { left: 0 }
      return down
        ? { code: CODES[operation], left: 1, abortError: 'ERR_S3_SINK_ABORT_FAILED' }
        : { code: CODES[operation], left: 0 }
    case 'AbortMultipartUpload':
      // Every answer lost, but the first Abort went through: ListParts says the upload is gone.
      if (fault === 'answer lost after the store acted') return { code: CODES[operation], left: 0 }
      return { code: CODES[operation], left: 1, abortError: 'ERR_S3_SINK_ABORT_FAILED' }
    case 'ListParts':
      // The upload being resumed is kept, for another try.
      return { code: CODES[operation], left: 1 }
    case 'HeadObject':
      // The Complete went through, but with the store gone the abort cannot confirm it: reported, nothing left.
      return down
        ? { code: CODES[operation], left: 0, abortError: 'ERR_S3_SINK_ABORT_FAILED' }
        : { code: CODES[operation], left: 0 }
    case 'UploadPart':
      return down
        ? { code: CODES[operation], left: 1, abortError: 'ERR_S3_SINK_ABORT_FAILED' }
        : { code: CODES[operation], left: 0 }
    default:
      return { code: CODES[operation], left: 0 }
  }
}

for (const operation of OPERATIONS) {
  for (const fault of faultsFor(operation)) {
    const want = expected(operation, fault)
    const title = want.code === undefined ? 'succeeds' : `fails with ${want.code}, ${want.left} left`
    // The uploads lost Create answers made are found by their Initiated times.
    const skip = operation === 'CreateMultipartUpload' && fault === 'answer lost after the store acted'
    t.test(
      `${operation} meets "${fault}" on every attempt: ${title}`,
      { skip: skip && lacks('initiatedTimes') },
      async (t) => {
        const outcome = await runScenario(t, direct, Bucket, operation, fault, true)
        timings.push(`${operation} | ${fault} | ${want.code ?? 'stored'} | ${outcome.ms} ms`)
        t.ok(outcome.ms < 30_000, `ended in bounded time (${outcome.ms} ms)`)
        const error = outcome.error as (S3SinkError & { abortError?: S3SinkError }) | undefined
        if (want.code === undefined) {
          t.equal(error, undefined, 'the upload succeeded')
          await assertStored(t, direct, Bucket, outcome)
        } else if (operation === 'AbortMultipartUpload') {
          t.match(error, { message: 'source failed' }, "the source's own error")
        } else {
          t.type(error, S3SinkError)
          t.match(error, { code: want.code, bucket: Bucket })
          t.ok((error?.attempts ?? 0) >= 1 || error?.cause, 'with the attempts made or the cause')
          if (operation === 'HeadObject') {
            t.match(
              error?.message,
              /may have been stored/,
              'Complete lost its answers: the error does not claim failure',
            )
          }
        }
        if (fault === 'stall' && error instanceof S3SinkError && operation !== 'HeadObject') {
          t.match(error.cause, { code: 'ERR_S3_SINK_STALLED' }, 'the cause says it stalled')
        }
        // The listing's own upload is the test's, made straight in the store.
        const left = outcome.left.filter((u) => u.UploadId !== outcome.expectedListed)
        t.equal(left.length, want.left, `${want.left} incomplete upload left`)
        if (want.abortError !== undefined) {
          t.match(error?.abortError, { code: want.abortError }, 'the failed clean-up is reported')
          if (want.left) t.equal(left[0]?.UploadId, error?.uploadId ?? error?.abortError?.uploadId, 'naming the upload')
        } else {
          t.notOk(error?.abortError, 'no abort failed')
        }
        if (operation === 'ListMultipartUploads') t.equal(outcome.listed, undefined)
        for (const { UploadId } of outcome.left) {
          await direct.send(new AbortMultipartUploadCommand({ Bucket, Key: outcome.Key, UploadId }))
        }
        if (operation === 'ListMultipartUploads') {
          await direct
            .send(new AbortMultipartUploadCommand({ Bucket, Key: outcome.Key, UploadId: outcome.expectedListed }))
            .catch(() => {})
        }
      },
    )
  }
}

t.teardown(() => console.log(`# permanent scenarios (operation | fault | outcome | time)\n# ${timings.join('\n# ')}`))
