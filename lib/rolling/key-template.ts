/** What a rolling sink's key is made from, for each object. */
export interface KeyFields {
  /** The object's sequence number in this sink, from 0. */
  index: number
  /** The writer's id (the `id` option). */
  id: string
  /** When the object's first byte arrived. */
  time: Date
}

/** A key template, or a function that makes each object's key. */
export type KeyOption = string | ((fields: KeyFields) => string)

/** Digits `{index}` is padded to, so that keys sort by index up to 10^8 objects (190 years at one a minute). */
export const INDEX_DIGITS = 8

type Piece = string | ((fields: KeyFields) => string)

const TIME_TOKENS: Record<string, (t: Date) => string> = {
  Y: (t) => String(t.getUTCFullYear()).padStart(4, '0'),
  m: (t) => pad2(t.getUTCMonth() + 1),
  d: (t) => pad2(t.getUTCDate()),
  H: (t) => pad2(t.getUTCHours()),
  M: (t) => pad2(t.getUTCMinutes()),
  S: (t) => pad2(t.getUTCSeconds()),
}

const FIELD_TOKENS: Record<string, (f: KeyFields) => string> = {
  index: (f) => String(f.index).padStart(INDEX_DIGITS, '0'),
  id: (f) => f.id,
}

/**
 * A compiled key template: `%Y %m %d %H %M %S` (UTC, of the object's first byte), `%%` for a `%`, `{index}`
 * and `{id}`. Any other `%x` or `{name}` is a TypeError, so that a typo (`%y`, `{idx}`) is found at construction,
 * not in the store's key space.
 */
export class KeyTemplate {
  readonly #pieces: Piece[]
  /** Whether every key differs by its `{index}`, so that keys need not be remembered to find a repeat. */
  readonly hasIndex: boolean

  constructor(template: string) {
    this.#pieces = []
    let hasIndex = false
    let literal = ''
    const pattern = /%(.?)|\{([A-Za-z_][A-Za-z0-9_]*)\}/gsu
    let last = 0
    for (const match of template.matchAll(pattern)) {
      literal += template.slice(last, match.index)
      last = match.index + match[0].length
      const [token, time, field] = match
      if (field !== undefined) {
        const expand = FIELD_TOKENS[field]
        if (!expand) throw unknownToken(template, token)
        if (field === 'index') hasIndex = true
        this.#pieces.push(literal, expand)
      } else if (time === '%') {
        literal += '%'
        continue
      } else {
        const expand = TIME_TOKENS[time as string]
        if (!expand) throw unknownToken(template, token)
        this.#pieces.push(literal, (f) => expand(f.time))
      }
      literal = ''
    }
    this.#pieces.push(literal + template.slice(last))
    this.hasIndex = hasIndex
  }

  expand(fields: KeyFields): string {
    let key = ''
    for (const piece of this.#pieces) key += typeof piece === 'string' ? piece : piece(fields)
    return key
  }
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

function unknownToken(template: string, token: string): TypeError {
  return Object.assign(
    new TypeError(
      `key must be a template of %Y %m %d %H %M %S %% {index} {id}, got ${JSON.stringify(template)} ` +
        `with the unknown token ${JSON.stringify(token)}`,
    ),
    { code: 'ERR_INVALID_ARG_VALUE' },
  )
}
