/** Checksum algorithms the sink can compute while bytes arrive. */
export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256'

/**
 * How a whole object's checksum is formed: `FULL_OBJECT`, the checksum of all its bytes (CRCs only, for a
 * multipart upload); `COMPOSITE`, the checksum of its parts' binary checksums, followed by `-<parts>`.
 */
export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE'

/** `result.checksum`: the object's checksum, computed while its bytes streamed, and whether the store agreed. */
export interface ObjectChecksum {
  /** The algorithm: the sink's `checksum` option. */
  algorithm: ChecksumAlgorithm
  /** `FULL_OBJECT` for an object stored with one PutObject, whatever the upload's type. */
  type: ChecksumType
  /** Base64 of the checksum's big-endian bytes; `-<parts>` follows for `COMPOSITE`. */
  value: string
  /**
   * True only when the store's own answer (Complete, PutObject, or a HeadObject with checksum mode) carried the
   * same value. A store that keeps no checksums (Swift) leaves it false.
   */
  verifiedByStore: boolean
}

/** What the store holds once the sink has finished; `sink.result`, set before `'finish'`. */
export interface S3SinkResult {
  /** The bucket the object is in. */
  Bucket: string
  /** The object's key. */
  Key: string
  /**
   * The store's ETag: `"<md5>"` for one PutObject, `"<hash>-<parts>"` for a multipart upload. Empty only when the
   * store answered without one and a HeadObject could not tell it either.
   */
  ETag: string
  /** Bytes stored. */
  size: number
  /** Number of parts; 0 when the object was stored with one PutObject. */
  parts: number
  /** The multipart upload's id (absent for a PutObject). */
  uploadId?: string
  /** The object's version, in a bucket with versioning on. */
  VersionId?: string
  /** The object's URL, as CompleteMultipartUpload gives it (absent for a PutObject). */
  Location?: string
  /** The object's checksum; absent with `checksum: false`. */
  checksum?: ObjectChecksum
}

/** A part the store has acknowledged. */
export interface StoredPart {
  /** The part's number, from 1. */
  partNumber: number
  /** The part's bytes. */
  size: number
  /** The part's ETag, as the store gave it. */
  etag: string
  /** The part's checksum as the sink computed it (absent with `checksum: false`). */
  checksum?: string
  /** Whether the store acknowledged that checksum (echoed or listed it); only then does Complete carry it. */
  checksumAcknowledged?: boolean
}

/** The `'part'` event: a part the store acknowledged, and what it took. */
export interface PartInfo extends StoredPart {
  /** Attempts it took (1 when the first one succeeded). */
  attempts: number
  /** From the first attempt's start to the store's acknowledgement. */
  durationMs: number
}

/** The `'progress'` event and `sink.progress`. */
export interface ProgressInfo {
  /** Bytes taken in from the writer (not yet those still waiting in the Writable's buffer: `writableLength`). */
  bytesWritten: number
  /**
   * Bytes the network has taken: written to a socket and taken by the kernel, as the link drains them (each byte
   * counted once, even when a retry sends it again).
   */
  bytesSent: number
  /** Bytes in parts the store has acknowledged. */
  bytesUploaded: number
  /** Bytes the sink holds now: the part being filled, full parts waiting, parts in flight. */
  bytesBuffered: number
  /** The most bytes the sink has held at once. */
  peakBufferedBytes: number
  /** Parts the store has acknowledged. */
  partsUploaded: number
  /** Parts being sent, or waiting to be. */
  partsInFlight: number
  /**
   * Parts the upload's window lets in flight now: the fixed `concurrency`, or where the adaptive number stands
   * (for every sink of an `UploadBudget` together).
   */
  concurrency: number
}

/**
 * What it takes to resume the upload later: JSON-serializable, versioned, without credentials or keys.
 * Emitted as `'checkpoint'` after each acknowledged part.
 */
export interface ResumeState {
  /** The format of this object; a state of another version is refused. */
  version: 1
  /** The object's bucket: the resuming sink's `params.Bucket` must be the same. */
  bucket: string
  /** The object's key: the resuming sink's `params.Key` must be the same. */
  key: string
  /** The multipart upload to take up. */
  uploadId: string
  /** What the part sizes follow (see `partSizeSchedule`). */
  partSize: number
  /** The upload's `maxParts` option. */
  maxParts: number
  /** The upload's `uniformParts` option. */
  uniformParts: boolean
  /** The upload's `expectedSize` option, if it had one. */
  expectedSize?: number
  /** The upload's `checksum` option: the parts' checksums are checked against it when resuming. */
  checksum: ChecksumAlgorithm | false
  /** The upload's checksum type (absent with `checksum: false`, and in states written before it was kept). */
  checksumType?: ChecksumType
  /** Parts the store acknowledged, in part-number order. */
  parts: StoredPart[]
  /** Bytes in those parts. */
  bytesUploaded: number
}

/** Every request the library sends to the store. */
export type Operation =
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'PutObject'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  | 'ListMultipartUploads'
  | 'HeadObject'

