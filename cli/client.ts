// The connection to the store: the S3 client the options describe, the set-up checked before the first request,
// and what to do about a failure the store explains.
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import type { Values } from './options.js'
import { UsageError } from './units.js'

/**
 * Given a logger, the SDK logs every failed request in full: the command reports failures itself, in one line.
 * Warnings still reach stderr.
 */
const logger = {
  debug: () => {},
  info: () => {},
  warn: (...args: unknown[]) => console.warn(...args),
  error: () => {},
}

/** The client, once the region and the credentials are known to be there. */
export async function connect(values: Values): Promise<S3Client> {
  const client = makeClient(values)
  await checkSetup(client)
  return client
}

function makeClient(values: Values): S3Client {
  // On Node 20 the SDK warns, in nine lines on every run, that its releases after January 2027 will need Node 22:
  // news for whoever installs the package (the README says so), not for each upload.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const config: S3ClientConfig = { logger }
  if (values.endpoint) config.endpoint = values.endpoint
  if (values.region) config.region = values.region
  if (values['path-style']) config.forcePathStyle = true
  if (values.checksum?.toLowerCase() === 'none') config.requestChecksumCalculation = 'WHEN_REQUIRED'
  return new S3Client(config)
}

/**
 * The region and the credentials, looked up before the first request: without them the SDK fails that request
 * with its own words (`Region is missing`, `Could not load credentials from any providers`), which name none of
 * the ways to give them.
 */
async function checkSetup(client: S3Client): Promise<void> {
  const config = client.config as unknown as { region: () => Promise<string>; credentials: () => Promise<unknown> }
  try {
    await config.region()
  } catch {
    throw new UsageError(
      'no region: give --region REGION or set AWS_REGION (any name, such as us-east-1, does for most ' +
        'S3-compatible stores)',
    )
  }
  try {
    await config.credentials()
  } catch (err) {
    throw new UsageError(
      `no credentials (${(err as Error).message.split('\n')[0]}): set AWS_ACCESS_KEY_ID and ` +
        'AWS_SECRET_ACCESS_KEY, or AWS_PROFILE to a profile of ~/.aws/credentials',
    )
  }
}

/** What to do about a failure the store (or the network) explains, in the command's terms. */
export function hintFor(err: unknown): string | undefined {
  const cause = (err as { cause?: { name?: string; code?: string } }).cause
  const name = cause?.name ?? ''
  const code = cause?.code ?? (err as { code?: string }).code ?? ''
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken'].includes(name)) {
    return 'the store refused the credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)'
  }
  if (name === 'AccessDenied') return 'the credentials are not allowed this request on this bucket'
  if (['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException'].includes(name)) {
    return 'the bucket is in another region: give it with --region (or AWS_REGION)'
  }
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT'].includes(code)) {
    return 'the store could not be reached: check --endpoint (or AWS_ENDPOINT_URL) and the network'
  }
  return undefined
}
