// Backend record format: the protobuf encoding of mvccpb.KeyValue (fields
// 1 key, 2 create_revision, 3 mod_revision, 4 version, 5 value, 6 lease; zero
// values omitted, as etcd writes them). Hand-written because it is tiny and on
// the hot path; it also keeps hashKV equal to etcd's for the same history.

import { assertInvariant } from './errors.js';
import { asBuffer, EMPTY_BYTES, type KeyValue } from './types.js';

const TAG_KEY = 0x0a;
const TAG_CREATE = 0x10;
const TAG_MOD = 0x18;
const TAG_VERSION = 0x20;
const TAG_VALUE = 0x2a;
const TAG_LEASE = 0x30;

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

function bigVarintSize(n: bigint): number {
  let size = 1;
  while (n >= 0x80n) {
    n >>= 7n;
    size++;
  }
  return size;
}

function writeBigVarint(buf: Uint8Array, pos: number, n: bigint): number {
  while (n >= 0x80n) {
    buf[pos++] = Number(n & 0x7fn) | 0x80;
    n >>= 7n;
  }
  buf[pos++] = Number(n);
  return pos;
}

function checkCounter(n: number, what: string): void {
  assertInvariant(Number.isSafeInteger(n) && n >= 0, `${what} must be a non-negative safe integer`);
}

export function encodeKeyValue(kv: KeyValue): Uint8Array {
  checkCounter(kv.createRevision, 'createRevision');
  checkCounter(kv.modRevision, 'modRevision');
  checkCounter(kv.version, 'version');
  // int64 on the wire: negative ids become their two's complement uint64.
  const lease = BigInt.asUintN(64, kv.lease);
  let size = 0;
  if (kv.key.length > 0) size += 1 + varintSize(kv.key.length) + kv.key.length;
  if (kv.createRevision !== 0) size += 1 + varintSize(kv.createRevision);
  if (kv.modRevision !== 0) size += 1 + varintSize(kv.modRevision);
  if (kv.version !== 0) size += 1 + varintSize(kv.version);
  if (kv.value.length > 0) size += 1 + varintSize(kv.value.length) + kv.value.length;
  if (lease !== 0n) size += 1 + bigVarintSize(lease);
  // Pooled allocation: records are small and this is on every write.
  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  if (kv.key.length > 0) {
    buf[pos++] = TAG_KEY;
    pos = writeVarint(buf, pos, kv.key.length);
    buf.set(kv.key, pos);
    pos += kv.key.length;
  }
  if (kv.createRevision !== 0) {
    buf[pos++] = TAG_CREATE;
    pos = writeVarint(buf, pos, kv.createRevision);
  }
  if (kv.modRevision !== 0) {
    buf[pos++] = TAG_MOD;
    pos = writeVarint(buf, pos, kv.modRevision);
  }
  if (kv.version !== 0) {
    buf[pos++] = TAG_VERSION;
    pos = writeVarint(buf, pos, kv.version);
  }
  if (kv.value.length > 0) {
    buf[pos++] = TAG_VALUE;
    pos = writeVarint(buf, pos, kv.value.length);
    buf.set(kv.value, pos);
    pos += kv.value.length;
  }
  if (lease !== 0n) {
    buf[pos++] = TAG_LEASE;
    pos = writeBigVarint(buf, pos, lease);
  }
  assertInvariant(pos === size, 'KeyValue encoder size mismatch');
  return buf;
}

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  /** Reads a varint that must fit a safe integer (revisions, versions, lengths). */
  uint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new Error('mvcc: varint too long for a revision in KeyValue record');
  }

  bigUint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
    throw new Error('mvcc: malformed varint in KeyValue record');
  }

  bytes(): Uint8Array {
    const len = this.uint();
    assertInvariant(this.pos + len <= this.buf.length, 'truncated KeyValue record');
    // A plain Uint8Array view (not a Buffer), so results compare equal to ts-proto's bytes.
    const out = new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.pos, len);
    this.pos += len;
    return out;
  }

  byte(): number {
    assertInvariant(this.pos < this.buf.length, 'truncated KeyValue record');
    return this.buf[this.pos++]!;
  }
}

/** Decodes a record. The key and value returned are views into `buf`, which the caller must own. */
export function decodeKeyValue(buf: Uint8Array): KeyValue {
  const kv: KeyValue = {
    key: EMPTY_BYTES,
    createRevision: 0,
    modRevision: 0,
    version: 0,
    value: EMPTY_BYTES,
    lease: 0n,
  };
  const r = new Reader(buf);
  while (r.pos < buf.length) {
    const tag = r.byte();
    switch (tag) {
      case TAG_KEY:
        kv.key = asBuffer(r.bytes());
        break;
      case TAG_CREATE:
        kv.createRevision = r.uint();
        break;
      case TAG_MOD:
        kv.modRevision = r.uint();
        break;
      case TAG_VERSION:
        kv.version = r.uint();
        break;
      case TAG_VALUE:
        kv.value = asBuffer(r.bytes());
        break;
      case TAG_LEASE:
        kv.lease = BigInt.asIntN(64, r.bigUint());
        break;
      default:
        throw new Error(`mvcc: unexpected field tag ${tag} in KeyValue record`);
    }
  }
  return kv;
}
