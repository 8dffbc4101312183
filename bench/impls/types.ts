import type { Readable } from 'node:stream'
import type { S3Client } from '@aws-sdk/client-s3'

export interface BenchTarget {
  endpoint: string
  region: string
  accessKeyId: string
  secretAccessKey: string
  bucket: string
}

export interface BenchCase {
  bytes: number
  partSize: number
  concurrency: number
  key: string
  /** A source of fresh memory per chunk, so that RSS shows what the client keeps (memory runs). */
  fresh?: boolean
  /** With `fresh`: chunks are slices of fresh buffers of this many bytes (a kept slice keeps its buffer). */
  slab?: number
  /** The source's chunk size in bytes (at most 64 KiB, the default). */
  chunkSize?: number
  /**
   * Small-object runs: this many objects of `bytes` each, `objectConcurrency` at once, one upload per object (the
   * part size and concurrency then apply to each upload).
   */
  objects?: number
  objectConcurrency?: number
}

/** One way of uploading a stream; returns what it can tell about itself (e.g. peak buffered bytes). */
export interface Impl {
  upload(client: S3Client, target: BenchTarget, c: BenchCase, source: Readable): Promise<Record<string, number>>
}
