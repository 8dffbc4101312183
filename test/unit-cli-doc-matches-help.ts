// docs/cli.md's reference is made from cli/help.ts by scripts/cli-doc.ts: a new option, or a changed default,
// must reach the page too.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { COMMANDS, CONNECTION, OTHER } from '../cli/help.js'
import { CLI_DOC, renderCliReference, withReference } from '../scripts/cli-doc.js'

const page = readFileSync(CLI_DOC, 'utf8')

t.test('docs/cli.md holds what cli/help.ts makes (else: npm run docs:cli)', async (t) => {
  t.equal(withReference(page), page)
})

t.test('the reference names every command, its usage and every option with its default', async (t) => {
  const reference = renderCliReference()
  for (const command of COMMANDS) {
    t.ok(reference.includes(`### ${command.name}`), `${command.name} has a section`)
    t.ok(reference.includes(command.usage), `${command.name}: its usage`)
    for (const flag of [...command.flags, ...CONNECTION, ...OTHER]) {
      const name = `\`--${flag.name}${'value' in flag && flag.value ? ` ${flag.value}` : ''}\``
      t.ok(reference.includes(name), `${command.name}: ${name}`)
      if ('default' in flag && flag.default !== undefined && flag.default !== 'required') {
        t.ok(reference.includes(flag.default.replaceAll('|', '\\|')), `${command.name}: default of --${flag.name}`)
      }
    }
  }
})

t.test('a page whose reference drifted is told apart', async (t) => {
  // An option's row with another default, as a hand edit of the page (or of help.ts) would leave it.
  const row = renderCliReference()
    .split('\n')
    .find((line) => line.startsWith('| `--'))
  if (!row) throw new Error('the reference has no option rows')
  const drifted = page.replace(row, row.replace(/\| [^|]+ \|$/, '| another default |'))
  t.not(drifted, page, 'the page has the row to change')
  t.not(withReference(drifted), drifted)
  t.throws(() => withReference('no markers'), /no <!-- cli-reference:start/)
})
