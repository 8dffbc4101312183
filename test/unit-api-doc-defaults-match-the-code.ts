// A default is stated in three places: the code that applies it (lib/sink/options.ts,
// lib/rolling/rolling-options.ts), the option tables of docs/api.md, and the command's help (cli/help.ts, from
// which docs/cli.md is made and checked by test/unit-cli-doc-matches-help.ts). This checks that they agree: a
// default changed in the code must reach the page and the help, and an option the code takes must have its row.
import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { COMMANDS } from '../cli/help.js'
import { parseDuration, parseSize } from '../cli/units.js'
import { resolveRollingOptions } from '../lib/rolling/rolling-options.js'
import { resolveOptions } from '../lib/sink/options.js'

const page = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8')
const client = { send: async () => ({}) }
const sink = resolveOptions({ client, params: { Bucket: 'b', Key: 'k' } }) as unknown as Record<string, unknown>
const rollingResolved = resolveRollingOptions({ client, params: { Bucket: 'b' }, key: '{index}' })
// The rolling sink's own options as a caller gives them (gzip: false is kept as `undefined` once resolved).
const rolling: Record<string, unknown> = {
  maxObjectBytes: rollingResolved.maxObjectBytes,
  maxObjectAge: rollingResolved.maxObjectAge,
  delimiter: rollingResolved.delimiter === null ? null : rollingResolved.delimiter.toString('utf8'),
  gzip: rollingResolved.gzip === undefined ? false : rollingResolved.gzip,
  id: rollingResolved.id,
  resume: rollingResolved.resume,
}

/** The rows `| \`name\` | default | … |` of the first table after the heading `heading`, up to the next `## `. */
function optionRows(heading: string): Map<string, string> {
  const lines = page.split('\n')
  const start = lines.indexOf(heading)
  if (start < 0) throw new Error(`docs/api.md has no heading ${heading}`)
  const rows = new Map<string, string>()
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('## ')) break
    const row = /^\| `(\w+)` \| ([^|]*) \|/.exec(line)
    if (row) rows.set(row[1] as string, (row[2] as string).trim())
    else if (rows.size > 0 && !line.startsWith('|')) break
  }
  return rows
}

const UNITS: Record<string, number> = { KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30 }

type Stated =
  | { kind: 'required' }
  | { kind: 'absent' }
  | { kind: 'value'; value: number | boolean | string }
  | { kind: 'text'; text: string }

/** What a default cell of docs/api.md states. */
function stated(cell: string): Stated {
  if (cell === 'required') return { kind: 'required' }
  if (cell === '—' || cell === 'none') return { kind: 'absent' }
  const bool = /^`(true|false)`$/.exec(cell)
  if (bool) return { kind: 'value', value: bool[1] === 'true' }
  // `8 MiB`, `10,000`, `120,000 ms`, `300,000 ms (5 minutes)`, `8 MiB (default)`
  const number = /^([\d,]+)(?: (KiB|MiB|GiB))?(?: ms)?(?: \(.*\))?$/.exec(cell)
  if (number) {
    const n = Number((number[1] as string).replaceAll(',', ''))
    return { kind: 'value', value: number[2] ? n * (UNITS[number[2]] as number) : n }
  }
  // `params.ChecksumAlgorithm`, else `'CRC32'`; `'\n'`: the last quoted string is what applies when nothing is given.
  const quoted = [...cell.matchAll(/`'((?:[^'\\]|\\.)*)'`/g)].at(-1)
  if (quoted) return { kind: 'value', value: JSON.parse(`"${(quoted[1] as string).replaceAll('"', '\\"')}"`) }
  return { kind: 'text', text: cell }
}

