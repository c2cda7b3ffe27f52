// Protobuf wire primitives that behave like the Marshal/Unmarshal code gogoproto
// generated for etcd 3.4 (raftpb, etcdserverpb). The reader reproduces Go's
// acceptance rules, not just the protobuf spec: a known field with the wrong
// wire type is an error, end-group at message level is an error, field number
// 0 (after Go's int32 truncation) is an error, unknown fields are skipped the
// way gogo's generated skip function does (groups included), varints longer
// than 10 bytes overflow. Writers fill one exact-size buffer (sizes first),
// like gogo's Size()+MarshalTo().

export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

export const WireType = {
  Varint: 0,
  Fixed64: 1,
  Bytes: 2,
  StartGroup: 3,
  EndGroup: 4,
  Fixed32: 5,
} as const;

export const U64_MAX = (1n << 64n) - 1n;
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_POW_28 = 0x10000000;

// ---------------------------------------------------------------- sizes

/** Varint size of a non-negative safe integer. */
export function uintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < TWO_POW_28) return 4;
  let size = 4;
  let rest = Math.floor(n / TWO_POW_28);
  while (rest > 0) {
    size++;
    rest = Math.floor(rest / 128);
  }
  return size;
}

/** Varint size of an unsigned 64-bit value. */
export function u64Size(v: bigint): number {
  if (v <= MAX_SAFE_BIG) return uintSize(Number(v));
  const hi = Number(v >> 32n);
  return Math.ceil((64 - Math.clz32(hi)) / 7);
}

/** Size of a length-delimited body with its length prefix (the tag not included). */
export function delimitedSize(bodyBytes: number): number {
  return uintSize(bodyBytes) + bodyBytes;
}

export function checkUint(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new WireError(`${what} ${n} is not a non-negative safe integer`);
}

export function checkU64(v: bigint, what: string): void {
  if (v < 0n || v > U64_MAX) throw new WireError(`${what} ${v} is outside uint64`);
}

// ---------------------------------------------------------------- writing

const TWO_POW_32 = 0x100000000;

/**
 * n unzeroed bytes as a plain Uint8Array, carved from Node's shared 8 KiB pool when small.
 * A fresh ArrayBuffer per small array (each encoded entry, frame and decoded entry payload)
 * was a measurable share of a loaded leader's garbage collection; a view on the pool is not.
 */
