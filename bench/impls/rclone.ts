// rclone (`rclone rcat remote:bucket/key`) reading the stream on stdin: a streamed multipart upload, 5 MiB parts
// and 4 at once by default. The remote is defined by environment variables, so no configuration file is read.
import { findExecutable, processUploader, TLS_CERT } from './process.js'

const rclone = () => findExecutable('rclone')

export const impl = processUploader(
  (target, c) => ({
    file: rclone() as string,
    args: [
      'rcat',
      `bench:${target.bucket}/${c.key}`,
      '--config',
      '/dev/null',
      // The bucket is there: no request to check or create it.
      '--s3-no-check-bucket',
      ...(c.defaults ? [] : ['--s3-chunk-size', String(c.partSize), '--s3-upload-concurrency', String(c.concurrency)]),
      ...(target.endpoint.startsWith('https:') ? ['--ca-cert', TLS_CERT] : []),
    ],
    env: {
      RCLONE_CONFIG_BENCH_TYPE: 's3',
      RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
      RCLONE_CONFIG_BENCH_ENDPOINT: target.endpoint,
      RCLONE_CONFIG_BENCH_REGION: target.region,
      RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: target.accessKeyId,
      RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: target.secretAccessKey,
      RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
    },
  }),
  () => rclone() !== undefined,
)
