// What S3-compatible stores do differently from AWS where it changes an upload's outcome, known in one place:
// a request refused because the store does not implement what it asked for, encryption headers a store takes
// and ignores, and the other name a store gives to an upload it no longer knows. (Ceph RGW's empty ETag from
// Complete is filled in by store/head-object.ts; a part's checksum goes into Complete only when the store echoed
// it, sink/sink.ts and store/multipart-upload.ts.)
import type { S3Client } from '@aws-sdk/client-s3'
import { errorCode, httpStatus } from '../core/errors.js'

/**
 * Features a request may ask for that some stores do not implement: a name users know, the input fields that ask
 * for it, and words a store's refusal uses for it.
 */
const FEATURES: readonly { name: string; fields: readonly string[]; words: RegExp }[] = [
  {
    name: 'server-side encryption',
    fields: ['ServerSideEncryption', 'SSEKMSKeyId', 'SSEKMSEncryptionContext', 'BucketKeyEnabled'],
    words: /encrypt|kms/i,
  },
  {
    name: 'server-side encryption with customer keys (SSE-C)',
    fields: ['SSECustomerAlgorithm', 'SSECustomerKey', 'SSECustomerKeyMD5'],
    words: /customer|encrypt/i,
  },
  { name: 'conditional writes', fields: ['IfNoneMatch', 'IfMatch'], words: /condition|match/i },
  {
    name: 'object lock',
    fields: ['ObjectLockMode', 'ObjectLockRetainUntilDate', 'ObjectLockLegalHoldStatus'],
    words: /lock|retention|legal hold/i,
  },
  { name: 'object tagging', fields: ['Tagging'], words: /tag/i },
  { name: 'storage classes', fields: ['StorageClass'], words: /storage class/i },
  {
    name: 'ACLs',
    fields: ['ACL', 'GrantFullControl', 'GrantRead', 'GrantReadACP', 'GrantWriteACP'],
    words: /acl|grant/i,
  },
  { name: 'website redirects', fields: ['WebsiteRedirectLocation'], words: /redirect/i },
  {
    name: 'checksums (`checksum: false` sends none)',
    fields: ['ChecksumAlgorithm', 'ChecksumType'],
    words: /checksum|crc|sha/i,
  },
]

const ENCRYPTION = FEATURES.slice(0, 2)

/** The features `input` asks for, each with the fields that ask for it (names only: values may be keys). */
function asked(input: object | undefined, among = FEATURES): { name: string; fields: string[]; words: RegExp }[] {
  if (!input) return []
  const given = input as Record<string, unknown>
  return among
    .map((feature) => ({ ...feature, fields: feature.fields.filter((f) => given[f] !== undefined) }))
    .filter((feature) => feature.fields.length > 0)
}

function named(features: readonly { name: string; fields: string[] }[]): string {
  return features.map((f) => `${f.name} (${f.fields.join(', ')})`).join(' or ')
}

/**
 * When `err` (the last answer to a request with `input`) is the store refusing something it does not support,
 * says what, for the message of an `ERR_S3_SINK_NOT_SUPPORTED`; undefined for any other failure.
 *
 * - `501 Not Implemented`: the store does not implement a feature the request asked for — Swift's s3api for
 *   server-side encryption and for a conditional PutObject. The feature the store's message speaks of, or else
 *   every one the request asked for, is named; with none, the request itself.
 * - `400 InvalidRequest` to a request asking for server-side encryption sent over plain HTTP: Ceph RGW (and AWS,
 *   for SSE-C) take encryption only over TLS.
 */
export async function refusal(
  err: unknown,
  operation: string,
  input: object | undefined,
  client: S3Client,
): Promise<string | undefined> {
  const status = httpStatus(err)
  if (status === 501 || errorCode(err) === 'NotImplemented') {
    const features = asked(input)
    if (features.length === 0) return `the store does not implement ${operation}`
    const message = err instanceof Error ? err.message : ''
    const spoken = features.filter((f) => f.words.test(message))
    return `the store does not support ${named(spoken.length > 0 ? spoken : features)}`
  }
  if (status === 400 && errorCode(err) === 'InvalidRequest') {
    const encryption = asked(input, ENCRYPTION)
    if (encryption.length > 0 && (await plainHttp(client))) {
      return (
        `the store refuses ${named(encryption)} over plain HTTP: some stores (Ceph RGW; AWS for SSE-C) take ` +
        'encryption only over TLS, so use an https:// endpoint'
      )
    }
  }
  return undefined
}

/** Whether the client sends to a custom endpoint over plain HTTP (AWS's own endpoints are HTTPS). */
async function plainHttp(client: S3Client): Promise<boolean> {
  const endpoint = client.config.endpoint as (() => Promise<{ protocol?: string }>) | undefined
  const resolved = await endpoint?.().catch(() => undefined)
  return resolved?.protocol === 'http:'
}

/**
 * When `params` ask for server-side encryption and the store's answer (to CreateMultipartUpload or PutObject)
 * does not confirm it as AWS does (`x-amz-server-side-encryption`, or for SSE-C
 * `x-amz-server-side-encryption-customer-algorithm`): the store took the headers and ignored them, and stores the
 * bytes unencrypted. Swift's s3api and moto do so with SSE-C (the object reads back without the key), Ceph RGW
 * 16.2 with `ServerSideEncryption: 'AES256'` (it keeps the header as an attribute and encrypts nothing). Says
 * so, for the message of an `ERR_S3_SINK_NOT_SUPPORTED`; undefined when nothing was asked or it is confirmed.
 */
export function ignoredEncryption(
  params: { ServerSideEncryption?: string | undefined; SSECustomerAlgorithm?: string | undefined },
  answer: { ServerSideEncryption?: string | undefined; SSECustomerAlgorithm?: string | undefined },
): string | undefined {
  const ignored = [
    params.ServerSideEncryption !== undefined && answer.ServerSideEncryption === undefined
      ? `server-side encryption (ServerSideEncryption: ${params.ServerSideEncryption})`
      : undefined,
    params.SSECustomerAlgorithm !== undefined && answer.SSECustomerAlgorithm === undefined
      ? 'server-side encryption with customer keys (SSE-C)'
      : undefined,
  ].filter((what) => what !== undefined)
  if (ignored.length === 0) return undefined
  return (
    `the store does not support ${ignored.join(' or ')}: it took the request without confirming the encryption, ` +
    'as stores that ignore those headers do'
  )
}

/**
 * Whether the store answered that it does not know the upload: `NoSuchUpload` — or `NoSuchKey`, from Swift's
 * s3api once the upload was completed and from Ceph RGW once it was aborted.
 */
export function unknownUpload(err: unknown): boolean {
  const code = errorCode(err)
  return code === 'NoSuchUpload' || code === 'NoSuchKey'
}
