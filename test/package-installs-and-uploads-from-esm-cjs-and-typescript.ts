// The package as a user gets it: packed as `npm publish` would (built afresh by prepack, in a copy of the
// repository), checked by publint and Are The Types Wrong, installed into throwaway ES module, CommonJS and TypeScript
// projects with the SDK beside it, and used by each for one upload to the store.
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { bucketFor } from './fixtures/bucket.js'
import { pseudoRandomBytes } from './fixtures/sources.js'
import { MiB, readObject, storeEnv } from './fixtures/store.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const require = createRequire(import.meta.url)
const version = (name: string) => (require(`${name}/package.json`) as { version: string }).version
const bin = (name: string) => join(root, 'node_modules/.bin', name)
const tsc = join(root, 'node_modules/typescript/bin/tsc')

// Packing, installing five projects and compiling three take about 160 s alone on two cores, and longer beside the
// rest of the suite: more than the files' common limit.
t.setTimeout(600_000)

const work = mkdtempSync(join(tmpdir(), 's3-sink-package-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))
const { Bucket, client } = await bucketFor(t, 'package')

// What `npm pack` reads: the sources and the build, not the repository's dist/ (the tests' own build has source maps).
const source = join(work, 'source')
for (const path of ['package.json', 'README.md', 'LICENSE', 'lib', 'cli', 'scripts/build.mjs']) {
  cpSync(join(root, path), join(source, path), { recursive: true })
}
for (const config of ['tsconfig.json', 'tsconfig.build.json', 'tsconfig.build-cjs.json', 'tsconfig.build-cli.json']) {
  cpSync(join(root, config), join(source, config))
}
symlinkSync(join(root, 'node_modules'), join(source, 'node_modules'))
const packed = JSON.parse(
  (await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: source, maxBuffer: 16 * MiB })).stdout,
) as [{ filename: string; files: { path: string }[] }]
const tarball = join(work, packed[0].filename)

// One project, the SDK beside the package (a peer dependency); each consumer in a folder with its module type.
const consumer = join(work, 'consumer')
mkdirSync(consumer)
writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
await run(
  'npm',
  [
    'install',
    '--no-audit',
    '--no-fund',
    tarball,
    `@aws-sdk/client-s3@${version('@aws-sdk/client-s3')}`,
    `@types/node@${version('@types/node')}`,
  ],
  { cwd: consumer, maxBuffer: 16 * MiB },
)

// Every test below is declared now, with nothing awaited in between: the root test ends once its subtests have
// run, and one declared after an await of the file's own could come too late.
t.plan(10)

t.test('the tarball holds the build, the README and the licence, and nothing else', async (t) => {
  const paths = packed[0].files.map((f) => f.path).sort()
  for (const path of paths) {
    t.match(
      path,
      /^(package\.json|README\.md|LICENSE|dist\/(esm|commonjs|cli)\/([a-z0-9-]+\/)?[a-z0-9-]+\.(js|d\.ts|json))$/,
      path,
    )
  }
  for (const path of ['LICENSE', 'dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/commonjs/index.js']) {
    t.ok(paths.includes(path), `has ${path}`)
  }
  t.ok(paths.includes('dist/commonjs/index.d.ts') && paths.includes('dist/cli/s3-sink.js'))
  t.notOk(
    paths.some((p) => p.startsWith('dist/commonjs/') && p.endsWith('.js') && p !== 'dist/commonjs/index.js'),
    'one copy of the code: the CommonJS side is declarations and an entry point',
  )
})

t.test('publint finds nothing to report', async (t) => {
  const { stdout } = await run(bin('publint'), ['run', tarball, '--strict'], { cwd: work })
  t.match(stdout, /All good!/)
})

