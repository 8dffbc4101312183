// docs/cli.md's reference part, made from the command's own table (cli/help.ts): every command, its usage and
// every option with its default, so that the page says what `s3-sink --help` says and cannot drift from it.
//
//   npm run docs:cli             write the reference into docs/cli.md, between its markers
//   npm run docs:cli -- --check  exit 1 when docs/cli.md differs from what help.ts makes (CI runs the unit test
//                                test/unit-cli-doc-matches-help.ts, which checks the same)
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { COMMANDS, CONNECTION, type Command, type Flag, OTHER } from '../cli/help.js'

export const CLI_DOC = fileURLToPath(new URL('../docs/cli.md', import.meta.url))
export const START = '<!-- cli-reference:start (made by scripts/cli-doc.ts from cli/help.ts: do not edit) -->'
export const END = '<!-- cli-reference:end -->'

/** Text for a Markdown table cell: pipes escaped, on one line. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}

function flagName(flag: Flag): string {
  const short = flag.name === 'help' ? ', `-h`' : flag.name === 'version' ? ', `-v`' : ''
  return `\`--${flag.name}${flag.value ? ` ${flag.value}` : ''}\`${short}`
}

function flagTable(flags: readonly Flag[]): string {
  const rows = flags.map((f) => {
    const fallback = f.default === undefined ? 'off' : f.default === 'required' ? 'required' : cell(f.default)
    return `| ${flagName(f)} | ${cell(f.help)} | ${fallback} |`
  })
  return ['| option | what it does | default |', '| --- | --- | --- |', ...rows].join('\n')
}

function commandSection(command: Command, first: boolean): string {
  return [
    `### ${command.name}${first ? ' (the default command)' : ''}`,
    ['```text', command.usage, '```'].join('\n'),
    // Paragraphs of the help stay paragraphs; the lines within one are joined.
    ...command.about.split('\n\n').map(cell),
    flagTable(command.flags),
    command.connects
      ? 'And the [connection options](#connection-options) and the [other options](#other-options).'
      : 'And the [other options](#other-options).',
  ].join('\n\n')
}

/** The reference part of docs/cli.md, without its markers. */
export function renderCliReference(): string {
  const commands = COMMANDS as readonly Command[]
  const overview = [
    '| command | what it does |',
    '| --- | --- |',
    ...commands.map(
      (c) => `| [\`${c.name}\`](#${c.name}${c === commands[0] ? '-the-default-command' : ''}) | ${cell(c.summary)} |`,
    ),
  ].join('\n')
  return [
    '## Commands',
    overview,
    ...commands.map((c, i) => commandSection(c, i === 0)),
    '### Connection options',
    'Taken by every command that talks to a store.',
    flagTable(CONNECTION),
    '### Other options',
    'Taken by every command.',
    flagTable(OTHER),
  ].join('\n\n')
}

/** `page` with the part between the markers replaced by the reference. */
export function withReference(page: string): string {
  const start = page.indexOf(START)
  const end = page.indexOf(END)
  if (start === -1 || end < start) throw new Error(`docs/cli.md has no ${START} … ${END}`)
  return `${page.slice(0, start + START.length)}\n\n${renderCliReference()}\n\n${page.slice(end)}`
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const page = readFileSync(CLI_DOC, 'utf8')
  const made = withReference(page)
  if (process.argv.includes('--check')) {
    if (made !== page) {
      console.error('docs/cli.md differs from cli/help.ts: run `npm run docs:cli`')
      process.exit(1)
    }
  } else if (made !== page) {
    writeFileSync(CLI_DOC, made)
    console.error('cli-doc: docs/cli.md updated')
  }
}
