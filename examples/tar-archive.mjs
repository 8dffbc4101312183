// Backs up a directory to S3 as a .tar.gz generated on the fly: the archive is never written to disk, and
// memory stays at a few parts whatever the directory's size. Uses `tar` (npm install tar).
//
//   S3_SINK_EXAMPLE_BUCKET=my-bucket node examples/tar-archive.mjs
//
// Credentials and region come from the AWS SDK's usual environment (AWS_REGION, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, a profile, …); AWS_ENDPOINT_URL points it at another S3-compatible store.
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finished, pipeline } from 'node:stream/promises'
import { S3Client } from '@aws-sdk/client-s3'
import { S3Sink } from 's3-sink'
import { create } from 'tar'

const Bucket = process.env.S3_SINK_EXAMPLE_BUCKET
if (!Bucket) throw new Error('set S3_SINK_EXAMPLE_BUCKET to the bucket to store into')
// A custom endpoint (a local store) needs path-style addressing; AWS itself does not.
const client = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) })

// The input: a small directory tree to back up.
const dir = await mkdtemp(join(tmpdir(), 's3-sink-example-'))
await mkdir(join(dir, 'site/images'), { recursive: true })
await writeFile(join(dir, 'site/index.html'), '<!doctype html><title>Backed up</title><img src="images/a.bin">\n')
await writeFile(join(dir, 'site/images/a.bin'), randomBytes(3 * 1024 * 1024))
await writeFile(join(dir, 'site/images/b.bin'), randomBytes(4 * 1024 * 1024))

const Key = 'examples/tar-archive/site.tar.gz'
const sink = new S3Sink({ client, params: { Bucket, Key, ContentType: 'application/gzip' } })
const entries = []
try {
  // tar streams the archive as it reads the files; the sink uploads it part by part as it comes.
  const archive = create({ gzip: true, cwd: dir, portable: true, onWriteEntry: (entry) => entries.push(entry.path) }, [
    'site',
  ])
  await pipeline(archive, sink)
} catch (err) {
  // pipeline() may reject before the sink has finished aborting the upload (Node 20 does when the source fails):
  // wait for the sink to close before going on or exiting.
  await finished(sink).catch(() => {}) // the sink has closed: its clean-up (the upload aborted) is over
  throw err
} finally {
  await rm(dir, { recursive: true, force: true })
}

const { size, parts, ETag } = sink.result
console.log(`stored s3://${Bucket}/${Key}: ${size} bytes, ${parts} parts, ETag ${ETag}, holding:`)
for (const path of entries) console.log(`  ${path}`)
