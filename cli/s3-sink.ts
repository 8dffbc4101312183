#!/usr/bin/env node
// The s3-sink command: reads the command line, runs the command it names (each in a file of its own, loaded when
// run), and turns how it ended into an exit status and a message.
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'
import { hintFor } from './client.js'
import { COMMANDS, type Command, commandHelp, commandNamed, flagsOf, generalHelp, OPTIONS } from './help.js'
import { INTERRUPTED, interrupted, listenForSignals } from './interrupt.js'
import type { Values } from './options.js'
import { UsageError } from './units.js'

async function main(argv: string[]): Promise<number> {
  let values: Values
  let positionals: string[]
  try {
    ;({ values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }))
  } catch (err) {
    const usage = new UsageError(parseError(err as Error & { code?: string }))
    usage.command = commandNamed(argv.find((a) => !a.startsWith('-')) ?? '')?.name
    throw usage
  }
  const [first, ...rest] = positionals
  const named = first === undefined ? undefined : commandNamed(first)
  const command = named ?? COMMANDS[0]
  if (values.version) {
    process.stdout.write(`${version()}\n`)
    return 0
  }
  if (values.help) {
    process.stdout.write(`${named ? commandHelp(named) : generalHelp()}\n`)
    return 0
  }
  try {
    checkFlags(command, values)
    const args = named ? rest : positionals
    switch (command.name) {
      case 'upload':
        return await (await import('./upload.js')).uploadCommand(args, values)
      case 'ls-incomplete':
      case 'abort-incomplete':
        return await (await import('./stale.js')).staleCommand(command.name, args, values)
      case 'bench':
        return await (await import('./bench.js')).benchCommand(args, values)
      case 'roll':
        return await (await import('./roll.js')).rollCommand(args, values)
    }
    throw new Error(`no runner for the command ${command.name}`)
  } catch (err) {
    if (err instanceof UsageError) err.command ??= command.name
    throw err
  }
}

/** parseArgs' errors, in the words of the other usage errors. */
function parseError(err: Error & { code?: string }): string {
  const option = /'(-[^' ]+)/.exec(err.message)?.[1]
  if (!option) return err.message
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option}`
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(err.message) ? `${option} needs a value` : `${option} takes no value`
    default:
      return err.message
  }
}

/** `s3-sink 0.1.0 (@aws-sdk/client-s3 3.1175.0, Node.js v20.20.2)`: what a bug report needs. */
function version(): string {
  const require = createRequire(import.meta.url)
  const own = (require('s3-sink/package.json') as { version: string }).version
  let sdk = 'not found'
  try {
    sdk = (require('@aws-sdk/client-s3/package.json') as { version: string }).version
  } catch {}
  return `s3-sink ${own} (@aws-sdk/client-s3 ${sdk}, Node.js ${process.version})`
}

/** An option given to a command that does not take it. */
function checkFlags(command: Command, values: Values): void {
  const taken = new Set<string>(flagsOf(command).map((f) => f.name))
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || taken.has(name)) continue
    const owners = COMMANDS.filter((c) => c.flags.some((f) => f.name === name)).map((c) => c.name)
    throw new UsageError(`--${name} goes with ${owners.join(' or ')}, not ${command.name}`)
  }
}

listenForSignals()
main(process.argv.slice(2)).then(
  (status) => {
    // After Ctrl-C the command has said how it ended: nothing may hold the process now, not even a read blocked
    // on a pipe or a terminal (a thread-pool read that only a writer can end).
    if (status === INTERRUPTED || interrupted()) process.exit(status)
    process.exitCode = status
  },
  (err: unknown) => {
    const debug = process.argv.includes('--debug')
    if (err instanceof UsageError) {
      const help = err.command && err.command !== 'upload' ? `s3-sink ${err.command} --help` : 's3-sink --help'
      process.stderr.write(`s3-sink: ${err.message}\nTry '${help}'.\n`)
      process.exitCode = 2
      return
    }
    const code = (err as { code?: string }).code ?? (err as { name?: string }).name ?? 'Error'
    process.stderr.write(`s3-sink: ${code}: ${(err as Error).message ?? String(err)}\n`)
    const hint = hintFor(err)
    if (hint) process.stderr.write(`s3-sink: ${hint}\n`)
    if (debug) process.stderr.write(`${(err as Error).stack ?? ''}\n`)
    process.exitCode = 1
  },
)
