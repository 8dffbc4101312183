// Checks the links between the docs: every relative link of README.md, CONTRIBUTING.md, CHANGELOG.md, SECURITY.md
// and docs/*.md points at a file or folder that is in the repository, and every `#anchor` at a heading of its page
// (anchors made as GitHub makes them), so that a page renamed or a heading reworded cannot leave a dead link behind.
// A link into what is built and not committed (docs/reference/ from `npm run docs`, dist/) is dead for a reader of
// the repository or the package, and is reported as such.
//
//   npm run docs:check-links       exits 1, naming the page and line of each dead link
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
/** Made by the build and ignored by git: present in a working copy, absent where users read the docs. */
const GENERATED = ['docs/reference', 'dist', 'node_modules', 'coverage'].map((path) => normalize(path))

const pages = [
  'README.md',
  'CONTRIBUTING.md',
  'CHANGELOG.md',
  'SECURITY.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join('docs', name)),
].filter((page) => existsSync(join(root, page)))

/** The page's lines outside code blocks, with their numbers; inline code spans blanked. */
function prose(text) {
  const lines = []
  let fence
  for (const [i, line] of text.split('\n').entries()) {
    const open = /^\s*(```+|~~~+)/.exec(line)
    if (fence) {
      if (open?.[1].startsWith(fence)) fence = undefined
    } else if (open) {
      fence = open[1]
    } else {
      lines.push({ n: i + 1, line: line.replace(/`[^`]*`/g, (code) => ' '.repeat(code.length)) })
    }
  }
  return lines
}

/** The anchors GitHub gives the headings of a page. */
function anchorsOf(text) {
  const seen = new Map()
  const anchors = new Set()
  let fence
  for (const line of text.split('\n')) {
    const open = /^\s*(```+|~~~+)/.exec(line)
    if (fence) {
      if (open?.[1].startsWith(fence)) fence = undefined
      continue
    }
    if (open) {
      fence = open[1]
      continue
    }
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (!heading) continue
    const slug = heading[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-')
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    anchors.add(count === 0 ? slug : `${slug}-${count}`)
  }
  return anchors
}

const anchors = new Map()
const anchorsAt = (page) => {
  if (!anchors.has(page)) anchors.set(page, anchorsOf(readFileSync(join(root, page), 'utf8')))
  return anchors.get(page)
}

const dead = []
let links = 0
for (const page of pages) {
  for (const { n, line } of prose(readFileSync(join(root, page), 'utf8'))) {
    for (const [, target] of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // https:, mailto:
      links++
      const [path, anchor] = target.split('#')
      const file = path ? normalize(join(dirname(page), decodeURIComponent(path))) : page
      if (GENERATED.some((generated) => file === generated || file.startsWith(`${generated}/`))) {
        dead.push(`${page}:${n}: ${target}: ${file} is built, not committed: no reader has it`)
      } else if (relative(root, join(root, file)).startsWith('..')) {
        dead.push(`${page}:${n}: ${target} points outside the repository`)
      } else if (!existsSync(join(root, file))) {
        dead.push(`${page}:${n}: ${target}: no ${file}`)
      } else if (anchor !== undefined && file.endsWith('.md') && !anchorsAt(file).has(anchor)) {
        dead.push(`${page}:${n}: ${target}: ${file} has no heading #${anchor}`)
      }
    }
  }
}
if (dead.length > 0) {
  console.error(dead.join('\n'))
  console.error(`check-doc-links: ${dead.length} dead link(s)`)
  process.exitCode = 1
} else {
  console.error(`check-doc-links: ${links} links on ${pages.length} pages resolve`)
}