/** The `'retry'` event: an attempt at a request failed and another will follow. */
export interface RetryInfo {
  /** The request: `UploadPart`, `PutObject`, `CreateMultipartUpload`, `CompleteMultipartUpload`, … */
  operation: Operation
  /** The part, for `UploadPart`. */
  partNumber?: number
  /** The attempt that failed (1 for the first). */
  attempt: number
  /** How long the sink waits before the next attempt. */
  delayMs: number
  /**
   * What the attempt failed with (the SDK's error, a network error, or an `ERR_S3_SINK_STALLED`), scrubbed: its
   * name, message, codes, HTTP status and request ids, never the request or response behind it.
   */
  error: unknown
}

/** An object an `S3RollingSink` stored: its `'object'` event, and an entry of `sink.objects`. */
export interface RolledObject {
  /** The object's number in its sink, from 0. */
  index: number
  /** The object's key. */
  key: string
  /** The store's ETag. */
  etag: string
  /** Input bytes the object holds. */
  bytes: number
  /** Bytes the store holds (fewer than `bytes` with gzip). */
  storedBytes: number
  /** Where the object's first byte was in the sink's input: the next object's `offset` is `offset + bytes`. */
  offset: number
  /** When its first byte arrived (its key's time fields are this, in UTC). */
  time: Date
  /** The object's version, in a bucket with versioning on. */
  VersionId?: string
  /** The object's checksum (of the stored bytes); absent with `checksum: false`. */
  checksum?: ObjectChecksum
}

/** `S3RollingSink.progress`. */
export interface RollingProgress {
  /** Bytes taken in from the writer (not yet those still waiting in the Writable's buffer: `writableLength`). */
  bytesWritten: number
  /** Input bytes in objects stored. */
  bytesStored: number
  /** Bytes held in memory: a record not yet placed, and what the objects in flight hold. */
  bytesBuffered: number
  /** The most bytes held at once, as seen when each write arrived. */
  peakBufferedBytes: number
  /** Objects stored (told by `'object'`). */
  objectsStored: number
  /** Objects being filled or completed. */
  objectsInFlight: number
}

/** A part cut from the stream: its bytes in blocks of the sink's pool, in order, and their checksum. */
export interface Part {
  partNumber: number
  /** The part's bytes: the filled part of each of its blocks. */
  chunks: Buffer[]
  size: number
  /** Base64 checksum of the part's bytes, when the sink computes one. */
  checksum: Promise<string> | undefined
  /** Gives the part's blocks back to the pool, for the parts to come. Call once the part is stored or dropped. */
  release(): void
}

/**
 * What an `S3RollingSink` needs to continue after a crash: its `'checkpoint'` event, and its `resume` option.
 * JSON-serialisable, versioned, without credentials or keys. A restart reads the source again from `offset`
 * and hands the state to a new sink as `resume`.
 */
export interface RollingResumeState {
  /** The state's format: 1. */
  version: 1
  /** The sink's id, as `{id}` expands: the resumed sink takes it on. */
  id: string
  /** The bucket the objects go to: `params.Bucket` must be the same. */
  bucket: string
  /** The key template, or `null` when keys came from a function (not checked on resume). */
  key: string | null
  /** The delimiter's bytes in base64, or `null` for none. */
  delimiter: string | null
  /** The sink's `maxObjectBytes`: the resumed sink must have the same, or its cuts would fall elsewhere. */
  maxObjectBytes: number
  /** Whether objects are stored gzipped: the resumed sink must do the same. */
  gzip: boolean
  /** The index the next object started takes. */
  nextIndex: number
  /**
   * Where a restart must read the source from: the first input byte of the oldest object not yet stored (or
   * told), or, with none in flight, the first byte no object holds yet.
   */
  offset: number
  /** The objects begun and not yet told as stored, in index order; the first starts at `offset`. */
  objects: RollingObjectState[]
}

/** An object of a {@link RollingResumeState}: begun, and not yet told as stored. */
export interface RollingObjectState {
  /** Its number in the sink, as `{index}` expands. */
  index: number
  /** Its key, with the time fields expanded: the resumed object keeps it. */
  key: string
  /** Its first input byte. */
  offset: number
  /** When its first byte arrived (ISO 8601). */
  time: string
  /**
   * The input offset it ends at, once it has been cut: a replay cuts it there again, whatever cut it first (size,
   * delimiter, age, `rotate()` or the end of the stream). Absent while it is being filled.
   */
  end?: number
  /** Its multipart upload's state, once the upload has a stored part; absent for an object of one PutObject. */
  upload?: ResumeState
  /**
   * The input bytes it had been handed when `upload` was taken: its stored parts are made of them (gzipped, of
   * fewer), so a replay cuts it no earlier.
   */
  fed?: number
  /** Set once it is stored while an earlier object is not yet: a replay skips its bytes. */
  stored?: {
    /** The stored object's ETag. */
    etag: string
    /** Bytes the store holds. */
    storedBytes: number
    /** The stored object's version, in a versioned bucket. */
    VersionId?: string
  }
}
