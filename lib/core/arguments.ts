// Checks of the arguments the library's constructors take, with the errors Node's own APIs throw for bad
// arguments (a TypeError coded ERR_INVALID_ARG_TYPE or ERR_INVALID_ARG_VALUE, a RangeError coded ERR_OUT_OF_RANGE),
// and a value shown as Node shows it: its type and a short rendering, never a whole object.

/**
 * `value` as an integer in min..max, `fallback` when it is undefined; a required one (no fallback) throws
 * when it is undefined. The errors are Node's for arguments: ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE.
 */
export function integer(
  name: string,
  value: unknown,
  fallback: number | undefined,
  min: number,
  max: number,
  show: (n: number) => string = String,
): number {
  if (value === undefined && fallback !== undefined) return fallback
  if (typeof value !== 'number') throw invalidType(name, 'a number', value)
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = `between ${show(min)} and ${show(max)}`
    const what = Number.isInteger(value) ? range : `an integer ${range}`
    return throwRange(name, what, value)
  }
  return value
}

export function throwRange(name: string, what: string, value: number | string): never {
  const err = new RangeError(`${name} must be ${what}, got ${value}`)
  throw Object.assign(err, { code: 'ERR_OUT_OF_RANGE' })
}

export function invalidType(name: string, what: string, value: unknown): TypeError {
  return Object.assign(new TypeError(`${name} must be ${what}, got ${show(value)}`), {
    code: 'ERR_INVALID_ARG_TYPE',
  })
}

export function invalidValue(name: string, what: string, value: unknown): TypeError {
  return Object.assign(new TypeError(`${name} must be ${what}, got ${show(value)}`), {
    code: 'ERR_INVALID_ARG_VALUE',
  })
}

/** How Node shows a received value in its argument errors: type and a short rendering, never a whole object. */
function show(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name
    return name ? `an instance of ${name}` : 'an object'
  }
  const text =
    typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value) : String(value)
  return `type ${typeof value} (${text})`
}

/** `5 MiB`, `5 GiB`, `8388608` → human units when the number is a whole count of them. */
export function sizeName(bytes: number): string {
  for (const [unit, size] of [
    ['TiB', 2 ** 40],
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`
  }
  return String(bytes)
}
