// Protobuf wire primitives for the hand-tuned hot-path codecs (fast-codecs.ts):
// sizes first, then one exact-size buffer, no growing writer. Only the value
// ranges the fast paths accept are handled here; callers check `fits*` first
// and fall back to the generated codec for anything else.

const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_POW_64 = 1n << 64n;

/** A non-negative safe integer: the only numbers the fast encoders write. */
export function fitsVarint(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** An unsigned 64-bit value. */
export function fitsVarint64(v: bigint): boolean {
  return v >= 0n && v < TWO_POW_64;
}

/** Varint sizes: the same arithmetic as the peer codec's, kept in one place. */
export { uintSize as varintSize } from '../peer/wire/gogo-wire.js';

export function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  let v = n;
  while (v >= 0x80000000) {
    // Above 31 bits bit operators would truncate: peel 7 bits off with arithmetic.
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

export { u64Size as varint64Size } from '../peer/wire/gogo-wire.js';

/** Above 2^53: two 32-bit halves, so the loop does no BigInt arithmetic (it showed in profiles). */
export function writeVarint64(buf: Uint8Array, pos: number, v: bigint): number {
  if (v <= MAX_SAFE_BIG) return writeVarint(buf, pos, Number(v));
  let lo = Number(v & 0xffffffffn) >>> 0;
  let hi = Number(v >> 32n) >>> 0;
  while (hi !== 0 || lo > 0x7f) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[pos++] = lo;
  return pos;
}

/** Size of a length-delimited field's body prefix plus body (the tag is counted by the caller). */
export { delimitedSize } from '../peer/wire/gogo-wire.js';

/**
 * Reads a varint at `pos` as a non-negative safe integer. Returns the value and the next
 * position, or undefined when the varint is malformed or too large (the caller falls back).
 */
export function readVarint(buf: Uint8Array, pos: number, end: number): [number, number] | undefined {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    if (pos >= end) return undefined;
    const b = buf[pos++]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) return Number.isSafeInteger(result) ? [result, pos] : undefined;
    mul *= 128;
  }
  return undefined;
}