/** Checks one table's rows against the defaults the code applies. */
function checkTable(t: Test, table: string, rows: Map<string, string>, applied: Record<string, unknown>) {
  for (const [name, cell] of rows) {
    const want = stated(cell)
    const got = applied[name]
    const where = `${table}: ${name} (docs/api.md says ${JSON.stringify(cell)})`
    if (want.kind === 'required') {
      t.ok(name === 'client' || name === 'params' || name === 'key', `${where}: an option the code requires`)
    } else if (want.kind === 'absent') {
      t.equal(got, undefined, `${where}: the code applies no default`)
    } else if (want.kind === 'value') {
      t.same(got, want.value, `${where}: the code applies ${JSON.stringify(got)}`)
    } else if (typeof got === 'number' || typeof got === 'boolean' || typeof got === 'string') {
      // A default told in words must still name the value the code applies.
      t.ok(describes(want.text, name, got), `${where}: the code applies ${JSON.stringify(got)}`)
    }
  }
}

/** Whether words such as "12 random hex digits" describe `value`. */
function describes(text: string, name: string, value: number | boolean | string): boolean {
  if (name === 'id') {
    const digits = /^(\d+) random hex digits$/.exec(text)
    return digits !== null && new RegExp(`^[0-9a-f]{${digits[1]}}$`).test(String(value))
  }
  return text.includes(String(value))
}

t.test("S3Sink's option table gives the defaults the code applies, and a row for every option", async (t) => {
  const rows = optionRows('## `S3Sink`')
  t.ok(rows.size > 10, 'the table was found')
  checkTable(t, 'S3Sink', rows, sink)
  // checksumType is the code's own: the page tells it under params.ChecksumType and integrity.md.
  for (const name of Object.keys(sink).filter((name) => name !== 'checksumType')) {
    t.ok(rows.has(name), `${name}, an option of the code, has its row in docs/api.md`)
  }
})

t.test("highWaterMark's default is Node's default for a Writable, as the page says for this Node", async (t) => {
  const cell = optionRows('## `S3Sink`').get('highWaterMark') ?? ''
  const nodes = new Writable().writableHighWaterMark
  t.equal(sink.highWaterMark, undefined, 'the code leaves it to Node')
  t.match(cell, `${nodes / 1024} KiB`, `the page names this Node's ${nodes} bytes`)
})

t.test("S3RollingSink's own option table gives the defaults the code applies", async (t) => {
  const rows = optionRows('## `S3RollingSink`')
  t.same([...rows.keys()].sort(), [...Object.keys(rolling), 'key', 'params'].sort(), 'a row for each of its options')
  checkTable(t, 'S3RollingSink', rows, rolling)
})

/** A default of the command's help as the option's value, or undefined when it is words rather than a value. */
function helpValue(parse: (text: string) => unknown, text: string): unknown {
  if (!/^[\w.\\]+$/.test(text)) return undefined
  try {
    const value = parse(text)
    return typeof value === 'number' && Number.isNaN(value) ? undefined : value
  } catch {
    return undefined
  }
}

t.test(
  "the command's defaults (cli/help.ts, docs/cli.md) are the library's where they are the same option",
  async (t) => {
    const options: Record<string, { option: string; parse: (text: string) => unknown; applied: unknown }> = {
      'part-size': { option: 'partSize', parse: parseSize, applied: sink.partSize },
      concurrency: { option: 'concurrency', parse: Number, applied: sink.concurrency },
      'max-parts': { option: 'maxParts', parse: Number, applied: sink.maxParts },
      checksum: { option: 'checksum', parse: String, applied: sink.checksum },
      'max-object-size': { option: 'maxObjectBytes', parse: parseSize, applied: rolling.maxObjectBytes },
      'max-object-age': { option: 'maxObjectAge', parse: parseDuration, applied: rolling.maxObjectAge },
      delimiter: { option: 'delimiter', parse: (text) => text.replaceAll('\\n', '\n'), applied: rolling.delimiter },
    }
    let checked = 0
    for (const command of COMMANDS) {
      for (const flag of command.flags as readonly { name: string; default?: string }[]) {
        const same = options[flag.name]
        if (!same || flag.default === undefined) continue
        // A default told in words (an adaptive choice, say) is not a value to compare.
        const value = helpValue(same.parse, flag.default)
        if (value === undefined) continue
        checked++
        t.same(
          value,
          same.applied,
          `${command.name} --${flag.name} ${flag.default}: the library's ${same.option} default`,
        )
      }
    }
    t.ok(checked >= 7, `${checked} defaults of the command compared`)
  },
)
