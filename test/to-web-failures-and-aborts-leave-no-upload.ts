// sink.toWeb() when things go wrong: a source that errors midway, pipeTo()'s signal aborted midway, abort() on
// the writer, and an upload that fails. pipeTo() settles only once the multipart upload is aborted.
import t from 'tap'
import { S3RollingSink, S3Sink, S3SinkError } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { throughProxy } from './fixtures/fault-proxy.js'
import { pseudoRandomBytes } from './fixtures/sources.js'
import { incompleteUploads, MiB, objectExists } from './fixtures/store.js'

const { client, Bucket } = await bucketFor(t, 'to-web-fail')

/** A ReadableStream of `size` bytes in 256 KiB chunks; `onPulled` sees how far it has come. */
function source(size: number, onPulled: (pulled: number, controller: ReadableStreamDefaultController) => void) {
  const bytes = pseudoRandomBytes(size, 31)
  let pulled = 0
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (pulled >= size) return controller.close()
        controller.enqueue(bytes.subarray(pulled, pulled + 256 * 1024))
        pulled += 256 * 1024
        onPulled(pulled, controller)
      },
    },
    { highWaterMark: 0 },
  )
}

/**
 * A ReadableStream that never ends (256 KiB chunks until cancelled): an abort always comes midway. (Once a source
 * has closed, pipeTo() ignores its signal, as the Streams standard says.)
 */
function endless(): ReadableStream<Uint8Array> {
  const chunk = pseudoRandomBytes(256 * 1024, 34)
  return new ReadableStream<Uint8Array>({ pull: (controller) => controller.enqueue(chunk) }, { highWaterMark: 0 })
}

/** Resolves once `sink` has stored `parts` parts (the multipart upload exists). */
function partsStored(sink: S3Sink, parts: number): Promise<void> {
  return new Promise((resolve) =>
    sink.on('part', () => {
      if (sink.progress.partsUploaded >= parts) resolve()
    }),
  )
}

t.test('a source that errors midway rejects pipeTo() with its error and leaves no upload', async (t) => {
  const Key = 'web/source-error'
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, concurrency: 2 })
  let uploadId: string | undefined
  sink.on('part', () => {
    uploadId = sink.uploadId
  })
  const boom = new Error('the source broke')
  const stored = partsStored(sink, 2)
  const broken = source(40 * MiB, (pulled, controller) => {
    // After two parts are stored the source fails.
    if (pulled >= 12 * MiB) stored.then(() => controller.error(boom))
  })

  await t.rejects(broken.pipeTo(sink.toWeb()), boom, 'pipeTo() rejects with the source error')
  t.ok(uploadId, 'a multipart upload had been created')
  t.ok(sink.destroyed && sink.closed, 'the sink is destroyed and closed when pipeTo() rejects')
  t.same(await incompleteUploads(client, Bucket, Key), [], 'the multipart upload was aborted')
  t.equal(await objectExists(client, Bucket, Key), false, 'no object')
  t.equal(sink.result, undefined)
})

t.test("pipeTo()'s signal aborted midway rejects with its reason and leaves no upload", async (t) => {
  const Key = 'web/signal'
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB, concurrency: 2 })
  const controller = new AbortController()
  partsStored(sink, 1).then(() => controller.abort(new Error('the caller gave up')))
  const uploadId = new Promise((resolve) => sink.once('part', () => resolve(sink.uploadId)))

  await t.rejects(endless().pipeTo(sink.toWeb(), { signal: controller.signal }), {
    message: 'the caller gave up',
  })
  t.ok(await uploadId, 'a multipart upload had been created')
  t.ok(sink.closed, 'the sink is closed when pipeTo() rejects')
  t.same(await incompleteUploads(client, Bucket, Key), [], 'the multipart upload was aborted')
  t.equal(await objectExists(client, Bucket, Key), false)
})

t.test('abort() on the writer destroys the sink and resolves once the upload is aborted', async (t) => {
  const Key = 'web/writer-abort'
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB })
  const errors: unknown[] = []
  sink.on('error', (err) => errors.push(err))
  const writer = sink.toWeb().getWriter()
  const bytes = pseudoRandomBytes(11 * MiB, 32)
  const firstPart = new Promise((resolve) => sink.once('part', resolve))
  for (let offset = 0; offset < bytes.length; offset += MiB) await writer.write(bytes.subarray(offset, offset + MiB))
  await firstPart
  t.ok(sink.uploadId, 'a multipart upload exists')
  await writer.abort('not needed after all')

  t.ok(sink.closed, 'the sink is closed once abort() resolves')
  t.equal((errors[0] as Error | undefined)?.name, 'AbortError', 'the sink failed with an AbortError')
  t.same(await incompleteUploads(client, Bucket, Key), [], 'the multipart upload was aborted')
  await t.rejects(writer.closed, 'the stream is errored')
})

t.test('a failed upload rejects pipeTo() with the S3SinkError, after the upload is aborted', async (t) => {
  const { client: faulty } = await throughProxy(t, (r) =>
    r.operation === 'UploadPart' && r.partNumber === 2
      ? { kind: 'error', status: 403, code: 'AccessDenied', early: true }
      : undefined,
  )
  const Key = 'web/part-refused'
  const sink = new S3Sink({ client: faulty, params: { Bucket, Key }, partSize: 5 * MiB })
  const err = await source(30 * MiB, () => {})
    .pipeTo(sink.toWeb())
    .then(
      () => undefined,
      (e: unknown) => e,
    )

  t.ok(err instanceof S3SinkError, 'an S3SinkError')
  t.equal((err as S3SinkError).code, 'ERR_S3_SINK_PART_FAILED')
  t.equal((err as S3SinkError).partNumber, 2)
  t.equal(err, sink.errored, "the sink's own error")
  t.same(await incompleteUploads(client, Bucket, Key), [], 'the multipart upload was aborted')
})

t.test('a failure on close() rejects close() with the S3SinkError', async (t) => {
  const { client: faulty } = await throughProxy(t, (r) =>
    r.operation === 'CompleteMultipartUpload' ? { kind: 'error', status: 403, code: 'AccessDenied' } : undefined,
  )
  const Key = 'web/complete-refused'
  const sink = new S3Sink({ client: faulty, params: { Bucket, Key }, partSize: 5 * MiB })
  const writer = sink.toWeb().getWriter()
  await writer.write(pseudoRandomBytes(6 * MiB, 33))
  const err = await writer.close().then(
    () => undefined,
    (e: unknown) => e,
  )
  t.equal((err as S3SinkError).code, 'ERR_S3_SINK_COMPLETE_FAILED')
  t.same(await incompleteUploads(client, Bucket, Key), [], 'the multipart upload was aborted')
})

t.test("an aborted pipeTo() into a rolling sink's toWeb() leaves no upload", async (t) => {
  const sink = new S3RollingSink({
    client,
    params: { Bucket },
    key: 'web/rolled/{index}',
    delimiter: null,
    maxObjectBytes: 16 * MiB,
    partSize: 5 * MiB,
  })
  const controller = new AbortController()
  sink.on('object', () => controller.abort(new Error('enough')))
  await t.rejects(endless().pipeTo(sink.toWeb(), { signal: controller.signal }), {
    message: 'enough',
  })
  t.ok(sink.closed)
  t.ok(sink.objects.length >= 1, 'an object was stored first')
  t.same(await incompleteUploads(client, Bucket), [], 'no upload left incomplete')
})
