import { randomBytes } from 'node:crypto'
import type { ZlibOptions } from 'node:zlib'
import { integer, invalidType, invalidValue, sizeName } from '../core/arguments.js'
import { S3SinkError } from '../core/errors.js'
import { MIB } from '../core/limits.js'
import type { RollingObjectState, RollingResumeState } from '../core/types.js'
import { type ResolvedOptions, resolveOptions, type S3SinkOptions, type S3SinkParams } from '../sink/options.js'
import { type KeyOption, KeyTemplate } from './key-template.js'

/** The options of an {@link S3RollingSink}. */
export interface S3RollingSinkOptions
  extends Omit<S3SinkOptions, 'params' | 'resume' | 'sourceOffset' | 'expectedSize'> {
  /** Bucket and the headers of every object (ContentType, Metadata, …), without Key. Required. */
  params: Omit<S3SinkParams, 'Key'>
  /**
   * Each object's key: a template of `%Y %m %d %H %M %S` (UTC, of the object's first byte), `%%` (a `%`),
   * `{index}` (the object's number in this sink from 0, zero-padded to 8 digits so that keys sort) and `{id}`,
   * or a function of `{ index, id, time }`. Another token is a TypeError. A key this sink has already
   * produced fails the sink (`ERR_S3_SINK_KEY_REPEATED`) before anything is overwritten. Required.
   */
  key: KeyOption
  /**
   * The most input bytes an object holds: an object ends before the record that would take it past this. A
   * record longer than this alone is stored whole, in an object of its own.
   * @default 64 MiB
   */
  maxObjectBytes?: number
  /**
   * Ms from an object's first byte until it ends, whether writes come or not (an object whose first record
   * has not ended then ends with that record). `Infinity`: by size and `end()` only.
   * @default 300000 (5 minutes)
   */
  maxObjectAge?: number
  /**
   * What ends a record: objects are cut only right after it (a string is taken as UTF-8). `null`: records are
   * not kept whole, and every object but the last holds exactly `maxObjectBytes`.
   * @default '\n'
   */
  delimiter?: string | Uint8Array | null
  /**
   * Store each object as a standalone gzip file (`ContentEncoding: gzip` unless params say otherwise); `true`
   * or zlib's options (`{ level: 9 }`). Sizes and offsets count input bytes.
   * @default false
   */
  gzip?: boolean | ZlibOptions
  /**
   * This writer's id, for `{id}` in the key: give each process its own and their keys never collide.
   * @default 12 random hex digits, new for each sink
   */
  id?: string
  /**
   * A state from an earlier sink's `'checkpoint'` event, to continue where it stopped: write the source again
   * from `resume.offset`. Each object it had in flight gets the same index and key; a multipart upload is taken up
   * (its stored parts are checked against the bytes written again, not sent again), an object stored meanwhile is
   * recognised and not stored again, and later objects get the indices that follow. Cuts fall on the same bytes.
   * A state that does not fit the options (bucket, key template, delimiter, `maxObjectBytes`, gzip, id) is refused
   * with `ERR_S3_SINK_RESUME_MISMATCH`. The sink takes on the state's `id`.
   * @default none: a new sink, objects from index 0
   */
  resume?: RollingResumeState
}

/** Rolling options after checking, with every default applied. */
export interface ResolvedRollingOptions {
  /** What every object's sink is made with, but its Key. */
  objectOptions: Omit<S3SinkOptions, 'params' | 'signal'> & { params: Omit<S3SinkParams, 'Key'> }
  /** The per-object options as an object's sink sees them (for the window's size and the signal). */
  resolved: ResolvedOptions
  key: KeyOption
  template: KeyTemplate | undefined
  maxObjectBytes: number
  maxObjectAge: number
  delimiter: Buffer | null
  gzip: ZlibOptions | undefined
  id: string
  resume: RollingResumeState | undefined
}

export const DEFAULT_MAX_OBJECT_BYTES = 64 * MIB
export const DEFAULT_MAX_OBJECT_AGE = 300_000
/** The longest timer Node keeps (longer ones fire at once). */
const MAX_TIMER_MS = 2_147_483_647

const ROLLING_ONLY = ['key', 'maxObjectBytes', 'maxObjectAge', 'delimiter', 'gzip', 'id', 'resume'] as const

