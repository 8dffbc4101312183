// The s3-sink command (dist/cli/s3-sink.js, built by `npm run build`) reading the stream on stdin, in a Node
// process of its own as a user runs it: `… | s3-sink s3://bucket/key`.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { processUploader, TLS_CERT } from './process.js'

const COMMAND = fileURLToPath(new URL('../../dist/cli/s3-sink.js', import.meta.url))

export const impl = processUploader(
  (target, c) => ({
    file: process.execPath,
    args: [
      COMMAND,
      `s3://${target.bucket}/${c.key}`,
      '--endpoint',
      target.endpoint,
      '--region',
      target.region,
      '--path-style',
      '--quiet',
      ...(c.defaults ? [] : ['--part-size', String(c.partSize), '--concurrency', String(c.concurrency)]),
    ],
    env: {
      AWS_ACCESS_KEY_ID: target.accessKeyId,
      AWS_SECRET_ACCESS_KEY: target.secretAccessKey,
      NODE_EXTRA_CA_CERTS: TLS_CERT,
      // Nothing of the host's AWS configuration.
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    },
  }),
  () => existsSync(COMMAND),
)
