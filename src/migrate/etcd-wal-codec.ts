// etcd 3.4's WAL records (go.etcd.io/etcd/wal), byte for byte:
//   frame    = u64 LE length field ‖ walpb.Record ‖ zero padding to 8 bytes. The low 56 bits of the
//              length field are the record's size; when padding is needed the top byte is
//              0x80 | padding, so the length itself can never be torn by a sector write.
//   Record   = walpb.Record{1 type int64, 2 crc uint32 (both always written), 3 data bytes}.
//   crc      = CRC-32C chained over every record's data since the start of the log; a crc record
//              (type 4) carries the running value into each new segment.
// etcd's metadata record holds etcdserverpb.Metadata{NodeID, ClusterID}; entry and state records
// hold raftpb.Entry and raftpb.HardState; snapshot records hold walpb.Snapshot{index, term}.

import { ExactWriter, Reader, u64Size, uintSize, WireError, WireType } from '../peer/wire/gogo-wire.js';
import { crc32c } from '../util/crc32c.js';

export const EtcdWalType = {
  metadata: 1,
  entry: 2,
  state: 3,
  crc: 4,
  snapshot: 5,
} as const;

export interface EtcdWalRecord {
  type: number;
  crc: number;
  /** Absent for crc records (Go's nil slice); present, possibly empty, for every other type. */
  data: Uint8Array | undefined;
}

/** etcd refuses records at least this big (maxWALEntrySizeLimit): a damaged length is not trusted. */
export const MAX_RECORD_BYTES = 10 * 1024 * 1024;
export const FRAME_HEADER_BYTES = 8;

/** walpb.Record.Marshal(). */
export function encodeRecordPb(r: EtcdWalRecord): Uint8Array {
  const type = BigInt.asUintN(64, BigInt(r.type));
  let size = 1 + u64Size(type) + 1 + uintSize(r.crc);
  if (r.data !== undefined) size += 1 + uintSize(r.data.length) + r.data.length;
  const w = new ExactWriter(size);
  w.byte(0x08);
  w.u64(type);
  w.byte(0x10);
  w.uint(r.crc);
  if (r.data !== undefined) {
    w.byte(0x1a);
    w.bytes(r.data);
  }
  return w.finish('walpb.Record');
}

/** walpb.Record.Unmarshal(), with Go's acceptance rules. */
export function decodeRecordPb(b: Uint8Array): EtcdWalRecord {
  const r = new Reader(b, 'walpb.Record');
  const rec: EtcdWalRecord = { type: 0, crc: 0, data: undefined };
  while (!r.done()) {
    r.tag();
    if (r.field === 1) {
      r.expect(WireType.Varint, 'Type');
      rec.type = Number(BigInt.asIntN(64, r.u64()));
    } else if (r.field === 2) {
      r.expect(WireType.Varint, 'Crc');
      rec.crc = Number(r.u64() & 0xffffffffn);
    } else if (r.field === 3) {
      r.expect(WireType.Bytes, 'Data');
      rec.data = r.bytes();
    } else {
      r.skip();
    }
  }
  return rec;
}

export interface EtcdWalSnapshot {
  index: number;
  term: number;
}

/** walpb.Snapshot.Marshal(): both fields always written (proto2, non-nullable). */
export function encodeWalSnapshot(s: EtcdWalSnapshot): Uint8Array {
  const w = new ExactWriter(2 + uintSize(s.index) + uintSize(s.term));
  w.byte(0x08);
  w.uint(s.index);
  w.byte(0x10);
  w.uint(s.term);
  return w.finish('walpb.Snapshot');
}

export function decodeWalSnapshot(b: Uint8Array): EtcdWalSnapshot {
  const r = new Reader(b, 'walpb.Snapshot');
  const s: EtcdWalSnapshot = { index: 0, term: 0 };
  while (!r.done()) {
    r.tag();
    if (r.field === 1) {
      r.expect(WireType.Varint, 'Index');
      s.index = r.uint('snapshot index');
    } else if (r.field === 2) {
      r.expect(WireType.Varint, 'Term');
      s.term = r.uint('snapshot term');
    } else {
      r.skip(); // 3.5 adds conf_state (field 3); 3.4 never writes it
    }
  }
  return s;
}

/** The u64 length field and padding for a record of `bytes` bytes (etcd's encodeFrameSize). */
export function encodeFrameSize(bytes: number): { lenField: bigint; pad: number } {
  const pad = (8 - (bytes % 8)) % 8;
  let lenField = BigInt(bytes);
  if (pad !== 0) lenField |= BigInt(0x80 | pad) << 56n;
  return { lenField, pad };
}

/** etcd's decodeFrameSize: the record size in the low 56 bits, padding in the top byte's low 3 bits. */
export function decodeFrameSize(lenField: bigint): { bytes: number; pad: number } {
  const bytes = Number(lenField & ((1n << 56n) - 1n));
  const pad = lenField >= 1n << 63n ? Number((lenField >> 56n) & 7n) : 0;
  return { bytes, pad };
}

/** Frames records as etcd's encoder does, chaining the CRC. */
export class EtcdWalEncoder {
  constructor(private running = 0) {}

  /** The chained CRC after the records framed so far. */
  get crc(): number {
    return this.running;
  }

  /** One framed record; a crc record carries the running CRC, every other type its data's. */
  frame(type: number, data?: Uint8Array): Buffer {
    if (type !== EtcdWalType.crc) this.running = crc32c(data ?? new Uint8Array(), this.running) >>> 0;
    const body = encodeRecordPb({
      type,
      crc: this.running,
      data: type === EtcdWalType.crc ? undefined : (data ?? new Uint8Array()),
    });
    const { lenField, pad } = encodeFrameSize(body.length);
    const out = Buffer.alloc(FRAME_HEADER_BYTES + body.length + pad);
    out.writeBigUInt64LE(lenField, 0);
    out.set(body, FRAME_HEADER_BYTES);
    return out;
  }
}

export { WireError };
