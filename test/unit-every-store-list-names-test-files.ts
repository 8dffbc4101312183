// test/every-store.txt picks the tests CI runs on every store; tap passes over a file that does not exist in
// silence, so a renamed test would drop out of the other stores' runs unnoticed.
import { existsSync, readFileSync } from 'node:fs'
import t from 'tap'

const root = new URL('../', import.meta.url)
const listed = readFileSync(new URL('test/every-store.txt', root), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '' && !line.startsWith('#'))

t.test('every line names a store-facing test file that exists, once', async (t) => {
  t.ok(listed.length >= 10, `${listed.length} files`)
  for (const file of listed) {
    t.match(file, /^test\/[a-z0-9-]+\.ts$/, `${file}: a test file`)
    t.notMatch(file, /^test\/unit-/, `${file}: not a unit test`)
    t.ok(existsSync(new URL(file, root)), `${file} exists`)
  }
  t.equal(new Set(listed).size, listed.length, 'no file twice')
})