export function allocBytes(n: number): Uint8Array {
  const b = Buffer.allocUnsafe(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

/** Writes a non-negative safe integer as 8 big-endian bytes at `pos`. */
export function writeUintBE(buf: Uint8Array, pos: number, n: number): void {
  writeHalvesBE(buf, pos, Math.floor(n / TWO_POW_32), n >>> 0);
}

/** Writes an unsigned 64-bit value as 8 big-endian bytes at `pos`. */
export function writeU64BE(buf: Uint8Array, pos: number, v: bigint): void {
  if (v <= MAX_SAFE_BIG) {
    writeUintBE(buf, pos, Number(v));
    return;
  }
  writeHalvesBE(buf, pos, Number(v >> 32n) >>> 0, Number(v & 0xffffffffn) >>> 0);
}

function writeHalvesBE(buf: Uint8Array, pos: number, hi: number, lo: number): void {
  buf[pos] = hi >>> 24;
  buf[pos + 1] = (hi >>> 16) & 0xff;
  buf[pos + 2] = (hi >>> 8) & 0xff;
  buf[pos + 3] = hi & 0xff;
  buf[pos + 4] = lo >>> 24;
  buf[pos + 5] = (lo >>> 16) & 0xff;
  buf[pos + 6] = (lo >>> 8) & 0xff;
  buf[pos + 7] = lo & 0xff;
}

// The values above 2^53 that the wire carries are nearly all member ids (every message's `to`
// and `from`), a handful of distinct values: a small direct-mapped cache returns the same
// BigInt for them instead of building one (four BigInt allocations) per field.
const ID_CACHE_SLOTS = 16;
const cacheHi = new Array<number>(ID_CACHE_SLOTS).fill(-1);
const cacheLo = new Array<number>(ID_CACHE_SLOTS).fill(-1);
const cacheValue = new Array<bigint>(ID_CACHE_SLOTS).fill(0n);

/** (hi << 32) | lo for uint32 halves, cached for ids seen recently. */
function bigFromHalves(hi: number, lo: number): bigint {
  const slot = (lo ^ hi) & (ID_CACHE_SLOTS - 1);
  if (cacheHi[slot] === hi && cacheLo[slot] === lo) return cacheValue[slot]!;
  const v = (BigInt(hi) << 32n) | BigInt(lo);
  cacheHi[slot] = hi;
  cacheLo[slot] = lo;
  cacheValue[slot] = v;
  return v;
}

/** Reads 4 big-endian bytes at `pos` as an unsigned 32-bit number (no view is made). */
export function readU32BE(buf: Uint8Array, pos: number): number {
  return ((buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!) >>> 0;
}

/** Reads 8 big-endian bytes at `pos` as an unsigned 64-bit value. */
export function readU64BE(buf: Uint8Array, pos: number): bigint {
  const hi = readU32BE(buf, pos);
  const lo = readU32BE(buf, pos + 4);
  if (hi < 0x200000) return BigInt(hi * TWO_POW_32 + lo);
  return bigFromHalves(hi, lo);
}

/** Writes into a buffer whose exact size was computed beforehand; finish() checks the sum. */
export class ExactWriter {
  readonly buf: Uint8Array;
  pos = 0;

  constructor(size: number) {
    // finish() proves every byte written, so the memory need not be zeroed.
    this.buf = allocBytes(size);
  }

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  /** A non-negative safe integer as a varint. */
  uint(n: number): void {
    const buf = this.buf;
    let pos = this.pos;
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
    this.pos = pos;
  }

  /** An unsigned 64-bit value as a varint (two 32-bit halves, no BigInt arithmetic in the loop). */
  u64(v: bigint): void {
    if (v <= MAX_SAFE_BIG) {
      this.uint(Number(v));
      return;
    }
    const buf = this.buf;
    let pos = this.pos;
    let lo = Number(v & 0xffffffffn) >>> 0;
    let hi = Number(v >> 32n) >>> 0;
    while (hi !== 0 || lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
  }

  bool(b: boolean): void {
    this.buf[this.pos++] = b ? 1 : 0;
  }

  /** Length prefix and bytes. */
  bytes(b: Uint8Array): void {
    this.uint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  u64BE(v: bigint): void {
    writeU64BE(this.buf, this.pos, v);
    this.pos += 8;
  }

  /** A non-negative safe integer as 8 big-endian bytes (no BigInt, no DataView). */
  uintBE(n: number): void {
    writeUintBE(this.buf, this.pos, n);
    this.pos += 8;
  }

  /** Copies raw bytes (a body written elsewhere). */
  raw(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  finish(what: string): Uint8Array {
    if (this.pos !== this.buf.length) {
      throw new Error(`${what}: encoder wrote ${this.pos} bytes, sized ${this.buf.length}`);
    }
    return this.buf;
  }
}

// ---------------------------------------------------------------- reading

/**
 * Reads one message's fields between pos and end. Call tag() until done(); then the
 * field's reader (or skip()) for the wire type in `wireType`.
 */
export class Reader {
  pos: number;
  /** Set by tag(): Go's int32(wire >> 3). */
  field = 0;
  /** Set by tag(). */
  wireType = 0;
  /** Length of the body the last spanEnd() (or span()) passed over. */
  lastSpanLength = 0;

  constructor(
    readonly buf: Uint8Array,
    readonly what: string,
    pos = 0,
    readonly end = buf.length,
  ) {
    this.pos = pos;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  fail(why: string): never {
    throw new WireError(`${this.what}: ${why}`);
  }

  private eof(): never {
    return this.fail('unexpected end of data');
  }

  /** Reads a tag as gogo's Unmarshal loop does, with its two checks. */
  tag(): void {
    const small = this.smallVarint();
    if (small >= 0) {
      this.field = small >>> 3;
      this.wireType = small & 7;
    } else {
      const wire = this.u64();
      this.field = Number(BigInt.asIntN(32, wire >> 3n));
      this.wireType = Number(wire & 7n);
    }
    if (this.wireType === WireType.EndGroup) this.fail('wiretype end group for non-group');
    if (this.field <= 0) this.fail(`illegal tag ${this.field} (wire type ${this.wireType})`);
  }

  /** Go's "wrong wireType" check for a known field. */
  expect(wireType: number, name: string): void {
    if (this.wireType !== wireType) this.fail(`wrong wireType = ${this.wireType} for field ${name}`);
  }

  /** expect() for a field named by its number: the name is only made when the check fails. */
  expectNumbered(wireType: number): void {
    if (this.wireType !== wireType) this.expect(wireType, String(this.field));
  }

  /**
   * A varint of at most 4 bytes (below 2^28) read as a plain number, or -1 (nothing consumed)
   * when it is longer or runs past the end: the caller then takes the uint64 road. Tags and
   * lengths are almost always this short, and the BigInt road allocated on every entry.
   */
  private smallVarint(): number {
    const { buf, end } = this;
    let pos = this.pos;
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) return -1;
      const b = buf[pos++]!;
      value |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return value;
      }
    }
    return -1;
  }

  /** A varint as uint64: at most 10 bytes, bits beyond 64 dropped (as Go's shifts do). */
  u64(): bigint {
    const { buf, end } = this;
    let pos = this.pos;
    // Bits 0..31 in `lo`, 32..63 in `hi`, in plain numbers: one BigInt at the end, not one
    // per byte (member ids are 64-bit, so every message's to/from took the slow road).
    let lo = 0;
    let hi = 0;
    for (let i = 0; ; i++) {
      if (i >= 10) this.fail('integer overflow');
      if (pos >= end) this.eof();
      const b = buf[pos++]!;
      const bits = b & 0x7f;
      if (i < 4) {
        lo |= bits << (7 * i);
      } else if (i === 4) {
        lo |= bits << 28; // the low 4 bits land in 28..31; the rest is cut off here
        hi = bits >>> 4;
      } else {
        hi |= bits << (7 * i - 32); // i = 9 keeps only bit 63, as Go's shift does
      }
      if (b < 0x80) break;
    }
    this.pos = pos;
    lo >>>= 0;
    hi >>>= 0;
    if (hi < 0x200000) return BigInt(hi * TWO_POW_32 + lo);
    return bigFromHalves(hi, lo);
  }

  /** Skips a varint (at most 10 bytes), as a check that reads but does not keep it. */
  skipVarint(): void {
    for (let i = 0; ; i++) {
      if (i >= 10) this.fail('integer overflow');
      if (this.pos >= this.end) this.eof();
      if (this.buf[this.pos++]! < 0x80) return;
    }
  }

  /** A uint64 varint that our types keep as a JS number (terms, indexes): above 2^53-1 is an error. */
  uint(name: string): number {
    const { buf, end } = this;
    let pos = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      if (pos >= end) this.eof();
      const b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = pos;
        return result;
      }
      mul *= 128;
    }
    const v = this.u64();
    if (v > MAX_SAFE_BIG)
      this.fail(`${name} ${v} exceeds 2^53-1, which this implementation cannot represent`);
    return Number(v);
  }

  /** An enum: Go accumulates it in an int32, so only the low 32 bits count. */
  enum32(): number {
    const b = this.buf[this.pos];
    if (b !== undefined && b < 0x80 && this.pos < this.end) {
      this.pos++;
      return b;
    }
    return Number(BigInt.asIntN(32, this.u64()));
  }

  /** A bool: Go's `v != 0` over the 64-bit value. */
  bool(): boolean {
    const b = this.buf[this.pos];
    if (b !== undefined && b < 0x80 && this.pos < this.end) {
      this.pos++;
      return b !== 0;
    }
    return this.u64() !== 0n;
  }

  /** Reads a length prefix and returns [start, stop) of the body, checked against the end. */
  span(): [number, number] {
    const stop = this.spanEnd();
    return [stop - this.lastSpanLength, stop];
  }

  /**
   * span() without the pair: reads a length prefix, moves past the body and returns where it
   * ends; it started at the returned end minus lastSpanLength.
   */
  spanEnd(): number {
    let len = this.smallVarint();
    if (len < 0) {
      const big = this.u64();
      if (big >= 1n << 63n) this.fail('negative length');
      if (big > BigInt(this.end - this.pos)) this.eof();
      len = Number(big);
    }
    const start = this.pos;
    if (len > this.end - start) this.eof();
    const stop = start + len;
    this.pos = stop;
    this.lastSpanLength = len;
    return stop;
  }

  /** A bytes field, copied into a plain Uint8Array (never a view of the input). */
  bytes(): Uint8Array {
    const stop = this.spanEnd();
    const out = allocBytes(this.lastSpanLength);
    out.set(this.buf.subarray(stop - this.lastSpanLength, stop));
    return out;
  }

  string(): string {
    const stop = this.spanEnd();
    return utf8.decode(this.buf.subarray(stop - this.lastSpanLength, stop));
  }

  /** Skips the current field's value as gogo's generated skip function does. */
  skip(): void {
    this.skipValue(this.wireType);
  }

  private skipValue(wireType: number): void {
    switch (wireType) {
      case WireType.Varint:
        this.skipVarint();
        return;
      case WireType.Fixed64:
        this.advance(8);
        return;
      case WireType.Bytes:
        this.span();
        return;
      case WireType.StartGroup:
        // Until any end-group tag; Go checks neither its field number nor the inner tags' numbers.
        for (;;) {
          const inner = Number(this.u64() & 7n);
          if (inner === WireType.EndGroup) return;
          this.skipValue(inner);
        }
      case WireType.EndGroup:
        return;
      case WireType.Fixed32:
        this.advance(4);
        return;
      default:
        this.fail(`illegal wireType ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.end - this.pos < n) this.eof();
    this.pos += n;
  }
}

const utf8 = new TextDecoder();
