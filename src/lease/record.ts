// The backend form of a lease, compatible with etcd's data: bucket "lease", key = the id as 8 bytes
// big-endian, value = leasepb.Lease { int64 ID = 1; int64 TTL = 2; int64 RemainingTTL = 3; } in
// protobuf (proto3: zero fields are left out; negative int64 are 10-byte varints).

import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { invariant } from './errors.js';
import type { LeaseId, LeaseRecord } from './types.js';

const FIELD_ID = 1;
const FIELD_TTL = 2;
const FIELD_REMAINING_TTL = 3;

export function encodeLeaseRecord(r: LeaseRecord): Uint8Array {
  invariant(Number.isSafeInteger(r.ttl), `lease ttl ${r.ttl} is not an integer`);
  invariant(Number.isSafeInteger(r.remainingTtl), `lease remaining ttl ${r.remainingTtl} is not an integer`);
  const id = BigInt.asIntN(64, r.id);
  invariant(id === r.id, `lease id ${r.id} does not fit in int64`);
  const w = new BinaryWriter();
  if (id !== 0n) w.tag(FIELD_ID, WireType.Varint).int64(id);
  if (r.ttl !== 0) w.tag(FIELD_TTL, WireType.Varint).int64(r.ttl);
  if (r.remainingTtl !== 0) w.tag(FIELD_REMAINING_TTL, WireType.Varint).int64(r.remainingTtl);
  return w.finish();
}

function toSafeNumber(v: bigint | string, what: string): number {
  const b = BigInt(v);
  invariant(
    b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER),
    `${what} ${b} is out of range`,
  );
  return Number(b);
}

/** Decodes a stored lease; throws on malformed bytes. Unknown fields are skipped. */
export function decodeLeaseRecord(b: Uint8Array): LeaseRecord {
  const r = new BinaryReader(b);
  const out: LeaseRecord = { id: 0n, ttl: 0, remainingTtl: 0 };
  while (r.pos < r.len) {
    const [field, wt] = r.tag();
    if (field === FIELD_ID && wt === WireType.Varint) out.id = BigInt.asIntN(64, BigInt(r.int64()));
    else if (field === FIELD_TTL && wt === WireType.Varint) out.ttl = toSafeNumber(r.int64(), 'lease ttl');
    else if (field === FIELD_REMAINING_TTL && wt === WireType.Varint)
      out.remainingTtl = toSafeNumber(r.int64(), 'lease remaining ttl');
    else r.skip(wt, field);
  }
  return out;
}

/** The backend key of a lease: its id as an 8-byte big-endian two's-complement integer. */
export function leaseKey(id: LeaseId): Uint8Array {
  const key = new Uint8Array(8);
  new DataView(key.buffer).setBigUint64(0, BigInt.asUintN(64, id), false);
  return key;
}

/** The id a backend key stands for. */
export function leaseIdFromKey(key: Uint8Array): LeaseId {
  invariant(key.length === 8, `lease key must be 8 bytes, got ${key.length}`);
  return new DataView(key.buffer, key.byteOffset, 8).getBigInt64(0, false);
}
