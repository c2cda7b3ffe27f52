// Compact little-endian binary codec for the values the WAL and snapshot files
// store. Indexes and terms are JS numbers (safe integers), node ids are uint64
// bigints. No protobuf: the layout is fixed and documented in docs/wal-format.md.
import type { ConfState, Entry, EntryType, HardState } from '../raft/types.js';

const TWO_32 = 0x1_0000_0000;

/** Appends fixed-width fields to a growable buffer. */
export class BinWriter {
  private buf: Buffer;
  private len = 0;

  constructor(initialCapacity = 64) {
    this.buf = Buffer.allocUnsafe(initialCapacity);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.len++] = v;
  }

  u32(v: number): void {
    this.reserve(4);
    this.buf.writeUInt32LE(v, this.len);
    this.len += 4;
  }

  /** A non-negative safe integer as uint64 (two u32 halves: cheaper than BigInt conversion). */
  u64(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`codec: ${v} is not a uint64-safe integer`);
    this.reserve(8);
    this.buf.writeUInt32LE(v % TWO_32, this.len);
    this.buf.writeUInt32LE(Math.floor(v / TWO_32), this.len + 4);
    this.len += 8;
  }

  big64(v: bigint): void {
    this.reserve(8);
    this.buf.writeBigUInt64LE(v, this.len);
    this.len += 8;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  get length(): number {
    return this.len;
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

/** Reads fixed-width fields; every read is bounds-checked so a short payload throws instead of misreading. */
export class BinReader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError('codec: payload too short');
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    const v = hi * TWO_32 + lo;
    if (!Number.isSafeInteger(v)) throw new RangeError('codec: uint64 beyond 2^53');
    return v;
  }

  big64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /** The remaining bytes, copied so callers never alias a large file buffer. */
  rest(): Uint8Array {
    const out = new Uint8Array(this.buf.subarray(this.pos));
    this.pos = this.buf.length;
    return out;
  }

  end(): void {
    if (this.pos !== this.buf.length) throw new RangeError('codec: trailing bytes in payload');
  }
}

export const ENTRY_HEADER_BYTES = 17;

export function writeEntry(w: BinWriter, e: Entry): void {
  w.u64(e.term);
  w.u64(e.index);
  w.u8(e.type);
  w.bytes(e.data);
}

export function readEntry(payload: Buffer): Entry {
  const r = new BinReader(payload);
  const term = r.u64();
  const index = r.u64();
  const type = r.u8();
  if (type !== 0 && type !== 1) throw new RangeError(`codec: unknown entry type ${type}`);
  return { term, index, type: type as EntryType, data: r.rest() };
}

export function writeHardState(w: BinWriter, hs: HardState): void {
  w.u64(hs.term);
  w.big64(hs.vote);
  w.u64(hs.commit);
}

export function readHardState(r: BinReader): HardState {
  const term = r.u64();
  const vote = r.big64();
  const commit = r.u64();
  return { term, vote, commit };
}

export function writeConfState(w: BinWriter, cs: ConfState): void {
  w.u32(cs.voters.length);
  for (const id of cs.voters) w.big64(id);
  w.u32(cs.learners.length);
  for (const id of cs.learners) w.big64(id);
}

/** Membership lists are bounded so a corrupt count cannot make us allocate gigabytes. */
const MAX_MEMBERS = 1 << 16;

export function readConfState(r: BinReader): ConfState {
  const readIds = (): bigint[] => {
    const n = r.u32();
    if (n > MAX_MEMBERS) throw new RangeError(`codec: member count ${n} too large`);
    const ids: bigint[] = [];
    for (let i = 0; i < n; i++) ids.push(r.big64());
    return ids;
  };
  const voters = readIds();
  const learners = readIds();
  return { voters, learners };
}
