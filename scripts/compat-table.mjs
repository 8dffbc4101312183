// The compatibility table of docs/stores.md, from a run: a compact matrix of what s3-sink does against each
// local store (multipart, growing parts, each checksum, whole-object checksums, SSE, conditional writes, resume,
// stale uploads, the command line), through the package's public API and its command, as users run them.
//
//   npm run compat                          every store (swift ceph moto), the table on stdout
//   npm run compat -- --write ceph          the named stores; --write puts the table into docs/stores.md
//   node scripts/compat-table.mjs --probe   the matrix against the store in S3_* (one JSON line)
//
// Each store is started and stopped by scripts/local-store.sh, as for the tests.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { abortIncompleteUploads, listIncompleteUploads, S3Sink } from 's3-sink'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const MiB = 1024 * 1024
const STORES = ['swift', 'ceph', 'moto']
const NAMES = { swift: 'OpenStack Swift (s3api)', ceph: 'Ceph RGW', moto: 'moto' }
const START = '<!-- compat-table:start -->'
const END = '<!-- compat-table:end -->'

const args = process.argv.slice(2)
if (args.includes('--probe')) {
  console.log(JSON.stringify(await probe()))
} else {
  const stores = args.filter((a) => !a.startsWith('--'))
  const results = []
  for (const store of stores.length ? stores : STORES) results.push(await runOn(store))
  const table = markdown(results)
  console.log(table)
  if (args.includes('--write')) {
    const page = join(root, 'docs/stores.md')
    const text = readFileSync(page, 'utf8')
    const [before, rest] = text.split(START)
    if (rest === undefined || !rest.includes(END)) throw new Error(`docs/stores.md has no ${START} … ${END}`)
    writeFileSync(page, `${before}${START}\n${table}\n${END}${rest.slice(rest.indexOf(END) + END.length)}`)
    console.error('compat-table: docs/stores.md updated')
  }
}

