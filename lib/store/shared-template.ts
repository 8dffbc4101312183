// Request templates shared by the sinks of one client: the SDK builds a PutObject or UploadPart request once per
// bucket and set of headers, not once per object.
import type { S3Client } from '@aws-sdk/client-s3'
import { captureTemplate, type WireTemplate, withPath } from './wire.js'

/** A captured template and where its key sits in its path. */
interface KeyedTemplate {
  template: WireTemplate
  /** The path before and after the escaped key. */
  before: string
  after: string
}

/** Keys the two captures are made with: the second has characters the SDK escapes, to check our escaping. */
const KEY_A = 's3-sink-template-key'
const KEY_B = "s3-sink/template key ü+!'()*~=&?#%.x"
/** Sets of params kept per client: a process that writes objects of many shapes does not grow without end. */
const MAX_TEMPLATES = 32

const shared = new WeakMap<S3Client, Map<string, Promise<KeyedTemplate | undefined>>>()

/**
 * The template of `command(Key)` for the object `key`. Building one through the SDK's middleware stack costs more
 * CPU than the rest of a small object's upload; so the SDK builds it once per client and set of params (`shape`:
 * everything but the key), twice in fact, for two keys, and it is shared only where the two differ in the escaped
 * key alone and the escaping is the SDK's (S3's label escaping, per segment). Elsewhere — an endpoint that depends
 * on the key, another escaping — every object gets a template built for its own key, as the SDK would build it.
 */
export async function templateFor(
  client: S3Client,
  shape: string,
  command: (key: string) => object,
  key: string,
  signal: AbortSignal,
): Promise<WireTemplate> {
  let byShape = shared.get(client)
  if (!byShape) {
    byShape = new Map()
    shared.set(client, byShape)
  }
  let keyed = byShape.get(shape)
  if (!keyed) {
    // Captures make no request: no signal of one sink's may cancel what other sinks wait for.
    const making = keyedTemplate(client, command)
    making.catch(() => {
      if (byShape.get(shape) === making) byShape.delete(shape)
    })
    if (byShape.size >= MAX_TEMPLATES) byShape.delete(byShape.keys().next().value as string)
    byShape.set(shape, making)
    keyed = making
  }
  const found = await keyed
  if (!found) return captureTemplate(client, command(key), signal)
  return withPath(found.template, `${found.before}${escapeKey(key)}${found.after}`)
}

async function keyedTemplate(client: S3Client, command: (key: string) => object): Promise<KeyedTemplate | undefined> {
  const signal = new AbortController().signal
  const a = await captureTemplate(client, command(KEY_A), signal)
  const b = await captureTemplate(client, command(KEY_B), signal)
  const at = a.request.path.indexOf(KEY_A)
  if (at < 0 || a.request.path.indexOf(KEY_A, at + 1) >= 0) return undefined
  const before = a.request.path.slice(0, at)
  const after = a.request.path.slice(at + KEY_A.length)
  const same = (x: WireTemplate) => JSON.stringify({ ...x.request, path: '' })
  if (b.request.path !== `${before}${escapeKey(KEY_B)}${after}` || same(a) !== same(b)) return undefined
  return { template: a, before, after }
}

/** S3's escaping of an object key in a request path: each segment URI-encoded, `!'()*` too, `/` kept. */
function escapeKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      /^[\w.~-]+$/.test(segment)
        ? segment
        : encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/')
}
