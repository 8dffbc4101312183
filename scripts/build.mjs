// Builds lib/ as ES modules into dist/esm with their type declarations; dist/commonjs holds the same declarations
// for CommonJS importers and an entry point that loads the ES build (require(esm), Node 20.19+), so that `import`
// and `require` share one copy of the library. Each folder is marked with the module type Node must load it as.
// Then the command in cli/ into dist/cli, which imports the library by its package name, as any user would.
//
// `--source-maps` (the test build) inlines source maps, so that coverage of the built files (the command runs
// as a child process) is counted on lib/ and cli/; the published build carries none.
import { execFileSync } from 'node:child_process'
import { chmodSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const maps = process.argv.includes('--source-maps') ? ['--inlineSourceMap', '--inlineSources'] : []
const run = (config, ...flags) => execFileSync(process.execPath, [tsc, '-p', config, ...flags], { stdio: 'inherit' })
const packageJson = (dir, type) => writeFileSync(`${dir}/package.json`, `${JSON.stringify({ type }, null, 2)}\n`)

rmSync('dist', { recursive: true, force: true })
run('tsconfig.build.json', ...maps)
packageJson('dist/esm', 'module')
run('tsconfig.build-cjs.json')
packageJson('dist/commonjs', 'commonjs')
writeFileSync(
  'dist/commonjs/index.js',
  `'use strict'
// The ES module build itself (require(esm), Node 20.19+): one copy of the library for require and import alike.
module.exports = require('../esm/index.js')
`,
)
run('tsconfig.build-cli.json', ...maps)
chmodSync('dist/cli/s3-sink.js', 0o755)
