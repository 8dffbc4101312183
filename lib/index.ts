export { S3SinkError, type S3SinkErrorCode, type S3SinkErrorContext } from './errors.js'
export type { KeyFields, KeyOption } from './key-template.js'
export type { ChecksumAlgorithm, S3SinkOptions, S3SinkParams } from './options.js'
export { type PartSizeOptions, type PartSizeSchedule, partSizeSchedule } from './part-size.js'
export { resumeOffset } from './resume.js'
export type { S3RollingSinkOptions } from './rolling-options.js'
export { S3RollingSink, type S3RollingSinkEvents } from './rolling-sink.js'
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
  RolledObject,
  RollingProgress,
  S3SinkResult,
  StoredPart,
} from './types.js'
