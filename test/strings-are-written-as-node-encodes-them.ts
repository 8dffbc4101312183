import { finished } from 'node:stream/promises'
import t from 'tap'
import { S3RollingSink, S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { incompleteUploads, objectExists, readObject } from './fixtures/store.js'

const { client, Bucket } = await bucketFor(t, 'strings')

t.test('strings in any encoding, Buffers and Uint8Arrays end up as their bytes', async (t) => {
  const sink = new S3Sink({ client, params: { Bucket, Key: 'text' } })
  sink.write('héllo ')
  sink.write('d29ybGQg', 'base64')
  sink.write(Buffer.from('and '))
  sink.write(new Uint8Array([0x62, 0x79, 0x74, 0x65, 0x73]))
  sink.end(' ✓', 'utf8')
  await finished(sink)
  t.equal((await readObject(client, Bucket, 'text')).toString('utf8'), 'héllo world and bytes ✓')
})

t.test('writing after end fails as Node does: the stream errors and stores nothing', async (t) => {
  const sink = new S3Sink({ client, params: { Bucket, Key: 'ended' } })
  const errors: unknown[] = []
  sink.on('error', (err) => errors.push(err))
  sink.end('done')
  const late = await new Promise((resolve) => sink.write('more', resolve))
  t.match(late, { code: 'ERR_STREAM_WRITE_AFTER_END' })
  await new Promise<void>((resolve) => sink.on('close', resolve))
  t.match(errors, [{ code: 'ERR_STREAM_WRITE_AFTER_END' }])
  t.equal(await objectExists(client, Bucket, 'ended'), false)
})

t.test('a value that is not bytes is refused as Node refuses it, and the sink closes', async (t) => {
  for (const [value, code] of [
    [42, 'ERR_INVALID_ARG_TYPE'],
    [{ a: 1 }, 'ERR_INVALID_ARG_TYPE'],
    [null, 'ERR_STREAM_NULL_VALUES'],
  ] as const) {
    const sink = new S3Sink({ client, params: { Bucket, Key: 'never' } })
    t.throws(() => sink.write(value as never), { code }, `${String(value)} throws`)
    t.equal(sink.destroyed, true, `${String(value)}: the sink is destroyed`)
  }
})

t.test('a value that is not bytes in the middle of an upload aborts the upload', async (t) => {
  const Key = 'half-then-garbage'
  const sink = new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * 1024 * 1024 })
  const closed = new Promise<void>((resolve) => sink.on('close', resolve))
  const errors: unknown[] = []
  sink.on('error', (err) => errors.push(err))
  const created = new Promise((resolve) => sink.once('part', resolve))
  sink.write(Buffer.alloc(6 * 1024 * 1024, 1))
  await created
  t.ok(sink.uploadId, 'a multipart upload was under way')
  t.throws(() => sink.write({ not: 'bytes' } as never), { code: 'ERR_INVALID_ARG_TYPE' })
  await closed
  t.same(errors, [], 'the throw is the report: no error event nobody listens to')
  t.same(await incompleteUploads(client, Bucket, Key), [], 'the upload was aborted')
  t.equal(await objectExists(client, Bucket, Key), false)
})

t.test('a rolling sink refuses a value that is not bytes the same way, aborting the object in flight', async (t) => {
  const sink = new S3RollingSink({
    client,
    params: { Bucket },
    key: 'rolling-garbage/{index}',
    partSize: 5 * 1024 * 1024,
  })
  const closed = new Promise<void>((resolve) => sink.on('close', resolve))
  const errors: unknown[] = []
  sink.on('error', (err) => errors.push(err))
  sink.write('a record\n')
  sink.write(Buffer.alloc(6 * 1024 * 1024, 'x\n'))
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.throws(() => sink.write(42 as never), { code: 'ERR_INVALID_ARG_TYPE' })
  await closed
  t.same(errors, [], 'the throw is the report')
  t.same(await incompleteUploads(client, Bucket, 'rolling-garbage/'), [], 'the object in flight was aborted')
  t.same(sink.objects, [])
})

t.test('toWeb() takes strings as the sink does, stored as UTF-8, and still refuses what is neither', async (t) => {
  const sink = new S3Sink({ client, params: { Bucket, Key: 'web-text' } })
  const text = new ReadableStream<string>({
    start(controller) {
      for (const chunk of ['héllo ', 'wörld ', '✓\n']) controller.enqueue(chunk)
      controller.close()
    },
  })
  await text.pipeTo(sink.toWeb())
  t.equal((await readObject(client, Bucket, 'web-text')).toString('utf8'), 'héllo wörld ✓\n')

  const rolling = new S3RollingSink({ client, params: { Bucket }, key: 'web-rolling/{index}' })
  const writer = rolling.toWeb().getWriter()
  await writer.write('één\n')
  await writer.write(new TextEncoder().encode('twee\n'))
  await writer.close()
  t.equal(rolling.objects.length, 1)
  t.equal((await readObject(client, Bucket, rolling.objects[0]?.key as string)).toString('utf8'), 'één\ntwee\n')

  const refusing = new S3Sink({ client, params: { Bucket, Key: 'web-never' } })
  const bad = refusing.toWeb().getWriter()
  await t.rejects(bad.write({ not: 'bytes' } as never), { code: 'ERR_INVALID_ARG_TYPE' })
  t.equal(await objectExists(client, Bucket, 'web-never'), false)
})
