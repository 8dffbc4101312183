import t from 'tap'
import { KeyTemplate } from '../lib/rolling/key-template.js'

const time = new Date(Date.UTC(2026, 0, 2, 3, 4, 5))

t.test('time fields are UTC, zero-padded; {index} sorts; {id} as given; %% is a percent sign', async (t) => {
  const template = new KeyTemplate('logs/%Y/%m/%d/%H%M%S/{id}-{index}-100%%.ndjson')
  t.equal(template.expand({ index: 7, id: 'w1', time }), 'logs/2026/01/02/030405/w1-00000007-100%.ndjson')
  t.ok(template.hasIndex)
  const keys = [10, 9, 100, 2].map((index) => template.expand({ index, id: 'w1', time }))
  t.same(
    [...keys].sort(),
    [2, 9, 10, 100].map((index) => template.expand({ index, id: 'w1', time })),
    'keys sort by index',
  )
})

t.test('a template without {index} says so', async (t) => {
  t.equal(new KeyTemplate('daily/%Y-%m-%d.log').hasIndex, false)
  t.equal(new KeyTemplate('plain {not a token').expand({ index: 0, id: 'x', time }), 'plain {not a token')
})

for (const bad of ['logs/%y/{index}', 'logs/{idx}', 'logs/%', 'logs/%Q{id}', '{Index}']) {
  t.test(`unknown token in ${JSON.stringify(bad)} is a TypeError`, async (t) => {
    t.throws(() => new KeyTemplate(bad), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
  })
}
