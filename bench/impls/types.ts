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
  /**
   * The implementation's own part size and concurrency (what a user gets who sets neither), not the case's; the
   * case's still size the warm-up.
   */
  defaults?: boolean
  /**
   * No warm-up upload: the first upload of a process, as a program of its own always is (the command's
   * reference).
   */
  cold?: boolean
}

/** One way of uploading a stream; returns what it can tell about itself (e.g. peak buffered bytes). */
export interface Impl {
  upload(client: S3Client, target: BenchTarget, c: BenchCase, source: Readable): Promise<Record<string, number>>
  /**
   * A program of its own (./process.ts) that reads the source on its stdin: it is not warmed up (each upload is a
   * new process, as a user runs it), and the CPU time and peak RSS it returns are that process's.
   */
  external?: boolean
  /** Whether it can run on this machine (a program that may not be installed); absent: always. */
  available?(): boolean
}
