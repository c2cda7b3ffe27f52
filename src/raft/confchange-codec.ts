// A compact binary form of ConfChange for the data of ConfChange log entries:
//   byte 0: format version (1) · byte 1: change type · bytes 2..9: node id (uint64 BE) · rest: context.
import { type ConfChange, ConfChangeType } from './types.js';

const VERSION = 1;
const HEADER_BYTES = 10;

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + cc.context.length);
  const view = new DataView(out.buffer);
  out[0] = VERSION;
  out[1] = cc.type;
  view.setBigUint64(2, BigInt.asUintN(64, cc.nodeId));
  out.set(cc.context, HEADER_BYTES);
  return out;
}

export function decodeConfChange(b: Uint8Array): ConfChange {
  if (b.length < HEADER_BYTES) throw new Error(`conf change: ${b.length} bytes is too short`);
  if (b[0] !== VERSION) throw new Error(`conf change: unknown format version ${b[0]}`);
  const type = b[1];
  if (!isConfChangeType(type)) throw new Error(`conf change: unknown type ${type}`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { type, nodeId: view.getBigUint64(2), context: b.slice(HEADER_BYTES) };
}

function isConfChangeType(t: number): t is ConfChangeType {
  return (Object.values(ConfChangeType) as number[]).includes(t);
}
