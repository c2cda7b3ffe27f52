// On-disk framing of WAL segments: a fixed segment header, then 8-byte aligned
// records, each carrying its own CRC32C. See docs/wal-format.md.
import { crc32c } from '../util/crc32c.js';
import { BinWriter } from './codec.js';

export const RecordType = {
  Metadata: 1,
  Entry: 2,
  HardState: 3,
  Snapshot: 4,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

const KNOWN_TYPES = new Set<number>(Object.values(RecordType));

export const RECORD_HEADER_BYTES = 16;
export const RECORD_ALIGN = 8;
/** A guard against a corrupt length field asking for an absurd allocation; far above any raft entry. */
export const MAX_RECORD_PAYLOAD = 512 * 1024 * 1024;

export const SEGMENT_MAGIC = Buffer.from('etcdtsWL', 'latin1');
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 40;

export function align8(n: number): number {
  return (n + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1);
}

/**
 * Builds many records into ONE contiguous buffer so a save() is a single write.
 * Each frame (8-byte aligned):
 *   u32 payload length | u8 type | 3 zero bytes | u32 crc32c(bytes 0..8) | u32 crc32c(payload + pad) | payload | zero pad
 * The header has its own checksum so a damaged length is recognised as damage instead of
 * being trusted to say where the record ends.
 */
export class BatchEncoder {
  readonly w = new BinWriter(256);
  private readonly frames: { start: number; payloadEnd: number; type: RecordType }[] = [];
  private open: { start: number; type: RecordType } | undefined;

  /** Starts a record; the caller writes its payload into the returned writer, then calls end(). */
  begin(type: RecordType): BinWriter {
    if (this.open) throw new Error('wal: record already open');
    this.open = { start: this.w.length, type };
    for (let i = 0; i < RECORD_HEADER_BYTES; i++) this.w.u8(0);
    return this.w;
  }

  end(): void {
    const open = this.open;
    if (!open) throw new Error('wal: no record open');
    const payloadEnd = this.w.length;
    const payloadBytes = payloadEnd - open.start - RECORD_HEADER_BYTES;
    if (payloadBytes > MAX_RECORD_PAYLOAD)
      throw new RangeError(`wal: record of ${payloadBytes} bytes too large`);
    while (this.w.length % RECORD_ALIGN !== 0) this.w.u8(0);
    this.frames.push({ start: open.start, payloadEnd, type: open.type });
    this.open = undefined;
  }

  get recordCount(): number {
    return this.frames.length;
  }

  finish(): Buffer {
    if (this.open) throw new Error('wal: record left open');
    const buf = this.w.finish();
    for (let i = 0; i < this.frames.length; i++) {
      const f = this.frames[i]!;
      const end = i + 1 < this.frames.length ? this.frames[i + 1]!.start : buf.length;
      buf.writeUInt32LE(f.payloadEnd - f.start - RECORD_HEADER_BYTES, f.start);
      buf[f.start + 4] = f.type;
      buf.writeUInt32LE(crc32c(buf.subarray(f.start, f.start + 8)), f.start + 8);
      buf.writeUInt32LE(crc32c(buf.subarray(f.start + RECORD_HEADER_BYTES, end)), f.start + 12);
    }
    return buf;
  }
}

export type DecodedRecord =
  | { kind: 'ok'; type: RecordType; payload: Buffer; next: number }
  /** The data ends inside the header, or inside the body of a record whose header verifies. */
  | { kind: 'short' }
  /** The header does not verify (checksum, type or reserved bytes): its length cannot be trusted. */
  | { kind: 'badHeader' }
  /** The header verifies but the payload does not; the frame spans [.., end), its padding is `padding` bytes. */
  | { kind: 'badBody'; end: number; padding: number };

export function decodeRecordAt(buf: Buffer, off: number): DecodedRecord {
  if (buf.length - off < RECORD_HEADER_BYTES) return { kind: 'short' };
  if (crc32c(buf.subarray(off, off + 8)) !== buf.readUInt32LE(off + 8)) return { kind: 'badHeader' };
  const len = buf.readUInt32LE(off);
  const type = buf[off + 4]!;
  const reservedClear = buf[off + 5] === 0 && buf[off + 6] === 0 && buf[off + 7] === 0;
  if (!reservedClear || !KNOWN_TYPES.has(type) || len > MAX_RECORD_PAYLOAD) return { kind: 'badHeader' };
  const end = off + align8(RECORD_HEADER_BYTES + len);
  if (end > buf.length) return { kind: 'short' };
  if (crc32c(buf.subarray(off + RECORD_HEADER_BYTES, end)) !== buf.readUInt32LE(off + 12)) {
    return { kind: 'badBody', end, padding: end - (off + RECORD_HEADER_BYTES + len) };
  }
  const payload = buf.subarray(off + RECORD_HEADER_BYTES, off + RECORD_HEADER_BYTES + len);
  return { kind: 'ok', type: type as RecordType, payload, next: end };
}

export interface SegmentHeader {
  seq: number;
  firstIndex: number;
}

export function encodeSegmentHeader(h: SegmentHeader): Buffer {
  const w = new BinWriter(SEGMENT_HEADER_BYTES);
  w.bytes(SEGMENT_MAGIC);
  w.u32(SEGMENT_VERSION);
  w.u32(0);
  w.u64(h.seq);
  w.u64(h.firstIndex);
  const buf = Buffer.alloc(SEGMENT_HEADER_BYTES);
  const body = w.finish();
  body.copy(buf);
  buf.writeUInt32LE(crc32c(buf.subarray(0, 32)), 32);
  return buf;
}

/** Returns the header or a reason it is unusable. */
export function decodeSegmentHeader(buf: Buffer): SegmentHeader | string {
  if (buf.length < SEGMENT_HEADER_BYTES) return 'segment shorter than its header';
  if (!buf.subarray(0, 8).equals(SEGMENT_MAGIC)) return 'bad segment magic';
  if (crc32c(buf.subarray(0, 32)) !== buf.readUInt32LE(32)) return 'segment header checksum mismatch';
  const version = buf.readUInt32LE(8);
  if (version !== SEGMENT_VERSION) return `unsupported segment version ${version}`;
  const lo = (o: number) => buf.readUInt32LE(o) + buf.readUInt32LE(o + 4) * 0x1_0000_0000;
  return { seq: lo(16), firstIndex: lo(24) };
}
