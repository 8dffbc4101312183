// crc-32 types its CRC-32 entry point only; its CRC-32C one has the same shape.
declare module 'crc-32/crc32c.js' {
  const crc32c: typeof import('crc-32')
  export default crc32c
}
