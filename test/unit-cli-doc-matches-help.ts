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

/** The lines of docs/cli.md's section under the heading that begins `### heading`. */
function section(heading: string): string[] {
  const lines = page.split('\n')
  const start = lines.findIndex((line) => line === `### ${heading}` || line.startsWith(`### ${heading} (`))
  if (start < 0) return []
  const end = lines.findIndex((line, i) => i > start && line.startsWith('## '))
  return lines.slice(start + 1, end < 0 ? undefined : end)
}

/** The default column of an option's row, as scripts/cli-doc.ts writes it (a table cell: pipes escaped). */
function defaultCell(flag: { default?: string }): string {
  if (flag.default === undefined) return 'off'
  return flag.default.replaceAll('|', '\\|').replaceAll('\n', ' ')
}

t.test('the reference names every command, its usage and every option with its default', async (t) => {
  const reference = renderCliReference()
  const groups = [
    ...COMMANDS.map((command) => ({ heading: command.name, flags: command.flags })),
    { heading: 'Connection options', flags: CONNECTION },
    { heading: 'Other options', flags: OTHER },
  ]
  for (const command of COMMANDS) {
    t.ok(reference.includes(`### ${command.name}`), `${command.name} has a section`)
    t.ok(reference.includes(command.usage), `${command.name}: its usage`)
  }
  for (const { heading, flags } of groups) {
    const lines = section(heading)
    t.ok(lines.length > 0, `docs/cli.md has a section "${heading}"`)
    for (const flag of flags as readonly { name: string; value?: string; default?: string }[]) {
      const name = `\`--${flag.name}${flag.value ? ` ${flag.value}` : ''}\``
      t.ok(reference.includes(name), `${heading}: ${name}`)
      // The option's own row, in its own section, ends with its default: not merely the text somewhere on the page.
      const row = lines.find((line) => line.startsWith(`| ${name} |`) || line.startsWith(`| ${name}, `))
      t.ok(row, `${heading}: ${name} has a row`)
      t.ok(row?.endsWith(`| ${defaultCell(flag)} |`), `${heading}: the row of --${flag.name} gives its default`, {
        row,
        default: flag.default,
      })
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
