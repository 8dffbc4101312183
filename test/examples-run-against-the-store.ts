// Every program in examples/ runs as a user would run it — `node examples/<name>.mjs` (a `.ts` one through tsx)
// with only the AWS SDK's standard environment and S3_SINK_EXAMPLE_BUCKET — exits 0 within a minute, says what it
// stored, and leaves objects under its own prefix and no incomplete upload. New examples are picked up by name.
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import t from 'tap'
import { bucketFor } from './fixtures/bucket.js'
import { incompleteUploads, storeEnv } from './fixtures/store.js'

/** How long one example may take: a minute, as the examples promise. */
const EXAMPLE_TIMEOUT = 60_000
const root = fileURLToPath(new URL('..', import.meta.url))
const examples = readdirSync(join(root, 'examples'))
  .filter((name) => /\.(mjs|ts)$/.test(name))
  .sort()
const { client, Bucket } = await bucketFor(t, 'examples')

// A home and a temporary directory of their own: no ~/.aws/config of the machine's reaches the examples, and
// what they keep between runs (the rolling example's position file) goes with the test.
const home = mkdtempSync(join(tmpdir(), 's3-sink-examples-'))
t.teardown(() => rmSync(home, { recursive: true, force: true }))
const store = storeEnv()
const env = {
  PATH: process.env.PATH ?? '',
  HOME: home,
  TMPDIR: home,
  AWS_ENDPOINT_URL: store.endpoint,
  AWS_REGION: store.region,
  AWS_ACCESS_KEY_ID: store.accessKeyId,
  AWS_SECRET_ACCESS_KEY: store.secretAccessKey,
  S3_SINK_EXAMPLE_BUCKET: Bucket,
}

t.ok(examples.length >= 9, `examples/ holds the examples (${examples.join(', ')})`)
// They run one after another, each allowed a minute: the file's timeout (package.json's tap.timeout, 180 s) would
// cut the run short of that with more than two slow ones. A minute more for the bucket and the listings.
t.setTimeout((examples.length + 1) * EXAMPLE_TIMEOUT)

for (const file of examples) {
  const name = file.replace(/\.(mjs|ts)$/, '')
  const prefix = `examples/${name}/`
  t.test(file, async (t) => {
    const args = file.endsWith('.ts') ? ['--import', 'tsx', join('examples', file)] : [join('examples', file)]
    const { code, signal, stdout, stderr } = await new Promise<{
      code: number | null
      signal: NodeJS.Signals | null
      stdout: string
      stderr: string
    }>((resolve) => {
      const child = execFile(
        process.execPath,
        args,
        { cwd: root, env, timeout: EXAMPLE_TIMEOUT, maxBuffer: 16 * 1024 * 1024 },
        (_err, stdout, stderr) => resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr }),
      )
    })
    t.equal(code, 0, `exits 0 within a minute${signal ? ` (ended by ${signal})` : ''}`, { stdout, stderr })
    t.match(stdout, `s3://${Bucket}/${prefix}`, 'prints what it stored')

    const listed = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix }))
    const keys = (listed.Contents ?? []).map((o) => o.Key)
    t.ok(keys.length > 0, `the store holds objects under ${prefix}: ${keys.join(', ')}`)
    t.same(
      (await incompleteUploads(client, Bucket)).map((u) => u.Key).filter((key) => key?.startsWith(prefix)),
      [],
      'no incomplete upload is left under its prefix',
    )
  })
}
