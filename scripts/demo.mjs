// The demo: a gzipped tar of this repository (its sources and installed dependencies), generated on the fly,
// streamed through the s3-sink command into the local store, read back and checked byte for byte.
// Run with `npm run demo`, which builds the package and starts (and afterwards stops) the local store.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { dirname, join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { create } from 'tar'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const endpoint = process.env.S3_ENDPOINT
if (!endpoint) {
  console.error('demo: S3_ENDPOINT is not set; run it with `npm run demo`, which starts a local store')
  process.exit(2)
}
// The command reads credentials and region as the AWS SDK does, from the standard environment variables.
const env = {
  ...process.env,
  AWS_ACCESS_KEY_ID: process.env.S3_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY: process.env.S3_SECRET_ACCESS_KEY,
  AWS_REGION: process.env.S3_REGION ?? 'us-east-1',
}
// The SDK's warning that its 2027 releases need Node 22 (printed on Node 20 for the first client of a process) is
// for whoever installs the package, not part of the demo's report: off for this process, with the SDK's own switch.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
const client = new S3Client({
  endpoint,
  region: env.AWS_REGION,
  forcePathStyle: true,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
})
const Bucket = 's3-sink-demo'
const Key = `archives/s3-sink-${new Date().toISOString().replace(/[:.]/g, '-')}.tar.gz`
await client.send(new CreateBucketCommand({ Bucket })).catch((err) => {
  if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(err.name)) throw err
})

console.error(`demo: streaming a gzipped tar of ${root} to s3://${Bucket}/${Key}\n`)
const archive = create(
  { gzip: true, cwd: root, portable: true, filter: (path) => !/^(\.\/)?(\.git|dist)(\/|$)/.test(path) },
  ['.'],
)
const sent = createHash('sha256')
let bytes = 0
const tee = new Transform({
  transform(chunk, _encoding, callback) {
    sent.update(chunk)
    bytes += chunk.length
    callback(null, chunk)
  },
})
const command = spawn(
  process.execPath,
  [
    join(root, 'dist/cli/s3-sink.js'),
    `s3://${Bucket}/${Key}`,
    '--endpoint',
    endpoint,
    '--path-style',
    '--part-size',
    '5MiB',
    '--content-type',
    'application/gzip',
    '--metadata',
    'made-by=s3-sink-demo',
    '--json',
    '--progress',
  ],
  { env, stdio: ['pipe', 'pipe', 'inherit'] },
)
let stdout = ''
command.stdout.on('data', (chunk) => {
  stdout += chunk
})
const exited = new Promise((resolve) => command.on('exit', resolve))
await pipeline(archive, tee, command.stdin)
const status = await exited
if (status !== 0) {
  console.error(`demo: the s3-sink command failed (exit ${status})`)
  process.exit(1)
}
const result = JSON.parse(stdout)

const stored = createHash('sha256')
const object = await client.send(new GetObjectCommand({ Bucket, Key }))
for await (const chunk of object.Body) stored.update(chunk)
const sentHash = sent.digest('hex')
const storedHash = stored.digest('hex')
const verified = sentHash === storedHash && result.size === bytes

const mib = (n) => `${(n / 2 ** 20).toFixed(1)} MiB`
console.log(`
  object     s3://${Bucket}/${Key}
  size       ${mib(result.size)} (${result.size} bytes)
  parts      ${result.parts} (ETag ${result.etag})
  time       ${result.seconds.toFixed(2)} s, ${result.mibPerSecond} MiB/s
  sha-256    ${sentHash} sent
             ${storedHash} stored
  verified   ${verified ? 'yes: the stored object is the archive that was sent' : 'NO: the stored object differs'}
`)
process.exit(verified ? 0 : 1)
