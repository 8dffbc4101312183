/** S3's limits on multipart uploads: https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html */
export const MIB = 1024 * 1024
export const GIB = 1024 * MIB
/** Smallest part S3 accepts, for every part but the last (EntityTooSmall otherwise). */
export const MIN_PART_SIZE = 5 * MIB
/** Largest part S3 accepts. */
export const MAX_PART_SIZE = 5 * GIB
/** Part numbers run from 1 to 10,000. */
export const S3_MAX_PARTS = 10_000
/** S3's longest key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024
