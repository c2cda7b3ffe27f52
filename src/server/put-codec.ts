// PutRequest on the hot path, by hand: decoding it from a client's gRPC payload
// and from a raft entry, and encoding it into a raft entry. The generated
// codec's growing writer and reader cost more than the rest of a put's
// protobuf work (docs/decisions/0005-put-path-performance.md). Both directions
// handle the common shape (key, value, a non-negative lease, flags) and answer
// undefined for anything else, so callers fall back to the generated codec;
// the bytes are the generated encoder's (fields in order, defaults omitted).
import { asBuffer } from '../mvcc/types.js';
import type { PutRequest } from '../pb/etcdserverpb/rpc.js';
import { delimitedSize, fitsVarint64, readVarint, varint64Size, writeVarint, writeVarint64 } from './wire.js';

const EMPTY = Buffer.alloc(0);

/**
 * Decodes `input[start, end)`; undefined for unknown fields, a negative lease, malformed bytes.
 * Key and value are copies unless `views`: a raft entry's data is never written again and lives
 * in the raft log anyway, so the apply path takes views (the store copies them into its record);
 * a client's payload sits in a connection's read buffer and must be copied.
 */
export function decodePutRequestFast(
  input: Uint8Array,
  start = 0,
  end = input.length,
  views = false,
): PutRequest | undefined {
  let pos = start;
  let key: Buffer = EMPTY;
  let value: Buffer = EMPTY;
  let lease = 0n;
  let prevKv = false;
  let ignoreValue = false;
  let ignoreLease = false;
  while (pos < end) {
    const tag = input[pos++]!;
    if (tag === 0x0a || tag === 0x12) {
      const len = readVarint(input, pos, end);
      if (len === undefined || len[1] + len[0] > end) return undefined;
      const body = input.subarray(len[1], len[1] + len[0]);
      const bytes = views ? asBuffer(body) : Buffer.from(body);
      if (tag === 0x0a) key = bytes;
      else value = bytes;
      pos = len[1] + len[0];
    } else if (tag === 0x18) {
      const v = readVarint(input, pos, end);
      if (v === undefined) return undefined;
      lease = BigInt(v[0]);
      pos = v[1];
    } else if (tag === 0x20 || tag === 0x28 || tag === 0x30) {
      const b = input[pos++];
      if (b !== 0 && b !== 1) return undefined;
      if (tag === 0x20) prevKv = b === 1;
      else if (tag === 0x28) ignoreValue = b === 1;
      else ignoreLease = b === 1;
    } else return undefined;
  }
  return { key, value, lease, prevKv, ignoreValue, ignoreLease };
}

/** Encoded size of `r`'s fields, or -1 when it is outside the fast path (a negative lease). */
export function putRequestSize(r: PutRequest): number {
  if (!fitsVarint64(r.lease)) return -1;
  let n = 0;
  if (r.key.length !== 0) n += 1 + delimitedSize(r.key.length);
  if (r.value.length !== 0) n += 1 + delimitedSize(r.value.length);
  if (r.lease !== 0n) n += 1 + varint64Size(r.lease);
  if (r.prevKv) n += 2;
  if (r.ignoreValue) n += 2;
  if (r.ignoreLease) n += 2;
  return n;
}

/** Writes `r`'s fields at `pos` (putRequestSize(r) bytes, which must be >= 0); returns the end. */
export function writePutRequest(buf: Uint8Array, pos: number, r: PutRequest): number {
  if (r.key.length !== 0) {
    buf[pos++] = 0x0a;
    pos = writeVarint(buf, pos, r.key.length);
    buf.set(r.key, pos);
    pos += r.key.length;
  }
  if (r.value.length !== 0) {
    buf[pos++] = 0x12;
    pos = writeVarint(buf, pos, r.value.length);
    buf.set(r.value, pos);
    pos += r.value.length;
  }
  if (r.lease !== 0n) {
    buf[pos++] = 0x18;
    pos = writeVarint64(buf, pos, r.lease);
  }
  if (r.prevKv) {
    buf[pos++] = 0x20;
    buf[pos++] = 1;
  }
  if (r.ignoreValue) {
    buf[pos++] = 0x28;
    buf[pos++] = 1;
  }
  if (r.ignoreLease) {
    buf[pos++] = 0x30;
    buf[pos++] = 1;
  }
  return pos;
}
