import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { S3Sink } from '../lib/index.js'
import { bucketFor } from './fixtures/bucket.js'
import { pseudoRandomBytes, randomChunks } from './fixtures/sources.js'
import { headObject, MiB, readObject } from './fixtures/store.js'

const { client, Bucket } = await bucketFor(t, 'many-short')

// Sinks of one client share what the SDK builds for a request with the same params: each object must still land
// under its own key (escaped as S3 escapes it) with its own headers and bytes, however many run at once.
const KEYS = ['plain', "a b/ü+é (x)*!'~", 'dir//double/ slash /', '%41%2F?&=#', 'ключ/🙂']

t.test('short streams of one client, run at once, each store their own key, headers and bytes', async (t) => {
  const objects = KEYS.flatMap((key, i) =>
    ['text/plain', 'application/x-other'].map((ContentType, j) => ({
      Key: `${key}-${j}`,
      ContentType,
      data: pseudoRandomBytes(10_000 + i * 1000 + j, i * 2 + j + 1),
    })),
  )
  await Promise.all(
    objects.map(({ Key, ContentType, data }) =>
      pipeline(
        randomChunks(data, 100, 4000),
        new S3Sink({ client, params: { Bucket, Key, ContentType }, partSize: 5 * MiB }),
      ),
    ),
  )
  for (const { Key, ContentType, data } of objects) {
    t.ok((await readObject(client, Bucket, Key)).equals(data), `${Key}: its own bytes`)
    t.equal((await headObject(client, Bucket, Key)).ContentType, ContentType, `${Key}: its own headers`)
  }
})

t.test('multipart uploads of one client, run at once, each store their own key', async (t) => {
  const objects = KEYS.slice(0, 3).map((key, i) => ({
    Key: `multi-${key}`,
    data: pseudoRandomBytes(5 * MiB + 1000 * i + 1, i + 5),
  }))
  await Promise.all(
    objects.map(({ Key, data }) =>
      pipeline(
        randomChunks(data, 16 * 1024, 64 * 1024),
        new S3Sink({ client, params: { Bucket, Key }, partSize: 5 * MiB }),
      ),
    ),
  )
  for (const { Key, data } of objects)
    t.ok((await readObject(client, Bucket, Key)).equals(data), `${Key}: its own bytes`)
})