/** Starts `store`, runs the matrix against it in a process of its own, stops it. */
async function runOn(store) {
  console.error(`compat-table: ${store}`)
  const child = spawn(
    join(root, 'scripts/local-store.sh'),
    ['run', '--', process.execPath, fileURLToPath(import.meta.url), '--probe'],
    { env: { ...process.env, S3_STORE: store, S3_ENDPOINT: '' }, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let out = ''
  child.stdout.on('data', (chunk) => {
    out += chunk
  })
  const status = await new Promise((resolve) => child.on('exit', resolve))
  const line = out.trim().split('\n').pop()
  if (status !== 0 || !line) throw new Error(`compat-table: the run on ${store} failed (exit ${status})`)
  return JSON.parse(line)
}

function markdown(results) {
  const head = `| | ${results.map((r) => `${NAMES[r.store] ?? r.store} ${r.version}`).join(' | ')} |`
  const rule = `| --- | ${results.map(() => '---').join(' | ')} |`
  const rows = results[0].rows.map(
    ([feature], i) => `| ${feature} | ${results.map((r) => r.rows[i]?.[1] ?? '').join(' | ')} |`,
  )
  return [head, rule, ...rows].join('\n')
}

/** The store's version, as its package says it. */
function versionOf(store) {
  const run = (cmd, argv) => spawnSync(cmd, argv, { encoding: 'utf8' }).stdout?.trim() ?? ''
  // `dpkg-query -W` prints the package and its version, tab-separated: 2.30.1-0+deb12u1 → 2.30.1.
  const debian = (pkg) => (run('dpkg-query', ['-W', pkg]).split('\t')[1] ?? '').replace(/[-+~].*$/, '')
  if (store === 'swift') return debian('swift')
  if (store === 'ceph') return debian('radosgw')
  if (store === 'moto') return run('python3', ['-c', 'import moto; print(moto.__version__)'])
  return ''
}

async function probe() {
  const env = process.env
  const store = env.S3_STORE ?? 'other'
  const credentials = { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY }
  const client = new S3Client({
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION ?? 'us-east-1',
    forcePathStyle: true,
    credentials,
  })
  const Bucket = `s3sink-compat-${randomBytes(4).toString('hex')}`
  // Swift, just started, may answer 503 while its account is being made.
  for (let attempt = 1; ; attempt++) {
    const made = await client.send(new CreateBucketCommand({ Bucket })).then(
      () => true,
      (err) => {
        if (attempt >= 20 || err.$metadata?.httpStatusCode !== 503) throw err
        return false
      },
    )
    if (made) break
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  const rows = []
  /** One row: what `fn` found, or how it failed. */
  const row = async (feature, fn) => {
    let cell
    try {
      cell = await fn()
    } catch (err) {
      cell = `fails: ${err.code ?? err.name} ${String(err.message).slice(0, 80)}`
    }
    rows.push([feature, cell])
  }
  const upload = async (Key, data, options = {}) => {
    const { params, ...rest } = options
    const sink = new S3Sink({ client, params: { Bucket, Key, ...params }, partSize: 5 * MiB, ...rest })
    const parts = []
    sink.on('part', (p) => parts.push(p))
    const chunks = []
    for (let i = 0; i < data.length; i += 256 * 1024) chunks.push(data.subarray(i, i + 256 * 1024))
    const error = await pipeline(Readable.from(chunks), sink).then(
      () => undefined,
      (err) => err,
    )
    return { sink, parts, error }
  }
  const read = async (Key, extra = {}) => {
    const out = await client.send(new GetObjectCommand({ Bucket, Key, ...extra }))
    return Buffer.from(await out.Body.transformToByteArray())
  }
  const status = (promise) =>
    promise.then(
      () => 200,
      (err) => err.$metadata?.httpStatusCode,
    )
  const same = async (Key, data) => (await read(Key)).equals(data)
  /** Why the upload failed, in a few words, for a feature the store lacks. */
  const refusal = (error) => {
    if (error?.code !== 'ERR_S3_SINK_NOT_SUPPORTED') throw error ?? new Error('stored without error')
    const how = /without confirming/.test(error.message) ? 'headers ignored' : `answers ${error.statusCode}`
    return `no (${how}): \`ERR_S3_SINK_NOT_SUPPORTED\``
  }
  const data = randomBytes(11 * MiB + 5)

  await row('multipart upload (3 parts, read back)', async () => {
    const { sink, error } = await upload('multipart', data)
    if (error) throw error
    const ok = sink.result.parts === 3 && /-3"$/.test(sink.result.ETag) && (await same('multipart', data))
    return ok ? 'yes' : 'NO: stored bytes differ'
  })
  await row("Complete's ETag", async () => {
    const Key = 'raw-complete'
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }))
    const part = await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'x' }))
    const done = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    )
    return done.ETag ? 'in the answer' : 'empty: read back with `HeadObject`'
  })
  await row('short and empty streams (one `PutObject`)', async () => {
    for (const size of [0, 1000]) {
      const { sink, error } = await upload(`short-${size}`, data.subarray(0, size))
      if (error) throw error
      if (sink.result.parts !== 0 || !(await same(`short-${size}`, data.subarray(0, size)))) return 'NO'
    }
    return 'yes'
  })
  await row('growing parts (`maxParts: 20`, 27 MiB)', async () => {
    const grown = randomBytes(27 * MiB + 999)
    const { parts, error } = await upload('grown', grown, { maxParts: 20 })
    if (error) throw error
    const sizes = parts.sort((a, b) => a.partNumber - b.partNumber).map((p) => Math.round(p.size / MiB))
    return (await same('grown', grown)) ? `yes (${sizes.join(', ')} MiB)` : 'NO'
  })
  /** Whether the store echoed the part checksums of the first upload with checksums. */
  let echoes
  const checksumCell = async (Key, checksum, ChecksumType) => {
    const { sink, parts, error } = await upload(Key, data, { checksum, params: ChecksumType ? { ChecksumType } : {} })
    if (error?.code === 'ERR_S3_SINK_CHECKSUM_MISMATCH')
      return 'store reports a wrong value: `ERR_S3_SINK_CHECKSUM_MISMATCH`'
    if (error) throw error
    if (!(await same(Key, data))) return 'NO'
    echoes ??= parts.every((p) => p.checksumAcknowledged)
    return sink.result.checksum.verifiedByStore ? 'verified by the store' : 'computed; the store keeps none'
  }
  for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256']) {
    await row(`checksum ${algorithm} (parts, and the object's)`, () => checksumCell(`sum-${algorithm}`, algorithm))
  }
  for (const type of ['FULL_OBJECT', 'COMPOSITE']) {
    await row(`whole-object checksum \`${type}\` (CRC32)`, () => checksumCell(`type-${type}`, 'CRC32', type))
  }
  await row('part checksums echoed (then listed in Complete)', async () => (echoes ? 'yes' : 'no'))
  await row('`checksum: false`, default `S3Client`', async () => {
    for (const size of [1000, data.length]) {
      const { error } = await upload(`no-sum-${size}`, data.subarray(0, size), { checksum: false })
      if (error) throw error
      if (!(await same(`no-sum-${size}`, data.subarray(0, size)))) return 'NO'
    }
    return 'yes'
  })
  await row("SSE-S3 (`ServerSideEncryption: 'AES256'`)", async () => {
    const { error } = await upload('sse', data, { params: { ServerSideEncryption: 'AES256' } })
    if (error) return refusal(error)
    const head = await client.send(new HeadObjectCommand({ Bucket, Key: 'sse' }))
    return head.ServerSideEncryption === 'AES256' ? 'yes' : 'NO: not reported'
  })
  await row('SSE-C (customer key)', async () => {
    const sse = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: randomBytes(32).toString('base64') }
    const { error } = await upload('sse-c', data, { params: sse })
    if (error) return refusal(error)
    const without = await status(client.send(new HeadObjectCommand({ Bucket, Key: 'sse-c' })))
    const ok = without === 400 && (await read('sse-c', sse)).equals(data)
    return ok ? 'yes (unreadable without the key)' : 'NO: readable without the key'
  })
  for (const [what, size] of [
    ['`PutObject`', 1000],
    ['multipart', data.length],
  ]) {
    await row(`\`IfNoneMatch: '*'\` on an existing key, ${what}`, async () => {
      const Key = `exists-${size}`
      await client.send(new PutObjectCommand({ Bucket, Key, Body: 'first' }))
      const { error } = await upload(Key, data.subarray(0, size), { params: { IfNoneMatch: '*' } })
      const kept = (await read(Key)).toString() === 'first'
      if (!error) return kept ? 'NO' : '**ignored: the object is overwritten**'
      if (error.statusCode === 412 && kept) return 'yes (412)'
      return refusal(error)
    })
  }
  await row('resume (`suspend()`, then `resume: state`)', async () => {
    const first = new S3Sink({ client, params: { Bucket, Key: 'resumed' }, partSize: 5 * MiB, concurrency: 1 })
    const suspended = new Promise((resolve, reject) => {
      first.on('part', () => {
        if (first.progress.partsUploaded === 1) first.suspend().then(resolve, reject)
      })
    })
    const chunks = []
    for (let i = 0; i < data.length; i += 256 * 1024) chunks.push(data.subarray(i, i + 256 * 1024))
    await pipeline(Readable.from(chunks), first).catch(() => {})
    const state = JSON.parse(JSON.stringify(await suspended))
    const { parts, error } = await upload('resumed', data, { resume: state })
    if (error) throw error
    return (await same('resumed', data)) ? `yes (${state.parts.length} part kept, ${parts.length} sent)` : 'NO'
  })
  await row('stale uploads (`ls-incomplete`, `abort-incomplete --older-than`)', async () => {
    const Key = 'stale/forgotten'
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }))
    await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'x' }))
    const [found] = await listIncompleteUploads(client, { Bucket, Prefix: 'stale/' })
    if (found?.UploadId !== UploadId || found.parts !== 1) return 'NO: not listed'
    const young = await abortIncompleteUploads(client, { Bucket, Prefix: 'stale/', olderThan: 3600_000 })
    await abortIncompleteUploads(client, { Bucket, Prefix: 'stale/', olderThan: 0 })
    if (young.length === 0) return 'yes'
    const when = found.Initiated?.toISOString().slice(0, 10)
    return `listed, but every \`Initiated\` is ${when}: **\`--older-than\` aborts new uploads**`
  })
  await row('the `s3-sink` command (stdin, `--json`)', async () => {
    const cli = spawn(
      process.execPath,
      [
        join(root, 'dist/cli/s3-sink.js'),
        `s3://${Bucket}/cli`,
        '--endpoint',
        env.S3_ENDPOINT,
        '--path-style',
        '--part-size',
        '5MiB',
        '--json',
      ],
      {
        env: {
          ...env,
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_REGION: 'us-east-1',
        },
        stdio: ['pipe', 'pipe', 'ignore'],
      },
    )
    let out = ''
    cli.stdout.on('data', (chunk) => {
      out += chunk
    })
    const exited = new Promise((resolve) => cli.on('exit', resolve))
    cli.stdin.end(data)
    const code = await exited
    if (code !== 0) return `NO (exit ${code})`
    return JSON.parse(out).parts === 3 && (await same('cli', data)) ? 'yes' : 'NO'
  })

  // Empty the bucket and remove it.
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket }))
  for (const u of uploads.Uploads ?? []) {
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key: u.Key, UploadId: u.UploadId }))
  }
  const listed = await client.send(new ListObjectsV2Command({ Bucket }))
  for (const o of listed.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket, Key: o.Key }))
  await client.send(new DeleteBucketCommand({ Bucket })).catch(() => {})
  client.destroy()
  return { store, version: versionOf(store), rows }
}