t.test('Are The Types Wrong: every resolution mode finds the types', async (t) => {
  const result = await run(bin('attw'), [tarball, '--format', 'json', '--no-definitely-typed'], {
    cwd: work,
    maxBuffer: 64 * MiB,
  }).catch((err: { stdout: string }) => err)
  const report = JSON.parse(result.stdout) as { analysis: { problems: unknown[]; entrypoints: object } }
  t.same(report.analysis.problems, [], 'no problems')
  const resolutions = (report.analysis.entrypoints as Record<string, { resolutions: Record<string, unknown> }>)['.']
  t.same(Object.keys(resolutions?.resolutions ?? {}).sort(), ['bundler', 'node10', 'node16-cjs', 'node16-esm'])
})

const data = pseudoRandomBytes(6 * MiB + 7, 57)
const file = join(work, 'data.bin')
writeFileSync(file, data)
const env = storeEnv()
const consumerEnv = {
  ...process.env,
  FILE: file,
  BUCKET: Bucket,
  S3_ENDPOINT: env.endpoint,
  S3_REGION: env.region,
  S3_ACCESS_KEY_ID: env.accessKeyId,
  S3_SECRET_ACCESS_KEY: env.secretAccessKey,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
}
const clientConfig = `{
  endpoint: process.env.S3_ENDPOINT,
  region: process.env.S3_REGION,
  forcePathStyle: true,
  credentials: { accessKeyId: process.env.S3_ACCESS_KEY_ID, secretAccessKey: process.env.S3_SECRET_ACCESS_KEY },
}`

function project(dir: string, type: 'module' | 'commonjs', files: Record<string, string>): string {
  const path = join(consumer, dir)
  mkdirSync(path, { recursive: true })
  writeFileSync(join(path, 'package.json'), JSON.stringify({ type }))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(path, name), text)
  return path
}

async function uploads(t: Test, script: string, Key: string): Promise<void> {
  const { stdout, stderr } = await run(process.execPath, [script], { env: { ...consumerEnv, KEY: Key } })
  t.equal(stderr, '', 'nothing on stderr')
  const result = JSON.parse(stdout.trim().split('\n').at(-1) as string)
  t.match(result, { Bucket, Key, size: data.length, parts: 2, ETag: /^"[0-9a-f]{32}-2"$/ })
  t.ok((await readObject(client, Bucket, Key)).equals(data), 'the store holds the file')
}

t.test('an ES module imports it and uploads', async (t) => {
  const dir = project('esm', 'module', {
    'upload.js': `import { createReadStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { S3Client } from '@aws-sdk/client-s3'
import { S3Sink } from 's3-sink'

const client = new S3Client(${clientConfig})
const sink = new S3Sink({ client, params: { Bucket: process.env.BUCKET, Key: process.env.KEY }, partSize: 5 * 1024 * 1024 })
await pipeline(createReadStream(process.env.FILE), sink)
console.log(JSON.stringify(sink.result))
`,
  })
  await uploads(t, join(dir, 'upload.js'), 'from-esm')
})

t.test('a CommonJS module requires it and uploads; require and import share one copy', async (t) => {
  const dir = project('cjs', 'commonjs', {
    'upload.js': `const { createReadStream } = require('node:fs')
const { pipeline } = require('node:stream/promises')
const { S3Client } = require('@aws-sdk/client-s3')
const sinks = require('s3-sink')

async function main() {
  const imported = await import('s3-sink')
  const client = new S3Client(${clientConfig})
  // The same class either way: an error thrown by the code one got is an instance of the other's class.
  const missing = new sinks.S3Sink({ client, params: { Bucket: process.env.BUCKET + '-missing', Key: 'k' } })
  const error = await pipeline(createReadStream(process.env.FILE), missing).catch((err) => err)
  console.log(JSON.stringify({
    sameClasses: sinks.S3Sink === imported.S3Sink && sinks.S3SinkError === imported.S3SinkError,
    caughtAsImported: error instanceof imported.S3SinkError,
    code: error.code,
  }))
  const sink = new sinks.S3Sink({ client, params: { Bucket: process.env.BUCKET, Key: process.env.KEY }, partSize: 5 * 1024 * 1024 })
  await pipeline(createReadStream(process.env.FILE), sink)
  console.log(JSON.stringify(sink.result))
}
main()
`,
  })
  await uploads(t, join(dir, 'upload.js'), 'from-cjs')
  const { stdout } = await run(process.execPath, [join(dir, 'upload.js')], { env: { ...consumerEnv, KEY: 'again' } })
  t.same(JSON.parse(stdout.split('\n')[0] as string), {
    sameClasses: true,
    caughtAsImported: true,
    code: 'ERR_S3_SINK_PUT_FAILED',
  })
})

