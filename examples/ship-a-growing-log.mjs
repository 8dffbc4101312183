// Ships a log file that an application keeps writing, with `s3-sink roll --file --follow --checkpoint`: objects of
// whole lines, and a checkpoint saved before every request that stores something. The shipper is killed with
// SIGKILL half-way (as a crash or an OOM kill would) and started again with the same command: it continues from
// the checkpoint, and the objects, in {index} order, hold each line of the file once.
//
//   S3_SINK_EXAMPLE_BUCKET=my-bucket node examples/ship-a-growing-log.mjs
//
// Credentials and region come from the AWS SDK's usual environment (AWS_REGION, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, a profile, …); AWS_ENDPOINT_URL points it at another S3-compatible store.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'

const Bucket = process.env.S3_SINK_EXAMPLE_BUCKET
if (!Bucket) throw new Error('set S3_SINK_EXAMPLE_BUCKET to the bucket to store into')
// A custom endpoint (a local store) needs path-style addressing; AWS itself does not.
const client = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) })

// The command that comes with the package (its "bin"), run with this Node.
const packageDir = dirname(createRequire(import.meta.url).resolve('s3-sink/package.json'))
const cli = join(packageDir, 'dist/cli/s3-sink.js')

const dir = mkdtempSync(join(tmpdir(), 'ship-a-growing-log-'))
const log = join(dir, 'app.log')
const checkpoint = join(dir, 'app.checkpoint')
const prefix = `examples/ship-a-growing-log/${randomBytes(4).toString('hex')}/`
writeFileSync(log, '')

// The application: a burst of JSON lines every 20 ms.
let sequence = 0
const app = setInterval(() => {
  let lines = ''
  for (let i = 0; i < 50; i++) {
    lines += `${JSON.stringify({ time: new Date().toISOString(), seq: sequence++, msg: randomBytes(16).toString('hex') })}\n`
  }
  appendFileSync(log, lines)
}, 20)

/** The shipper: the same command every time; the checkpoint file tells it where to continue. */
function ship() {
  const args = [
    cli,
    'roll',
    `s3://${Bucket}/${prefix}{index}.log`,
    '--file',
    log,
    '--follow',
    '--checkpoint',
    checkpoint,
    '--max-object-size',
    '64KiB',
    '--max-object-age',
    '1s',
    '--quiet',
    ...(process.env.AWS_ENDPOINT_URL ? ['--path-style'] : []),
  ]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] })
  return { child, exited: once(child, 'exit') }
}

let shipper = ship()
await sleep(3000)
shipper.child.kill('SIGKILL')
await shipper.exited
console.error('the shipper was killed with SIGKILL; starting it again with the same command')
shipper = ship()
await sleep(3000)
clearInterval(app)
// Let it catch up with the end of the file, then stop it as a service manager would: SIGTERM stores what was read.
await sleep(2500)
shipper.child.kill('SIGTERM')
const [code] = await shipper.exited
if (code !== 0) throw new Error(`the shipper exited with ${code}`)

// What the bucket holds, in {index} order, against the file.
const listed = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix }))
const keys = (listed.Contents ?? []).map((o) => o.Key).sort()
const parts = []
for (const Key of keys) {
  const object = await client.send(new GetObjectCommand({ Bucket, Key }))
  parts.push(Buffer.from(await object.Body.transformToByteArray()))
}
const stored = Buffer.concat(parts)
const file = readFileSync(log)
const saved = JSON.parse(readFileSync(checkpoint, 'utf8'))
rmSync(dir, { recursive: true, force: true })
console.log(`stored ${keys.length} objects under s3://${Bucket}/${prefix}: ${stored.length} bytes`)
console.log(
  `the log file: ${file.length} bytes, ${sequence} lines; the checkpoint is at input offset ${saved.state.offset}`,
)
if (!stored.equals(file)) throw new Error('the objects are not the log file, each line once')
console.log('the objects, in {index} order, are the log file byte for byte: each line once, none lost')
