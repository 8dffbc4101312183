export { S3SinkError, type S3SinkErrorCode, type S3SinkErrorContext } from './errors.js'
export type { ChecksumAlgorithm, S3SinkOptions, S3SinkParams } from './options.js'
export { S3Sink, type S3SinkEvents } from './sink.js'
export type { PartInfo, ProgressInfo, ResumeState, S3SinkResult, StoredPart } from './types.js'
