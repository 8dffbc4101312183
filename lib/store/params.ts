// The object's request parameters: what Create (or PutObject) receives, and the fields every later request about
// the same object must repeat.
import type { CreateMultipartUploadCommandInput, PutObjectCommandInput } from '@aws-sdk/client-s3'

/**
 * What CreateMultipartUpload (or PutObject, for a stream shorter than one part) receives: the object's
 * Bucket, Key and headers, without a body. Checksum values and lengths are computed by the sink.
 */
export type S3SinkParams = Omit<
  PutObjectCommandInput,
  | 'Body'
  | 'ContentLength'
  | 'ContentMD5'
  | 'ChecksumCRC32'
  | 'ChecksumCRC32C'
  | 'ChecksumCRC64NVME'
  | 'ChecksumSHA1'
  | 'ChecksumSHA256'
> &
  Pick<CreateMultipartUploadCommandInput, 'ChecksumType'> & {
    /** The bucket to store the object in. Required. */
    Bucket: string
    /** The object's key, at most 1,024 bytes of UTF-8. Required. */
    Key: string
  }

/**
 * Fields of the object's params that every request about it must repeat, not only the one that creates it:
 * SSE-C keys, requester pays, the bucket-owner check.
 */
export const REQUEST_FIELDS = [
  'SSECustomerAlgorithm',
  'SSECustomerKey',
  'SSECustomerKeyMD5',
  'RequestPayer',
  'ExpectedBucketOwner',
] as const

/** The given fields of `params` that are set. */
export function pickFields(params: S3SinkParams, fields: readonly string[]): Record<string, unknown> {
  const all = params as Record<string, unknown>
  return Object.fromEntries(fields.filter((f) => all[f] !== undefined).map((f) => [f, all[f]]))
}
