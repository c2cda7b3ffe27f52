// Snapshot file layout: a fixed header (magic, version, CRC32C and length of the body)
// followed by the body (metadata, then the application's opaque image).

import type { Snapshot } from '../raft/types.js';
import { crc32c } from '../util/crc32c.js';
import { BinReader, BinWriter, readConfState, writeConfState } from '../wal/codec.js';

const MAGIC = Buffer.from('etcdtsSN', 'latin1');
const VERSION = 1;
const HEADER_BYTES = 24;

/** `<term>-<index>.snap`, 16 hex digits each (etcd's naming), so a name sort is a (term, index) sort. */
const SNAP_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

export function snapName(term: number, index: number): string {
  const h = (n: number) => {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`snap: bad name number ${n}`);
    return n.toString(16).padStart(16, '0');
  };
  return `${h(term)}-${h(index)}.snap`;
}

export function isSnapName(name: string): boolean {
  return SNAP_NAME.test(name);
}

export function encodeSnapshotFile(s: Snapshot): Buffer {
  const w = new BinWriter(64 + s.data.length);
  w.u64(s.metadata.index);
  w.u64(s.metadata.term);
  writeConfState(w, s.metadata.confState);
  w.bytes(s.data);
  const body = w.finish();
  const head = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(head, 0);
  head.writeUInt32LE(VERSION, 8);
  head.writeUInt32LE(crc32c(body), 12);
  head.writeBigUInt64LE(BigInt(body.length), 16);
  return Buffer.concat([head, body]);
}

/** Throws with a reason when the file is not an intact snapshot. */
export function decodeSnapshotFile(buf: Buffer): Snapshot {
  if (buf.length < HEADER_BYTES) throw new Error('snap: file shorter than its header');
  if (!buf.subarray(0, 8).equals(MAGIC)) throw new Error('snap: bad magic');
  const version = buf.readUInt32LE(8);
  if (version !== VERSION) throw new Error(`snap: unsupported version ${version}`);
  const bodyLen = buf.readBigUInt64LE(16);
  if (bodyLen !== BigInt(buf.length - HEADER_BYTES))
    throw new Error('snap: length mismatch (truncated file?)');
  const body = buf.subarray(HEADER_BYTES);
  if (crc32c(body) !== buf.readUInt32LE(12)) throw new Error('snap: checksum mismatch');
  const r = new BinReader(body);
  const index = r.u64();
  const term = r.u64();
  const confState = readConfState(r);
  return { metadata: { index, term, confState }, data: r.rest() };
}
