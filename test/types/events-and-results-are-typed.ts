// Compiled, never run (`npm run typecheck`, and against the packed declarations in the packaging test): every
// listener method types each event's arguments, Writable's events included, and a listener of the wrong type for
// a known event does not compile (each `@ts-expect-error` below fails the build if its line compiles).
import type { Writable } from 'node:stream'
import {
  type PartInfo,
  type ProgressInfo,
  type ResumeState,
  type RetryInfo,
  type S3RollingSink,
  type S3Sink,
  S3SinkError,
  type S3SinkEvents,
  type S3SinkResult,
} from '../../lib/index.js'

/** True when T is `any`. */
type IsAny<T> = 0 extends 1 & T ? true : false
const notAny = <T>(_value: T, _proof: IsAny<T> extends false ? true : never) => {}

export function listenersAreTyped(sink: S3Sink): void {
  sink.on('part', (info) => notAny(info, true))
  sink.on('part', (info: PartInfo) => info.partNumber + info.size + info.attempts)
  sink.once('progress', (p: ProgressInfo) => p.bytesUploaded)
  sink.addListener('checkpoint', (state: ResumeState) => state.uploadId)
  sink.prependListener('retry', (info: RetryInfo) => info.operation)
  sink.prependOnceListener('part', (info) => info.etag.length)
  sink.off('progress', (p) => p.partsInFlight)
  sink.removeListener('checkpoint', (state) => state.parts.length)

  // Writable's own events keep their types.
  sink.on('error', (err) => {
    notAny(err, true)
    const e: S3SinkError | Error = err
    if (err instanceof S3SinkError) err.code satisfies string
    return e
  })
  sink.once('error', (err: Error) => err.message)
  sink.on('close', () => {}).on('finish', () => {})
  sink.once('drain', () => {})
  sink.on('pipe', (src) => src.readableLength)
  sink.on('unpipe', (src) => src.readableEnded)

  // Events outside the map stay possible, as on any EventEmitter.
  sink.on('custom', (n: number) => n)

  // @ts-expect-error progress is a ProgressInfo, not a string
  sink.on('progress', (p: string) => p)
  // @ts-expect-error the error is an Error, not a string
  sink.on('error', (err: string) => err)
  // @ts-expect-error 'finish' passes no arguments
  sink.once('finish', (n: number) => n)
  // @ts-expect-error ResumeState has no `foo`
  sink.addListener('checkpoint', (state) => state.foo)
  // @ts-expect-error a RetryInfo is not a PartInfo
  sink.prependListener('retry', (info: PartInfo) => info)
  // @ts-expect-error a ProgressInfo is not a number
  sink.prependOnceListener('progress', (p: number) => p)
  // @ts-expect-error off takes the same listener types as on
  sink.off('part', (info: ProgressInfo) => info)
  // @ts-expect-error removeListener too
  sink.removeListener('pipe', (src: string) => src)

  sink.emit('progress', sink.progress)
  // @ts-expect-error emit checks the arguments as well
  sink.emit('part', 'not a part')
  // @ts-expect-error and their number
  sink.emit('drain', 1)
}

export function resultsSayWhatIsAlwaysThere(result: S3SinkResult): string {
  // ETag, size and parts are always there; uploadId, VersionId, Location and checksum may not be.
  const always: [string, number, number] = [result.ETag, result.size, result.parts]
  // @ts-expect-error absent for an object stored with one PutObject
  const uploadId: string = result.uploadId
  return `${always.join()} ${uploadId} ${result.checksum?.value ?? ''}`
}

export function theSinkIsAWritable(sink: S3Sink): Writable {
  const events: keyof S3SinkEvents = 'retry'
  return sink.on(events, () => {}) satisfies Writable
}

export function toWebTakesBytesAndStrings(
  sink: S3Sink,
  rolling: S3RollingSink,
  bytes: ReadableStream<Uint8Array>,
  text: ReadableStream<string>,
): Promise<void>[] {
  const writer = sink.toWeb().getWriter()
  void writer.write(new Uint8Array([1]))
  void writer.write('text')
  // @ts-expect-error a number is neither bytes nor a string
  void writer.write(42)
  return [bytes.pipeTo(sink.toWeb()), text.pipeTo(rolling.toWeb())]
}
