import { finished } from 'node:stream/promises'
import t from 'tap'
import { S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { objectExists, readObject } from './fixtures/store.js'

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
  await new Promise((resolve) => sink.on('close', resolve))
  t.match(errors, [{ code: 'ERR_STREAM_WRITE_AFTER_END' }])
  t.equal(await objectExists(client, Bucket, 'ended'), false)
})

t.test('a value that is not bytes is refused as Node refuses it', async (t) => {
  const sink = new S3Sink({ client, params: { Bucket, Key: 'never' } })
  t.throws(() => sink.write(42 as never), { code: 'ERR_INVALID_ARG_TYPE' })
  sink.destroy()
})
