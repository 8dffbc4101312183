// Builds lib/ twice: ESM into dist/esm and CommonJS into dist/commonjs, each with its type declarations,
// and marks each folder with the module type Node must load it as.
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
rmSync('dist', { recursive: true, force: true })
for (const [config, dir, type] of [
  ['tsconfig.build.json', 'dist/esm', 'module'],
  ['tsconfig.build-cjs.json', 'dist/commonjs', 'commonjs'],
]) {
  execFileSync(process.execPath, [tsc, '-p', config], { stdio: 'inherit' })
  writeFileSync(`${dir}/package.json`, `${JSON.stringify({ type }, null, 2)}\n`)
}