/** Checks every option of a rolling sink and applies the defaults; throws TypeError or RangeError. */
export function resolveRollingOptions(options: unknown): ResolvedRollingOptions {
  if (typeof options !== 'object' || options === null) throw invalidType('options', 'an object', options)
  const o = options as Record<string, unknown>
  for (const name of ['sourceOffset', 'expectedSize'] as const) {
    if (o[name] !== undefined) {
      throw invalidValue(name, 'absent (a rolling sink starts every object from its first byte)', o[name])
    }
  }
  if (typeof o.params !== 'object' || o.params === null) {
    throw invalidType('params', 'an object with Bucket', o.params)
  }
  const params = o.params as Record<string, unknown>
  if (params.Key !== undefined) throw invalidValue('params.Key', 'absent (keys come from the key option)', params.Key)

  const key = o.key
  let template: KeyTemplate | undefined
  if (typeof key === 'string') {
    if (key === '') throw invalidType('key', 'a non-empty template or a function', key)
    template = new KeyTemplate(key)
  } else if (typeof key !== 'function') {
    throw invalidType('key', 'a template string or a function', key)
  }
  const resume = o.resume === undefined ? undefined : checkRollingState(o.resume)
  const id = o.id ?? resume?.id ?? randomBytes(6).toString('hex')
  if (typeof id !== 'string' || id === '') throw invalidType('id', 'a non-empty string', id)

  const maxObjectBytes = integer(
    'maxObjectBytes',
    o.maxObjectBytes,
    DEFAULT_MAX_OBJECT_BYTES,
    1,
    Number.MAX_SAFE_INTEGER,
    sizeName,
  )
  const maxObjectAge =
    o.maxObjectAge === Number.POSITIVE_INFINITY
      ? Number.POSITIVE_INFINITY
      : integer('maxObjectAge', o.maxObjectAge, DEFAULT_MAX_OBJECT_AGE, 1, MAX_TIMER_MS)

  const delimiter = o.delimiter === undefined ? '\n' : o.delimiter
  let delimiterBytes: Buffer | null
  if (delimiter === null) delimiterBytes = null
  else if (typeof delimiter === 'string') delimiterBytes = Buffer.from(delimiter, 'utf8')
  else if (delimiter instanceof Uint8Array) delimiterBytes = Buffer.from(delimiter)
  else throw invalidType('delimiter', 'a string, a Uint8Array or null', delimiter)
  if (delimiterBytes?.length === 0) throw invalidValue('delimiter', 'at least one byte, or null', delimiter)

  const gzipOption = o.gzip ?? false
  if (typeof gzipOption !== 'boolean' && (typeof gzipOption !== 'object' || gzipOption === null)) {
    throw invalidType('gzip', "a boolean or zlib's options", gzipOption)
  }
  const gzip = gzipOption === false ? undefined : gzipOption === true ? {} : (gzipOption as ZlibOptions)

  const objectParams: Record<string, unknown> = { ...params }
  if (gzip && objectParams.ContentEncoding === undefined) objectParams.ContentEncoding = 'gzip'
  const objectOptions: Record<string, unknown> = { ...o, params: objectParams }
  for (const name of ROLLING_ONLY) delete objectOptions[name]
  // Every object's sink is checked the same way: a sample key finds a bad per-object option now.
  const resolved = resolveOptions({ ...objectOptions, params: { ...objectParams, Key: 'k' } })
  delete objectOptions.signal

  if (resume) {
    checkFit(resume, {
      id,
      bucket: params.Bucket,
      key: typeof key === 'string' ? key : null,
      delimiter: delimiterBytes?.toString('base64') ?? null,
      maxObjectBytes,
      gzip: gzip !== undefined,
    })
  }

  return {
    objectOptions: objectOptions as ResolvedRollingOptions['objectOptions'],
    resolved,
    key: key as KeyOption,
    template,
    maxObjectBytes,
    maxObjectAge,
    delimiter: delimiterBytes,
    gzip,
    id,
    resume,
  }
}

/** The fields of a rolling state that must match the options, as the state writes them. */
type Fit = Omit<Pick<RollingResumeState, 'id' | 'bucket' | 'key' | 'delimiter' | 'maxObjectBytes' | 'gzip'>, 'bucket'>

/** A state the options cannot continue: its objects would be cut, named or stored otherwise. */
function checkFit(state: RollingResumeState, options: Fit & { bucket: unknown }): void {
  for (const field of ['id', 'bucket', 'key', 'delimiter', 'maxObjectBytes', 'gzip'] as const) {
    // Keys made by a function cannot be compared: the caller answers for giving the same one.
    if (field === 'key' && (state.key === null || options.key === null)) continue
    if (state[field] === options[field]) continue
    const name = field === 'bucket' ? 'params.Bucket' : field
    throw new S3SinkError(
      'ERR_S3_SINK_RESUME_MISMATCH',
      `the resume state was written with ${field} ${JSON.stringify(state[field])}, but ${name} is ` +
        `${JSON.stringify(options[field])}: give the options the state was written with`,
      { bucket: state.bucket },
    )
  }
}

/** Checks the shape of a rolling resume state (a TypeError names what is wrong). */
function checkRollingState(value: unknown): RollingResumeState {
  const state = value as RollingResumeState
  if (typeof state !== 'object' || state === null) throw invalidType('resume', 'a RollingResumeState object', value)
  if (state.version !== 1) throw invalidValue('resume.version', '1', state.version)
  if (typeof state.id !== 'string' || state.id === '') throw invalidType('resume.id', 'a non-empty string', state.id)
  if (typeof state.bucket !== 'string') throw invalidType('resume.bucket', 'a string', state.bucket)
  for (const name of ['nextIndex', 'offset', 'maxObjectBytes'] as const) {
    if (!Number.isSafeInteger(state[name]) || state[name] < 0) {
      throw invalidType(`resume.${name}`, 'an integer ≥ 0', state[name])
    }
  }
  if (!Array.isArray(state.objects)) throw invalidType('resume.objects', 'an array', state.objects)
  let offset = state.offset
  let index: number | undefined
  for (const [i, object] of state.objects.entries()) {
    const o = object as RollingObjectState
    const fits =
      typeof o === 'object' &&
      o !== null &&
      Number.isSafeInteger(o.index) &&
      (index === undefined || o.index === index + 1) &&
      o.index < state.nextIndex &&
      typeof o.key === 'string' &&
      o.offset === offset &&
      typeof o.time === 'string' &&
      (o.fed === undefined || (Number.isSafeInteger(o.fed) && o.fed >= 0)) &&
      (o.end === undefined ? i === state.objects.length - 1 : Number.isSafeInteger(o.end) && o.end >= o.offset)
    if (!fits) {
      throw invalidValue(
        `resume.objects[${i}]`,
        'objects in index order below nextIndex, each starting where the one before ends (only the last ' +
          `without an end): index ${String(o?.index)}, offset ${String(o?.offset)}, end ${String(o?.end)} after ` +
          `input offset ${offset}`,
        '',
      )
    }
    index = o.index
    offset = o.end ?? offset
  }
  return state
}
