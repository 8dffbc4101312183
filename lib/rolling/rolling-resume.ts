// Taking up a rolling sink's state after a crash: for each object it had begun, whether its multipart upload is
// still open (resume it), was completed before the state could say so (the object is stored: do not store it
// again), or is gone; and the uploads of those keys that no state names (a Create whose id was never saved),
// aborted so that none is left behind.
import { S3SinkError } from '../core/errors.js'
import type { ResumeState, RollingObjectState, RollingResumeState } from '../core/types.js'
import { listStoredParts } from '../sink/resume.js'
import { MultipartUpload } from '../store/multipart-upload.js'
import { pickFields, REQUEST_FIELDS, type S3SinkParams } from '../store/params.js'
import type { RequestPath } from '../store/request.js'
import { listUploads } from '../store/stale-uploads.js'

/** How an object of the state is taken up: its upload resumed, found stored, or (neither) stored anew. */
export interface Replayed {
  upload?: ResumeState
  stored?: NonNullable<RollingObjectState['stored']>
}

/**
 * Decides, with the store, how each object of `state` is taken up; aborts the uploads no state names. `params` are
 * the objects' (without Key): what every request repeats (SSE-C keys, the expected owner) goes with these too.
 */
export async function takeUpObjects(
  path: RequestPath,
  state: RollingResumeState,
  params: Omit<S3SinkParams, 'Key'>,
): Promise<Map<number, Replayed>> {
  const replayed = new Map<number, Replayed>()
  for (const object of state.objects) {
    if (object.stored) {
      replayed.set(object.index, { stored: object.stored })
      continue
    }
    const objectParams = { ...params, Key: object.key } as S3SinkParams
    const how = await takeUpObject(path, objectParams, object)
    await abortOthers(path, objectParams, how.upload?.uploadId)
    replayed.set(object.index, how)
  }
  return replayed
}

async function takeUpObject(path: RequestPath, params: S3SinkParams, object: RollingObjectState): Promise<Replayed> {
  const upload = object.upload
  if (!upload?.uploadId) return {}
  try {
    await listStoredParts(path, upload, pickFields(params, REQUEST_FIELDS))
    return { upload }
  } catch (err) {
    if (!(err instanceof S3SinkError && err.code === 'ERR_S3_SINK_UPLOAD_NOT_FOUND')) throw err
  }
  // The upload is gone: completed (its Complete went through, the state had no time to say so) or aborted.
  if (object.end === undefined) return {}
  const found = await uploadOf(path, params, upload.uploadId).stored(upload.parts, path)
  if (!found) return {}
  return {
    stored: {
      etag: found.ETag ?? '',
      storedBytes: upload.parts.reduce((sum, p) => sum + p.size, 0),
      ...(found.VersionId ? { VersionId: found.VersionId } : {}),
    },
  }
}

/** Upload `uploadId` of `params.Key`, taken up to be looked at or aborted, not continued. */
function uploadOf(path: RequestPath, params: S3SinkParams, uploadId: string): MultipartUpload {
  return new MultipartUpload(path, params, { checksum: false, cleanupTimeout: 0, uploadId })
}

/**
 * Aborts the incomplete uploads of `Key` other than `keep`: a Create sent before the crash whose upload id was
 * never saved. Keys come from the sink's template and index, so these are its own.
 */
async function abortOthers(path: RequestPath, params: S3SinkParams, keep: string | undefined): Promise<void> {
  const { Bucket, Key } = params
  const uploads = await listUploads(path, { Bucket, Prefix: Key })
  for (const upload of uploads) {
    if (upload.Key !== Key || upload.UploadId === keep || !upload.UploadId) continue
    await uploadOf(path, params, upload.UploadId).abort(path)
  }
}
