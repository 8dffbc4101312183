import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { type RolledObject, S3RollingSink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { checkRolled } from './fixtures/rolling.js'
import { readObject } from './fixtures/store.js'

const { client, Bucket } = await bucketFor(t, 'rolling-age')

t.test('an object ends maxObjectAge after its first byte with no writes; an idle stream stores nothing', async (t) => {
  const age = 600
  const sink = new S3RollingSink({ client, params: { Bucket }, key: 'age/{index}', maxObjectAge: age })
  const stored: { object: RolledObject; at: number }[] = []
  sink.on('object', (object) => stored.push({ object, at: Date.now() }))

  const start = Date.now()
  sink.write('first\n')
  await sleep(100)
  sink.write('second\n')
  const [first] = (await once(sink, 'object')) as [RolledObject]
  const after = Date.now() - start
  t.ok(after >= age, `stored after ${after} ms, not before its age`)
  t.ok(after < age + 5000, 'stored soon after its age, with no write to trigger it')
  t.equal((await readObject(client, Bucket, first.key)).toString(), 'first\nsecond\n')

  await sleep(age * 3)
  t.equal(stored.length, 1, 'an idle stream makes no empty objects')

  sink.write('third\n')
  sink.end()
  await once(sink, 'finish')
  const input = Buffer.from('first\nsecond\nthird\n')
  await checkRolled(t, client, Bucket, input, sink.objects, { max: Number.POSITIVE_INFINITY, endedByTime: true })
  t.equal(sink.objects.length, 2)
})

t.test('rotate() ends the object now and resolves once it is stored', async (t) => {
  const sink = new S3RollingSink({ client, params: { Bucket }, key: 'rotate/{index}', maxObjectAge: 60_000 })
  sink.write('a1\na2\nb-start')
  await sleep(50)
  const rotated = await sink.rotate()
  t.equal(rotated?.index, 0)
  t.equal((await readObject(client, Bucket, rotated?.key as string)).toString(), 'a1\na2\n', 'whole records only')
  t.same(sink.objects, [rotated], 'it is in sink.objects by the time rotate() resolves')

  t.equal(await sink.rotate(), undefined, 'with nothing being filled, there is nothing to rotate')
  sink.end('-end\n')
  await once(sink, 'finish')
  t.same(
    sink.objects.map((o) => o.key),
    ['rotate/00000000', 'rotate/00000001'],
  )
  t.equal((await readObject(client, Bucket, 'rotate/00000001')).toString(), 'b-start-end\n', 'the held record went on')
})

t.test('a rotation asked for inside the first record of an object waits for that record to end', async (t) => {
  const sink = new S3RollingSink({ client, params: { Bucket }, key: 'open/{index}', maxObjectAge: 300 })
  sink.write('x'.repeat(1000))
  await sleep(700)
  t.same(sink.objects, [], 'past its age, the object waits for its first record to end')
  const rotated = sink.rotate()
  sink.write(`${'y'.repeat(10)}\nnext\n`)
  const object = await rotated
  t.equal(
    (await readObject(client, Bucket, object?.key as string)).toString(),
    `${'x'.repeat(1000)}${'y'.repeat(10)}\n`,
  )
  sink.end()
  await once(sink, 'finish')
  t.equal(sink.objects.length, 2)
  await t.rejects(sink.rotate(), { code: 'ERR_STREAM_DESTROYED' }, 'no rotation after the end')
})
