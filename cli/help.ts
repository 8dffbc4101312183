// The command line's vocabulary: every option (for parseArgs), every command with the options it takes, and the
// help texts made from them. A new command is one more entry in COMMANDS (and its options in OPTIONS).

/** Every option of every command, as parseArgs takes them. */
export const OPTIONS = {
  file: { type: 'string' },
  'part-size': { type: 'string' },
  'expected-size': { type: 'string' },
  concurrency: { type: 'string' },
  'max-parts': { type: 'string' },
  'uniform-parts': { type: 'boolean' },
  checksum: { type: 'string' },
  'checksum-type': { type: 'string' },
  'content-type': { type: 'string' },
  metadata: { type: 'string', multiple: true },
  checkpoint: { type: 'string' },
  follow: { type: 'boolean' },
  json: { type: 'boolean' },
  progress: { type: 'boolean' },
  quiet: { type: 'boolean' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  'path-style': { type: 'boolean' },
  'max-object-size': { type: 'string' },
  'max-object-age': { type: 'string' },
  delimiter: { type: 'string' },
  gzip: { type: 'boolean' },
  id: { type: 'string' },
  'older-than': { type: 'string' },
  'dry-run': { type: 'boolean' },
  sizes: { type: 'string' },
  bytes: { type: 'string' },
  runs: { type: 'string' },
  chart: { type: 'string' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const

export type OptionName = keyof typeof OPTIONS

/** One option as a command's help shows it. */
export interface Flag {
  name: OptionName
  /** What the option takes (`SIZE`, `N`); none for a switch. */
  value?: string
  help: string
  /** Shown as `(default …)`; switches are off unless given. */
  default?: string
}

export interface Command {
  name: string
  /** Its usage line, after `usage: `. */
  usage: string
  /** One line for the overview. */
  summary: string
  /** What it does, for its own help. */
  about: string
  /** Its own options, in the order its help lists them. */
  flags: Flag[]
  /** Whether it talks to a store (then the connection options apply). */
  connects: boolean
}

const quiet = (what: string): Flag => ({ name: 'quiet', help: `no ${what} on stderr` })

/** How to reach the store: every command that talks to one takes these. */
export const CONNECTION: Flag[] = [
  { name: 'endpoint', value: 'URL', help: 'an S3-compatible endpoint', default: 'AWS, or AWS_ENDPOINT_URL' },
  { name: 'region', value: 'REGION', help: 'the region', default: "AWS_REGION, or the profile's" },
  { name: 'path-style', help: 'address buckets as https://host/bucket (most S3-compatible stores)' },
]

/** Taken by every command. */
export const OTHER: Flag[] = [
  { name: 'debug', help: 'print stack traces' },
  { name: 'help', help: 'this text' },
  { name: 'version', help: "print the version (and the AWS SDK's)" },
]

/** How each object is stored: the options the upload and roll commands share. */
const OBJECT_FLAGS: Flag[] = [
  {
    name: 'part-size',
    value: 'SIZE',
    help: 'first part size, 5MiB..5GiB, in bytes or binary units: 16MiB, 8M, 1GiB',
    default: '8MiB',
  },
  { name: 'concurrency', value: 'N', help: 'parts uploaded at once, fixed, 1..10000', default: 'adaptive' },
  { name: 'max-parts', value: 'N', help: 'at most N parts per object, 1..10000', default: '10000' },
  { name: 'uniform-parts', help: 'never change the part size (stores that need equal parts: R2)' },
  { name: 'checksum', value: 'ALG', help: 'CRC32, CRC32C, CRC64NVME, SHA1, SHA256 or none', default: 'CRC32' },
  {
    name: 'checksum-type',
    value: 'TYPE',
    help: "the object's checksum: full (CRCs) or composite (of the parts' checksums)",
    default: 'full for CRC64NVME, composite for the others',
  },
  { name: 'content-type', value: 'TYPE', help: "the object's Content-Type", default: "the store's" },
  { name: 'metadata', value: 'K=V', help: 'user metadata; repeat for more', default: 'none' },
]

export const COMMANDS = [
  {
    name: 'upload',
    usage: 's3-sink [upload] [options] s3://bucket/key',
    summary: 'upload stdin (or --file) to the object (the default command)',
    about:
      'Uploads stdin, or a file, to one S3 object through a multipart upload (one PutObject when it is shorter\n' +
      'than a part), with bounded memory. Prints the result on stdout: a tab-separated line, or JSON.',
    connects: true,
    flags: [
      { name: 'file', value: 'PATH', help: 'read PATH instead of stdin', default: 'stdin' },
      {
        name: 'expected-size',
        value: 'SIZE',
        help: "an upper bound of the stream's length: parts sized to fit it",
        default: 'unknown',
      },
      ...OBJECT_FLAGS,
      {
        name: 'checkpoint',
        value: 'FILE',
        help: 'save progress there; when it exists, resume from it; removed on success',
        default: 'none: an interrupted upload is aborted',
      },
      { name: 'json', help: 'print the result as JSON on stdout' },
      { name: 'progress', help: 'show progress on stderr even when it is not a terminal' },
      quiet('progress, no summary,'),
    ],
  },
  {
    name: 'roll',
    usage: 's3-sink roll s3://bucket/template [--file PATH [--follow] [--checkpoint FILE]] [options]',
    summary: 'store stdin or a file (a log, an export) as objects of whole records, by size and age',
    about:
      'Reads stdin (or a file) without end and stores it as many objects, each of whole records, with\n' +
      "S3RollingSink. The template makes each key: %Y %m %d %H %M %S (UTC, of the object's first byte), %%,\n" +
      "{index} (its number from 0, zero-padded) and {id} (this writer's id). Prints a line per stored object on\n" +
      'stdout (s3://bucket/key, input offset, input bytes, stored bytes, ETag), or JSON. The first Ctrl-C (or\n' +
      'SIGTERM) stops reading, stores what was read as the last object and exits 0; a second one stops at once\n' +
      'and exits 130 (the objects in flight are aborted, or kept for the next run with --checkpoint). SIGHUP\n' +
      'ends the object being filled after every byte read so far (at the end of its record), as rotate() does.\n\n' +
      '--file reads a file to its end; with --follow it waits for more as the file grows, like tail -F: when\n' +
      'the file is renamed away and a new one created (rotation), the rest of the old one is read, then the new\n' +
      'one from its first byte; when it is truncated, it is read again from its first byte. In follow mode a\n' +
      'record still being written is stored once its delimiter arrives. --checkpoint FILE saves, before each\n' +
      'request that makes something durable, where the input stands (written whole: temporary file, fsync,\n' +
      'rename); run the same command again after a crash, even SIGKILL, and it continues: the objects, in\n' +
      '{index} order, hold each byte of the file once, no upload is left behind. The checkpoint is kept after\n' +
      'a run, for the next one to continue from. It needs {index} in the template.',
    connects: true,
    flags: [
      {
        name: 'max-object-size',
        value: 'SIZE',
        help: "an object's most input bytes: it ends before the record that would pass this",
        default: '64MiB',
      },
      {
        name: 'max-object-age',
        value: 'AGE',
        help: 'an object ends this long after its first byte, writes or not: 90s, 30m, 12h',
        default: '5m',
      },
      {
        name: 'delimiter',
        value: 'TEXT',
        help: 'what ends a record (escapes \\n \\r \\t \\0), or none to cut anywhere',
        default: '\\n',
      },
      { name: 'gzip', help: 'store each object as a standalone gzip file (Content-Encoding: gzip)' },
      { name: 'id', value: 'ID', help: "this writer's id for {id}; give each process its own", default: 'random' },
      { name: 'file', value: 'PATH', help: 'read PATH instead of stdin', default: 'stdin' },
      { name: 'follow', help: 'with --file: keep reading as the file grows, across rotations and truncations' },
      {
        name: 'checkpoint',
        value: 'FILE',
        help: 'with --file: save where the input stands there; when it exists, continue from it; kept',
        default: "none: a run starts at the file's first byte",
      },
      ...OBJECT_FLAGS,
      { name: 'json', help: 'print each stored object as one line of JSON on stdout' },
      quiet('line per object, no summary,'),
    ],
  },
  {
    name: 'ls-incomplete',
    usage: 's3-sink ls-incomplete s3://bucket[/prefix] [options]',
    summary: 'list incomplete multipart uploads',
    about:
      'Lists the incomplete multipart uploads of a bucket (under a prefix): when each began, its age, parts and\n' +
      'bytes stored (billed until someone aborts it), key and upload id, one tab-separated line each.',
    connects: true,
    flags: [{ name: 'json', help: 'print each upload as one line of JSON on stdout' }, quiet('count')],
  },
  {
    name: 'abort-incomplete',
    usage: 's3-sink abort-incomplete s3://bucket[/prefix] --older-than AGE [options]',
    summary: 'abort incomplete multipart uploads older than AGE',
    about:
      'Aborts the incomplete multipart uploads of a bucket (under a prefix) that began more than AGE ago, so that\n' +
      'their parts stop being billed, and lists them as ls-incomplete does.',
    connects: true,
    flags: [
      {
        name: 'older-than',
        value: 'AGE',
        help: 'only uploads older than this: 90s, 30m, 12h, 7d, 2w',
        default: 'required',
      },
      { name: 'dry-run', help: 'list what would be aborted, abort nothing' },
      { name: 'json', help: 'print each upload as one line of JSON on stdout' },
      quiet('count'),
    ],
  },
  {
    name: 'bench',
    usage: 's3-sink bench s3://bucket[/prefix] [options]',
    summary: 'measure part sizes × concurrency against your endpoint',
    about:
      'Uploads generated bytes with every part size × concurrency, prints a table (MiB/s, CPU, memory), writes a\n' +
      'chart, and deletes every object it uploaded.',
    connects: true,
    flags: [
      { name: 'sizes', value: 'LIST', help: 'part sizes in MiB, 5..5120', default: '5,8,16,64' },
      {
        name: 'concurrency',
        value: 'LIST',
        help: 'parts in flight; adaptive: the default, and where it settled',
        default: 'adaptive,4,8',
      },
      { name: 'bytes', value: 'SIZE', help: 'bytes per upload', default: '256MiB' },
      { name: 'runs', value: 'N', help: 'uploads per configuration; the median is reported', default: '1' },
      { name: 'chart', value: 'FILE', help: 'where to write the SVG chart', default: 's3-sink-bench.svg' },
      quiet('progress'),
    ],
  },
] as const satisfies readonly Command[]

export type CommandName = (typeof COMMANDS)[number]['name']

const CREDENTIALS =
  "Credentials come from the AWS SDK's standard chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE,\n" +
  'SSO, instance roles); they are never printed.'

export function commandNamed(name: string): Command | undefined {
  return (COMMANDS as readonly Command[]).find((c) => c.name === name)
}

/** The options `command` takes: its own, the connection's when it talks to a store, and the common ones. */
export function flagsOf(command: Command): Flag[] {
  return [...command.flags, ...(command.connects ? CONNECTION : []), ...OTHER]
}

/** Help lines stay within this width; an option's text wraps under itself. */
const WIDTH = 100
const INDENT = 25

function wrap(text: string): string {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line && INDENT + line.length + 1 + word.length > WIDTH) {
      lines.push(line)
      line = word
    } else {
      line = line ? `${line} ${word}` : word
    }
  }
  lines.push(line)
  return lines.join(`\n${' '.repeat(INDENT)}`)
}

function section(title: string, flags: readonly Flag[]): string {
  const lines = flags.map((f) => {
    const left = `  --${f.name}${f.value ? ` ${f.value}` : ''}`
    const fallback = f.default === undefined ? '' : f.default === 'required' ? ' (required)' : ` (default ${f.default})`
    return `${left.padEnd(INDENT - 1)} ${wrap(`${f.help}${fallback}`)}`
  })
  return `${title}:\n${lines.join('\n')}`
}

/** `s3-sink COMMAND --help`. */
export function commandHelp(command: Command): string {
  return [
    `usage: ${command.usage}`,
    command.about,
    section('options', command.flags),
    ...(command.connects ? [section('connection', CONNECTION)] : []),
    section('other', OTHER),
    CREDENTIALS,
  ].join('\n\n')
}

/** `s3-sink --help`: every command, then the options of the default one. */
export function generalHelp(): string {
  const usage = COMMANDS.map((c, i) => `${i === 0 ? 'usage: ' : '       '}${c.usage}`)
  const commands = COMMANDS.map((c) => `  ${c.name.padEnd(22)} ${c.summary}`)
  return [
    usage.join('\n'),
    `commands:\n${commands.join('\n')}`,
    section('upload options', COMMANDS[0].flags),
    section('connection', CONNECTION),
    section('other', OTHER),
    `${CREDENTIALS}\nThe options of each command: s3-sink COMMAND --help.`,
  ].join('\n\n')
}