const typeTest = readFileSync(join(root, 'test/types/events-and-results-are-typed.ts'), 'utf8').replace(
  "from '../../lib/index.js'",
  "from 's3-sink'",
)
const uploadTs = `import { createReadStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { S3Client } from '@aws-sdk/client-s3'
import { S3Sink, S3SinkError, type S3SinkResult } from 's3-sink'

async function main(): Promise<void> {
  const client = new S3Client(${clientConfig.replace(/process\.env\.(\w+)/g, 'process.env.$1 as string')})
  const sink = new S3Sink({
    client,
    params: { Bucket: process.env.BUCKET as string, Key: process.env.KEY as string },
    partSize: 5 * 1024 * 1024,
  })
  sink.on('error', (err) => {
    if (err instanceof S3SinkError) console.error(err.code)
  })
  await pipeline(createReadStream(process.env.FILE as string), sink)
  const result: S3SinkResult = sink.result as S3SinkResult
  console.log(JSON.stringify(result))
}
void main()
`

for (const [name, type, options] of [
  ['ts-nodenext-esm', 'module', { module: 'nodenext', moduleResolution: 'nodenext' }],
  ['ts-nodenext-cjs', 'commonjs', { module: 'nodenext', moduleResolution: 'nodenext' }],
  ['ts-node16-cjs', 'commonjs', { module: 'node16', moduleResolution: 'node16' }],
  ['ts-bundler', 'module', { module: 'esnext', moduleResolution: 'bundler' }],
] as const) {
  t.test(
    `TypeScript (${name}): the declarations compile strictly, the type test holds, the build uploads`,
    async (t) => {
      const dir = project(name, type, {
        'upload.ts': uploadTs,
        'events-and-results-are-typed.ts': typeTest,
        'tsconfig.json': JSON.stringify({
          compilerOptions: {
            ...options,
            target: 'es2022',
            strict: true,
            // Our declarations are checked as the consumer's own code would be, not skipped.
            skipLibCheck: false,
            types: ['node'],
            outDir: 'out',
          },
          include: ['*.ts'],
        }),
      })
      const compiled = await run(process.execPath, [tsc, '-p', dir]).catch((err: { stdout: string }) => err)
      t.equal(compiled.stdout, '', 'tsc reports nothing')
      await uploads(t, join(dir, 'out/upload.js'), `from-${name}`)
    },
  )
}

t.test('the command runs from the install and uploads', async (t) => {
  const command = join(consumer, 'node_modules/.bin/s3-sink')
  const own = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version
  const { stdout } = await run(command, ['--version'])
  t.equal(stdout, `s3-sink ${own} (@aws-sdk/client-s3 ${version('@aws-sdk/client-s3')}, Node.js ${process.version})\n`)
  const uploaded = await run(
    command,
    [
      `s3://${Bucket}/from-cli`,
      '--file',
      file,
      '--endpoint',
      env.endpoint,
      '--path-style',
      '--part-size',
      '5MiB',
      '--json',
    ],
    {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: env.accessKeyId,
        AWS_SECRET_ACCESS_KEY: env.secretAccessKey,
        AWS_REGION: env.region,
      },
    },
  )
  t.match(JSON.parse(uploaded.stdout), { bucket: Bucket, key: 'from-cli', size: data.length, parts: 2 })
  t.ok((await readObject(client, Bucket, 'from-cli')).equals(data), 'the store holds the file')
})
