// HeadObject: what the store holds under the sink's key, through the request path.
import { HeadObjectCommand, type HeadObjectCommandOutput } from '@aws-sdk/client-s3'
import { checksumMember } from '../checksum/checksum.js'
import { S3SinkError } from '../core/errors.js'
import type { ChecksumAlgorithm } from '../core/types.js'
import { pickFields, REQUEST_FIELDS, type S3SinkParams } from './params.js'
import type { RequestPath } from './request.js'

/** What HeadObject tells of the object: its ETag, size, version, and the checksum the store keeps for it. */
export interface HeadInfo {
  ETag?: string | undefined
  ContentLength?: number | undefined
  VersionId?: string | undefined
  /** The store's value of `checksum` for the object (`-<parts>` when composite), when it keeps one. */
  checksum?: string | undefined
}

/**
 * The object `params` names (a version of it, if given), with the store's checksum of `checksum` when there is
 * one (checksum mode); undefined when there is no such object (404).
 */
export async function headObject(
  path: RequestPath,
  params: S3SinkParams,
  checksum: ChecksumAlgorithm | false,
  VersionId?: string,
): Promise<HeadInfo | undefined> {
  let value: HeadObjectCommandOutput
  try {
    ;({ value } = await path.send<HeadObjectCommandOutput>(
      'HeadObject',
      () =>
        new HeadObjectCommand({
          ...pickFields(params, REQUEST_FIELDS),
          Bucket: params.Bucket,
          Key: params.Key,
          // 'null' is the version of an unversioned write: the current one (moto refuses it as a version id).
          ...(VersionId && VersionId !== 'null' ? { VersionId } : {}),
          ...(checksum === false ? {} : { ChecksumMode: 'ENABLED' }),
        } as never),
    ))
  } catch (err) {
    if (err instanceof S3SinkError && err.statusCode === 404) return undefined
    throw err
  }
  return {
    ETag: value.ETag,
    ContentLength: value.ContentLength,
    VersionId: value.VersionId,
    ...(checksum === false ? {} : { checksum: value[checksumMember(checksum)] }),
  }
}

/** What the store said when it stored the object (Complete's or PutObject's answer). */
export interface StoredAnswer {
  ETag?: string | undefined
  VersionId?: string | undefined
  /** The store's checksum of the object, of the upload's algorithm. */
  checksum?: string | undefined
}

/**
 * The answer of a request that stored the object, completed by one HeadObject when it lacks the ETag (Ceph RGW
 * answers Complete with an empty one) or the object's checksum (stores that report it only in checksum mode).
 * The object is stored either way: a HeadObject that fails leaves them unknown, no more.
 */
export async function completeAnswer<T extends StoredAnswer>(
  path: RequestPath,
  params: S3SinkParams,
  checksum: ChecksumAlgorithm | false,
  answer: T,
): Promise<T> {
  if (answer.ETag && (checksum === false || answer.checksum)) return answer
  const head = await headObject(path, params, checksum, answer.VersionId).catch(() => undefined)
  return {
    ...answer,
    ETag: answer.ETag || head?.ETag,
    ...(checksum === false ? {} : { checksum: answer.checksum || head?.checksum }),
  }
}
