// Builds lib/ twice — ESM into dist/esm and CommonJS into dist/commonjs, each with its type declarations,
// each folder marked with the module type Node must load it as — then the command in cli/ into dist/cli,
// which imports the library by its package name, as any user would.
import { execFileSync } from 'node:child_process'
import { chmodSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const run = (config) => execFileSync(process.execPath, [tsc, '-p', config], { stdio: 'inherit' })
rmSync('dist', { recursive: true, force: true })
for (const [config, dir, type] of [
  ['tsconfig.build.json', 'dist/esm', 'module'],
  ['tsconfig.build-cjs.json', 'dist/commonjs', 'commonjs'],
]) {
  run(config)
  writeFileSync(`${dir}/package.json`, `${JSON.stringify({ type }, null, 2)}\n`)
}
run('tsconfig.build-cli.json')
chmodSync('dist/cli/s3-sink.js', 0o755)
