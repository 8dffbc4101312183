// The named links the null endpoint models (`bench/null-server.ts --link NAME`, `npm run bench -- --link NAME`):
// what stands between a client and a real store. A store serves one request no faster than some rate (AWS's
// guidelines: about 85–90 MB/s per request on a fast host, so one request in flight per 85–90 MB/s wanted), the
// host's link caps all requests together, a store answers each request some time after its last byte, and S3
// answers 503 SlowDown to a prefix pushed past its request rate.

export interface Link {
  name: string
  /** One line for the report. */
  description: string
  /** Bytes per second one request's body is read at, at most; 0: only the link's cap. */
  requestBandwidth: number
  /** Bytes per second all requests' bodies together are read at, at most: the link. */
  linkBandwidth: number
  /** Milliseconds between a request's last body byte and its answer. */
  answerMs: number
  /** Milliseconds a new connection and a `100 Continue` cost (the round trip). */
  rttMs: number
  /** Requests a second above which a request is answered 503 SlowDown (after its body); 0: never. */
  slowDownAbove: number
  /** Bytes an upload of the link's benchmark sends: a steady figure in seconds, not minutes, on two cores. */
  bytes: number
}

const MIB = 2 ** 20

export const LINKS: Link[] = [
  {
    name: 's3-region',
    description:
      'S3 in the same region from a fast host: 40 MB/s a request, a 400 MB/s link, answers 30 ms after the last byte',
    requestBandwidth: 40e6,
    linkBandwidth: 400e6,
    answerMs: 30,
    rttMs: 1,
    slowDownAbove: 0,
    bytes: 1024 * MIB,
  },
  {
    name: 's3-region-throttled',
    description:
      's3-region with a prefix that answers 503 SlowDown above 20 requests a second (20 × 8 MiB parts: 42% of the link)',
    requestBandwidth: 40e6,
    linkBandwidth: 400e6,
    answerMs: 30,
    rttMs: 1,
    slowDownAbove: 20,
    bytes: 1024 * MIB,
  },
  {
    name: 'long-fat',
    description: 'a long, fat link: 25 MB/s a request, a 125 MB/s link (1 Gbit/s), 100 ms answers and round trips',
    requestBandwidth: 25e6,
    linkBandwidth: 125e6,
    answerMs: 100,
    rttMs: 100,
    slowDownAbove: 0,
    bytes: 512 * MIB,
  },
  {
    name: 'slow-uplink',
    description: 'a slow uplink: 100 Mbit/s (12.5 MB/s) for all requests, 150 ms answers and round trips',
    requestBandwidth: 0,
    linkBandwidth: 12.5e6,
    answerMs: 150,
    rttMs: 150,
    slowDownAbove: 0,
    bytes: 128 * MIB,
  },
  {
    name: 'loopback',
    description:
      'no link to speak of: the endpoint reads as fast as it can (20 GB/s caps), answers at once — what the tools cost',
    requestBandwidth: 0,
    linkBandwidth: 20e9,
    answerMs: 0,
    rttMs: 0,
    slowDownAbove: 0,
    bytes: 1024 * MIB,
  },
]

/** The links named by `names` (a comma list, or `all`); throws on a name it does not know. */
export function linksNamed(names: string): Link[] {
  if (names === 'all') return LINKS
  return names.split(',').map((name) => {
    const link = LINKS.find((l) => l.name === name)
    if (!link) throw new Error(`unknown link ${name}: use ${LINKS.map((l) => l.name).join(', ')} or all`)
    return link
  })
}
