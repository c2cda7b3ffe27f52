// The data of ConfChange log entries: etcd 3.4's raftpb.ConfChange protobuf, byte-for-byte what
// Go's Marshal writes (1 ID u64, 2 Type, 3 NodeID u64 always; 4 Context only when non-empty), so
// logs and snapshots are shared with real etcd members. Decoding accepts what Go's Unmarshal
// accepts (unknown fields skipped, last value wins), except types our core does not know.
// Self-contained on purpose: the raft core imports nothing.
import { type ConfChange, ConfChangeType } from './types.js';

const U64_MAX = (1n << 64n) - 1n;

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const id = cc.id ?? 0n;
  if (id < 0n || id > U64_MAX) throw new Error(`conf change: id ${id} is outside uint64`);
  if (cc.nodeId < 0n || cc.nodeId > U64_MAX)
    throw new Error(`conf change: node id ${cc.nodeId} is outside uint64`);
  if (!isConfChangeType(cc.type)) throw new Error(`conf change: unknown type ${cc.type}`);
  const out: number[] = [0x08];
  pushVarint(out, id);
  out.push(0x10, cc.type, 0x18);
  pushVarint(out, cc.nodeId);
  if (cc.context.length === 0) return Uint8Array.from(out);
  out.push(0x22);
  pushVarint(out, BigInt(cc.context.length));
  const b = new Uint8Array(out.length + cc.context.length);
  b.set(out);
  b.set(cc.context, out.length);
  return b;
}

export function decodeConfChange(b: Uint8Array): ConfChange {
  const r = { b, pos: 0 };
  let id = 0n;
  let type = 0;
  let nodeId = 0n;
  let context: Uint8Array = new Uint8Array(0);
  while (r.pos < b.length) {
    const tag = readVarint(r);
    const field = Number(BigInt.asIntN(32, tag >> 3n));
    const wireType = Number(tag & 7n);
    if (wireType === 4) throw new Error('conf change: wiretype end group for non-group');
    if (field <= 0) throw new Error(`conf change: illegal tag ${field}`);
    if (field >= 1 && field <= 3 && wireType !== 0) {
      throw new Error(`conf change: wrong wireType = ${wireType} for field ${field}`);
    }
    if (field === 4 && wireType !== 2)
      throw new Error(`conf change: wrong wireType = ${wireType} for field 4`);
    if (field === 1) id = readVarint(r);
    else if (field === 2) type = Number(BigInt.asIntN(32, readVarint(r)));
    else if (field === 3) nodeId = readVarint(r);
    else if (field === 4) context = readBytes(r);
    else skipField(r, wireType);
  }
  if (!isConfChangeType(type)) throw new Error(`conf change: unknown type ${type}`);
  const cc: ConfChange = { type, nodeId, context };
  if (id !== 0n) cc.id = id;
  return cc;
}

function isConfChangeType(t: number): t is ConfChangeType {
  return (Object.values(ConfChangeType) as number[]).includes(t);
}

function pushVarint(out: number[], v: bigint): void {
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

interface Cursor {
  b: Uint8Array;
  pos: number;
}

/** Go's varint: at most 10 bytes, bits beyond 64 dropped. */
function readVarint(r: Cursor): bigint {
  let v = 0n;
  for (let shift = 0n; ; shift += 7n) {
    if (shift >= 64n) throw new Error('conf change: integer overflow');
    const byte = r.b[r.pos++];
    if (byte === undefined) throw new Error('conf change: truncated');
    v |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return BigInt.asUintN(64, v);
  }
}

function readBytes(r: Cursor): Uint8Array {
  const len = readVarint(r);
  if (len > BigInt(r.b.length - r.pos)) throw new Error('conf change: truncated');
  const start = r.pos;
  r.pos += Number(len);
  return new Uint8Array(r.b.subarray(start, r.pos));
}

function skipField(r: Cursor, wireType: number): void {
  if (wireType === 0) readVarint(r);
  else if (wireType === 2) readBytes(r);
  else if (wireType === 1 || wireType === 5) r.pos += wireType === 1 ? 8 : 4;
  else if (wireType === 3) {
    for (;;) {
      const inner = Number(readVarint(r) & 7n);
      if (inner === 4) break;
      skipField(r, inner);
    }
  } else throw new Error(`conf change: illegal wireType ${wireType}`);
  if (r.pos > r.b.length) throw new Error('conf change: truncated');
}
