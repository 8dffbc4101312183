import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { OPTIONS } from '../cli/help.js'
import { runCli } from './fixtures/cli.js'

const COMMANDS = ['upload', 'roll', 'ls-incomplete', 'abort-incomplete', 'bench']

/** The options a help text lists: `--name VALUE  text (default …)`, the text wrapped under itself. */
function listed(help: string): { name: string; value: string | undefined; text: string }[] {
  const options: { name: string; value: string | undefined; text: string }[] = []
  for (const line of help.split('\n')) {
    const option = /^ {2}--([a-z-]+)(?: ([A-Z=]+))? +(.*)$/.exec(line)
    const last = options.at(-1)
    if (option) options.push({ name: option[1] as string, value: option[2], text: option[3] as string })
    else if (last && /^ {25}\S/.test(line)) last.text += ` ${line.trim()}`
  }
  return options
}

t.test('--version prints the version of the package and of the SDK', async (t) => {
  const pkg = createRequire(import.meta.url)('../package.json') as { version: string }
  for (const flag of ['--version', '-v']) {
    const run = await runCli([flag])
    t.equal(run.status, 0)
    t.equal(run.stdout, `s3-sink ${pkg.version} (@aws-sdk/client-s3 ${sdkVersion()}, Node.js ${process.version})\n`)
    t.equal(run.stderr, '')
  }
})

function sdkVersion(): string {
  return (createRequire(import.meta.url)('@aws-sdk/client-s3/package.json') as { version: string }).version
}

t.test('--help: every command, then the options of the default one', async (t) => {
  const run = await runCli(['--help'])
  t.equal(run.status, 0)
  t.match(run.stdout, /^usage: s3-sink \[upload\] \[options\] s3:\/\/bucket\/key\n/)
  for (const command of COMMANDS) t.match(run.stdout, new RegExp(`^ {2}${command} {2,}\\S`, 'm'), command)
  const upload = await runCli(['upload', '--help'])
  t.same(
    listed(run.stdout).map((o) => o.name),
    listed(upload.stdout).map((o) => o.name),
    'the same options as upload --help',
  )
})

t.test('each command has its own help, listing every option it takes with its default', async (t) => {
  const everywhere = new Set<string>()
  for (const command of COMMANDS) {
    const run = await runCli([command, '--help'])
    t.equal(run.status, 0, command)
    t.match(run.stdout, new RegExp(`^usage: s3-sink (\\[${command}\\]|${command}) `), `${command}: its usage first`)
    const options = listed(run.stdout)
    for (const option of options) {
      everywhere.add(option.name)
      if (option.value) t.match(option.text, /\((default [^)]+|required)\)$/, `${command} --${option.name}: a default`)
    }
    for (const common of ['help', 'version', 'debug']) {
      t.ok(
        options.some((o) => o.name === common),
        `${command} lists --${common}`,
      )
    }
  }
  t.same([...everywhere].sort(), Object.keys(OPTIONS).sort(), 'every option is in some command’s help')
})

t.test('a command takes every option its help lists, and no other', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 's3-sink-help-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'input')
  writeFileSync(file, 'x')
  const sample: Record<string, string> = {
    SIZE: '5MiB',
    N: '2',
    LIST: '5',
    ALG: 'CRC32',
    'K=V': 'a=b',
    PATH: file,
    FILE: join(dir, 'out'),
    URL: 'http://127.0.0.1:9',
    REGION: 'us-east-1',
    AGE: '7d',
    TEXT: '\\n',
    ID: 'w1',
  }
  const special: Record<string, string> = { 'checksum-type': 'full', 'content-type': 'text/plain' }
  const helps = new Map<string, string[]>()
  for (const command of COMMANDS) {
    const options = listed((await runCli([command, '--help'])).stdout).filter(
      (o) => o.name !== 'help' && o.name !== 'version',
    )
    helps.set(
      command,
      options.map((o) => o.name),
    )
    const args = options.flatMap((o) => {
      if (!o.value) return [`--${o.name}`]
      const value = special[o.name] ?? sample[o.value]
      t.ok(value, `a sample value for ${o.value}`)
      return [`--${o.name}`, value ?? '']
    })
    // Without the s3:// address, the command stops at that, once every option has been accepted.
    const run = await runCli([command, ...args])
    t.equal(run.status, 2, `${command}: a usage error`)
    t.match(
      run.stderr,
      /^s3-sink: (missing the s3:\/\/bucket\/key|[a-z-]+ needs s3:\/\/bucket)/,
      `${command}: ${run.stderr}`,
    )
  }
  for (const command of COMMANDS) {
    const foreign = Object.keys(OPTIONS).find((name) => !helps.get(command)?.includes(name)) as string
    const value = (OPTIONS as Record<string, { type: string }>)[foreign]?.type === 'string' ? ['x'] : []
    const run = await runCli([command, 's3://b/k', `--${foreign}`, ...value])
    t.equal(run.status, 2)
    t.match(
      run.stderr,
      new RegExp(`^s3-sink: --${foreign} goes with [a-z -]+, not ${command}\\n`),
      `${command} --${foreign}`,
    )
  }
})
