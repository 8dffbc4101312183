// A sink as a WHATWG WritableStream, for fetch() bodies, CompressionStream and anything else that pipes with pipeTo().
//
// Node's own adapter (Writable.toWeb) is not used. It counts chunks against the sink's highWaterMark in bytes, so a
// pipeTo() in front of a sink whose window is full reads on into the WritableStream's queue: 65,536 chunks of
// 64 KiB (4 GiB) pulled from the source while the sink took none (Node 20.20). Its abort() does not wait for the
// sink's clean-up, so pipeTo() rejects while the multipart upload is still being aborted, and a sink that fails
// before close() is seen as Node's AbortError rather than the sink's own error.
import type { Writable } from 'node:stream'

/**
 * A WritableStream hands its chunks to the sink one at a time, each once the one before is taken: the chunks behind
 * it wait in the stream's own queue. What waits there was written all the same, and a point in the write order (a
 * rolling sink's `rotate()`) comes after it: `chunks` counts what was queued, `handed` what reached the sink, and
 * each waiter runs once the chunks queued before it have reached the sink.
 */
interface Front {
  chunks: number
  handed: number
  waiters: { after: number; run: () => void }[]
}

const fronts = new WeakMap<Writable, Front>()

/**
 * Runs `run` once every chunk written so far to `sink`'s WritableStream (`toWeb()`) has been handed to the sink:
 * at once when it has none or none waits, or right after the sink's `write()` of the last of them, before the next.
 */
export function afterQueuedChunks(sink: Writable, run: () => void): void {
  const front = fronts.get(sink)
  if (!front || front.handed >= front.chunks) {
    run()
    return
  }
  front.waiters.push({ after: front.chunks, run })
}

/** Runs the waiters whose chunks have all been handed on (all of them, once no chunk can follow). */
function release(front: Front, all = false): void {
  while (front.waiters.length > 0 && (all || (front.waiters[0] as Front['waiters'][number]).after <= front.handed)) {
    ;(front.waiters.shift() as Front['waiters'][number]).run()
  }
}

/**
 * A `WritableStream<Uint8Array | string>` over `sink`, taking what the sink takes: bytes, and strings as UTF-8
 * (the encoding the sink's own `write()` uses by default, and the one `TextEncoder` gives):
 * - `write()` resolves once the sink has taken the chunk (copied it into a part), so its backpressure (a full
 *   window of parts in flight) holds the writer, and pipeTo() reads no further ahead than the sink's
 *   highWaterMark in bytes;
 * - `close()` ends the sink and resolves once the sink has finished: its object (every object) is stored;
 * - `abort(reason)` destroys the sink with `reason` and resolves once its upload is aborted;
 * - a sink that fails errors the stream with the sink's own error, once its clean-up is done: the write or
 *   close in flight rejects with it, and so does pipeTo().
 */
export function writableStreamOf(sink: Writable): WritableStream<Uint8Array | string> {
  let onClose: (() => void) | undefined
  const front: Front = { chunks: 0, handed: 0, waiters: [] }
  fronts.set(sink, front)
  return new WritableStream<Uint8Array | string>(
    {
      start(controller) {
        if (sink.destroyed) {
          controller.error(sink.errored ?? destroyedError())
          return
        }
        // A sink that fails between writes errors the stream at once, so that pipeTo() stops reading.
        // 'close' comes after the sink's clean-up (its upload aborted).
        onClose = () => {
          if (!sink.writableFinished) controller.error(sink.errored ?? destroyedError())
        }
        sink.once('close', onClose)
        // The failure reaches the writer through the stream's promises; without this, the sink's 'error' event
        // with no listener would end the process.
        sink.on('error', ignore)
      },

      async write(chunk) {
        front.handed++
        if (!(chunk instanceof Uint8Array) && typeof chunk !== 'string') {
          const err = Object.assign(
            new TypeError(`the chunk must be a Uint8Array or a string, got ${chunk === null ? 'null' : typeof chunk}`),
            { code: 'ERR_INVALID_ARG_TYPE' },
          )
          sink.destroy(err)
          release(front)
          throw await failure(sink, err)
        }
        const err = await new Promise<Error | null | undefined>((resolve) => {
          // A sink destroyed while it holds the write may never call it back: its 'close' ends the wait.
          const closed = () => resolve(destroyedError())
          sink.once('close', closed)
          sink.write(chunk, 'utf8', (err) => {
            sink.off('close', closed)
            resolve(err)
          })
          release(front)
        })
        if (err || sink.destroyed) throw await failure(sink, err ?? destroyedError())
      },

      close() {
        return new Promise<void>((resolve, reject) => {
          const finished = () => {
            sink.off('close', closed)
            resolve()
          }
          const closed = () => {
            sink.off('finish', finished)
            if (sink.writableFinished) resolve()
            else reject(sink.errored ?? destroyedError())
          }
          sink.once('finish', finished)
          sink.once('close', closed)
          // Every chunk queued before close() has been handed on; one refused since (the stream closing) never will.
          release(front, true)
          sink.end()
        })
      },

      async abort(reason) {
        if (onClose) sink.off('close', onClose)
        sink.destroy(reason instanceof Error ? reason : abortError(reason))
        release(front, true)
        await whenClosed(sink)
      },
    },
    {
      highWaterMark: Math.max(1, sink.writableHighWaterMark),
      // In bytes, as the sink counts its highWaterMark: a string by its UTF-8 length. Anything else counts 0, so
      // that it reaches write() and is refused there with the coded TypeError (a size of NaN would error the
      // stream with a RangeError about the queuing strategy instead). Called as the writer queues each chunk, so
      // it also counts the chunks written ahead of what the sink has taken (see afterQueuedChunks).
      size: (chunk) => {
        front.chunks++
        if (typeof chunk === 'string') return Buffer.byteLength(chunk, 'utf8')
        return chunk instanceof Uint8Array ? chunk.byteLength : 0
      },
    },
  )
}

function ignore(): void {}

/** Resolves once the sink has closed: its clean-up is done. */
function whenClosed(sink: Writable): Promise<void> {
  if (sink.closed) return Promise.resolve()
  return new Promise((resolve) => sink.once('close', () => resolve()))
}

/** The sink's own error, once its clean-up is done; `fallback` when it has none. */
async function failure(sink: Writable, fallback: Error): Promise<Error> {
  await whenClosed(sink)
  return sink.errored ?? fallback
}

function destroyedError(): Error {
  return Object.assign(new Error('the sink was destroyed before it finished'), { code: 'ERR_STREAM_DESTROYED' })
}

function abortError(reason: unknown): Error {
  return new DOMException(
    reason === undefined ? 'the WritableStream was aborted' : `the WritableStream was aborted: ${String(reason)}`,
    'AbortError',
  )
}
