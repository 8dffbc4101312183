export { S3SinkError, type S3SinkErrorCode, type S3SinkErrorContext } from './errors.js'
export type { ChecksumAlgorithm, S3SinkOptions, S3SinkParams } from './options.js'
export { type PartSizeOptions, type PartSizeSchedule, partSizeSchedule } from './part-size.js'
export { resumeOffset } from './resume.js'
export { S3Sink, type S3SinkEvents } from './sink.js'
export {
  type AbortIncompleteOptions,
  abortIncompleteUploads,
  type IncompleteUpload,
  type ListIncompleteOptions,
  listIncompleteUploads,
} from './stale-uploads.js'
export type {
  ChecksumType,
  ObjectChecksum,
  Operation,
  PartInfo,
  ProgressInfo,
  ResumeState,
  RetryInfo,
  S3SinkResult,
  StoredPart,
} from './types.js'
