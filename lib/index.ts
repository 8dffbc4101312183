export { S3SinkError, type S3SinkErrorCode, type S3SinkErrorContext } from './core/errors.js'
export type {
  ChecksumType,
  ObjectChecksum,
  Operation,
  PartInfo,
  ProgressInfo,
  ResumeState,
  RetryInfo,
  RolledObject,
  RollingObjectState,
  RollingProgress,
  RollingResumeState,
  S3SinkResult,
  StoredPart,
} from './core/types.js'
export type { KeyFields, KeyOption } from './rolling/key-template.js'
export type { S3RollingSinkOptions } from './rolling/rolling-options.js'
export { S3RollingSink, type S3RollingSinkEvents } from './rolling/rolling-sink.js'
export { UploadBudget, type UploadBudgetOptions } from './sink/budget.js'
export type { ByteSink } from './sink/byte-writable.js'
export type { ChecksumAlgorithm, S3SinkOptions, S3SinkParams } from './sink/options.js'
export { type PartSizeOptions, type PartSizeSchedule, partSizeSchedule } from './sink/part-size.js'
export { resumeOffset } from './sink/resume.js'
export { S3Sink, type S3SinkEvents } from './sink/sink.js'
export {
  type AbortIncompleteOptions,
  abortIncompleteUploads,
  type IncompleteUpload,
  type ListIncompleteOptions,
  listIncompleteUploads,
} from './store/stale-uploads.js'
