// A program of its own as an implementation (aws-cli, rclone, the s3-sink command): it reads the source on its
// stdin, as `pg_dump | aws s3 cp - s3://…` does, and runs under /usr/bin/time, whose report gives the whole
// process's CPU time (user and system, its threads and children included) and peak RSS.
import { spawn } from 'node:child_process'
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import type { BenchCase, BenchTarget, Impl } from './types.js'

/** The loopback certificate of the HTTPS null endpoint, for programs that need to be told to trust it. */
export const TLS_CERT = fileURLToPath(new URL('../../test/fixtures/tls/localhost.crt', import.meta.url))

const TIME = '/usr/bin/time'

export interface Command {
  /** The program's path. */
  file: string
  args: string[]
  /**
   * Its environment beyond PATH, HOME and the locale: nothing else of the benchmark's environment reaches it (an
   * AWS_PROFILE or AWS_CA_BUNDLE of the host would change what it does).
   */
  env: Record<string, string>
}

/** The first of `candidates` that is an executable file, then `name` on PATH; undefined when none is. */
export function findExecutable(name: string, candidates: string[] = []): string | undefined {
  const onPath = (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, name))
  for (const file of [...candidates, ...onPath]) {
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {}
  }
  return undefined
}

/**
 * An implementation that runs `command(target, c, dir)` (`dir` a fresh directory for its configuration, removed
 * after) with the source on its stdin.
 */
export function processUploader(
  command: (target: BenchTarget, c: BenchCase, dir: string) => Command,
  available: () => boolean,
): Impl {
  return {
    external: true,
    available: () => available() && findExecutable('time', [TIME]) !== undefined,
    async upload(_client, target, c, source) {
      const dir = mkdtempSync(join(tmpdir(), 's3-sink-bench-'))
      try {
        return await run(command(target, c, dir), source, join(dir, 'time'))
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

async function run({ file, args, env }: Command, source: Readable, report: string): Promise<Record<string, number>> {
  const base = Object.fromEntries(
    ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR'].flatMap((name) => {
      const value = process.env[name]
      return value === undefined ? [] : [[name, value]]
    }),
  )
  // %U %S: user and system CPU seconds; %M: peak RSS in KiB.
  const child = spawn(TIME, ['-f', '%U %S %M', '-o', report, file, ...args], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: { ...base, ...env },
  })
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000)
  })
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => resolve(code))
  })
  // A program that fails stops reading: its exit code says why, not the broken pipe.
  const fed = pipeline(source, child.stdin).catch(() => {})
  const code = await exited
  await fed
  if (code !== 0) {
    throw new Error(`${file} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' ')}`)
  }
  const [user, system, maxRssKiB] = readFileSync(report, 'utf8').trim().split('\n').at(-1)?.split(' ').map(Number) ?? []
  return {
    cpuSeconds: (user ?? 0) + (system ?? 0),
    peakRss: (maxRssKiB ?? 0) * 1024,
    // Not known from outside; the whole peak is the program's.
    rssBefore: 0,
  }
}
