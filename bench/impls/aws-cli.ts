// aws-cli (`aws s3 cp - s3://bucket/key`) reading the stream on stdin: s3transfer's multipart upload, 8 MiB parts
// and 10 requests at once by default. Debian's /usr/bin/aws first: a pyenv shim earlier on PATH may stand for
// another install, or for none.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { findExecutable, processUploader, TLS_CERT } from './process.js'

const aws = () => findExecutable('aws', ['/usr/bin/aws'])

export const impl = processUploader(
  (target, c, dir) => {
    // Path-style addressing, and the case's part size and concurrency unless it asks for the defaults.
    const config = join(dir, 'config')
    const tuning = c.defaults
      ? ''
      : `  multipart_chunksize = ${c.partSize}\n  max_concurrent_requests = ${c.concurrency}\n`
    writeFileSync(config, `[default]\ns3 =\n  addressing_style = path\n${tuning}`)
    return {
      file: aws() as string,
      args: [
        's3',
        'cp',
        '-',
        `s3://${target.bucket}/${c.key}`,
        '--endpoint-url',
        target.endpoint,
        '--only-show-errors',
      ],
      env: {
        AWS_CONFIG_FILE: config,
        AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
        AWS_ACCESS_KEY_ID: target.accessKeyId,
        AWS_SECRET_ACCESS_KEY: target.secretAccessKey,
        AWS_DEFAULT_REGION: target.region,
        AWS_EC2_METADATA_DISABLED: 'true',
        ...(target.endpoint.startsWith('https:') ? { AWS_CA_BUNDLE: TLS_CERT } : {}),
      },
    }
  },
  () => aws() !== undefined,
)
