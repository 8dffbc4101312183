// Type-checks the code blocks of README.md and docs/*.md against the library's types, so that an example in the
// docs cannot rot: every ```js, ```mjs, ```ts and ```mts block becomes a module of its own (JavaScript checked as
// TypeScript, see CHECKED) in which `s3-sink` resolves to this repository's lib/index.ts, and tsc
// checks them all at once, strict. Blocks must be complete programs — imports, client and all; shell commands and
// output take other fence languages (sh, text).
//
//   npm run docs:check-code        exits 1, naming the page and line of each error
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
// JavaScript is checked as TypeScript: in a .js file TypeScript lets an object literal carry properties its type
// does not have, and a misspelt option is the mistake most worth catching.
const CHECKED = { js: 'mts', mjs: 'mts', ts: 'mts', mts: 'mts' }

/** The pages whose code blocks are checked. */
function pages() {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join('docs', name))
  return ['README.md', ...docs]
}

/** The checked blocks of a page: `{ page, line, ext, code }`, line being the first line of code (1-based). */
function blocksOf(page, text) {
  const blocks = []
  const lines = text.split('\n')
  let open
  for (const [i, line] of lines.entries()) {
    const fence = /^(\s*)(```+|~~~+)\s*([\w-]*)/.exec(line)
    if (!open) {
      if (fence) open = { fence: fence[2], indent: fence[1].length, lang: fence[3], start: i + 1, code: [] }
    } else if (fence?.[2].startsWith(open.fence) && fence[3] === '') {
      const ext = CHECKED[open.lang]
      if (ext) blocks.push({ page, line: open.start + 1, ext, code: open.code.join('\n') })
      open = undefined
    } else {
      open.code.push(line.slice(Math.min(open.indent, line.length - line.trimStart().length)))
    }
  }
  if (open) throw new Error(`${page}:${open.start}: a code block is never closed`)
  return blocks
}

// Inside node_modules, so that the blocks' imports resolve to this repository's dependencies as a user's would.
mkdirSync(join(root, 'node_modules/.cache'), { recursive: true })
const dir = mkdtempSync(join(root, 'node_modules/.cache/doc-code-'))
try {
  const blocks = pages().flatMap((page) => blocksOf(page, readFileSync(join(root, page), 'utf8')))
  const files = new Map()
  mkdirSync(join(dir, 'blocks'))
  for (const [n, block] of blocks.entries()) {
    const name = `blocks/${String(n).padStart(3, '0')}-${block.page.replace(/[/.]/g, '_')}-${block.line}.${block.ext}`
    // `export {}`: each block is a module of its own, whatever it imports.
    writeFileSync(join(dir, name), `${block.code}\nexport {}\n`)
    files.set(name, block)
  }
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023'],
        module: 'nodenext',
        moduleResolution: 'nodenext',
        types: ['node'],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        paths: { 's3-sink': [join(root, 'lib/index.ts')] },
      },
      include: ['blocks'],
    }),
  )
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  let output = ''
  try {
    execFileSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  } catch (err) {
    output = `${err.stdout ?? ''}${err.stderr ?? ''}`
    if (!output) throw err
  }
  // Errors name the temporary file and its line: tell the page and its line instead.
  const errors = output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const at = /(?:^|\/)(blocks\/[^(]+)\((\d+),(\d+)\): (.*)$/.exec(line)
      const block = at && files.get(at[1])
      if (!block) return line.replaceAll(`${dir}/`, '')
      return `${block.page}:${block.line + Number(at[2]) - 1}:${at[3]}: ${at[4]}`
    })
  if (errors.length > 0) {
    console.error(errors.join('\n'))
    console.error(`check-doc-code: ${errors.length} error(s) in the code blocks of the docs`)
    process.exitCode = 1
  } else {
    const pagesChecked = new Set(blocks.map((b) => b.page)).size
    console.error(`check-doc-code: ${blocks.length} code blocks on ${pagesChecked} pages type-check`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
