// bbolt 1.3 on-disk constants and the meta page. All integers are little-endian (bbolt maps
// its structs onto the file on amd64/arm64). See docs/decisions/0011-bbolt.md and the fact
// sheet (shared/reference/bbolt-snapshot-format.md) for where each rule comes from.

import { BoltFormatError } from './errors.js';

export const PAGE_HEADER_SIZE = 16;
export const ELEMENT_SIZE = 16; // leaf and branch elements are both 16 bytes
export const BUCKET_HEADER_SIZE = 16; // {root u64, sequence u64}
export const META_OFFSET = PAGE_HEADER_SIZE;

export const FLAG_BRANCH = 0x01;
export const FLAG_LEAF = 0x02;
export const FLAG_META = 0x04;
export const FLAG_FREELIST = 0x10;
/** Leaf element flag: the value is a sub-bucket header. */
export const ELEMENT_BUCKET = 0x01;

export const MAGIC = 0xed0cdaed;
export const VERSION = 2;
/** meta.freelist when the freelist is not stored (etcd on Linux: NoFreelistSync). */
export const NO_FREELIST = 0xffff_ffff_ffff_ffffn;
export const DEFAULT_PAGE_SIZE = 4096;
export const MAX_KEY_SIZE = 32768;
export const MAX_VALUE_SIZE = 2 ** 31 - 2;
/** Count field of a freelist page that says "the real count is in the first u64". */
export const FREELIST_COUNT_ESCAPE = 0xffff;

export interface Meta {
  pageSize: number;
  flags: number;
  /** Page id of the root bucket's root page. */
  root: bigint;
  rootSequence: bigint;
  /** Freelist page id, or NO_FREELIST. */
  freelist: bigint;
  /** High-water mark: pages [0, pgid) are in use; the db is pgid × pageSize bytes. */
  pgid: bigint;
  txid: bigint;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const U64 = 0xffff_ffff_ffff_ffffn;

/** FNV-1a 64 (Go's hash/fnv New64a). Only ever run over 56 meta bytes, so bigint is fine. */
export function fnv1a64(bytes: Uint8Array): bigint {
  let h = FNV_OFFSET;
  for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & U64;
  return h;
}

/** Writes a full meta page (header + meta + checksum) for page `id` into `page` (zeroed by the caller). */
export function encodeMetaPage(page: Buffer, id: number, m: Meta): void {
  page.writeBigUInt64LE(BigInt(id), 0);
  page.writeUInt16LE(FLAG_META, 8);
  const o = META_OFFSET;
  page.writeUInt32LE(MAGIC, o);
  page.writeUInt32LE(VERSION, o + 4);
  page.writeUInt32LE(m.pageSize, o + 8);
  page.writeUInt32LE(m.flags, o + 12);
  page.writeBigUInt64LE(m.root, o + 16);
  page.writeBigUInt64LE(m.rootSequence, o + 24);
  page.writeBigUInt64LE(m.freelist, o + 32);
  page.writeBigUInt64LE(m.pgid, o + 40);
  page.writeBigUInt64LE(m.txid, o + 48);
  page.writeBigUInt64LE(fnv1a64(page.subarray(o, o + 56)), o + 56);
}

export type MetaResult = { ok: true; meta: Meta } | { ok: false; reason: string };

/** Parses and validates the meta at `page[16..80)` as bbolt's meta.validate does. */
export function decodeMetaPage(page: Buffer): MetaResult {
  if (page.length < META_OFFSET + 64) return { ok: false, reason: 'shorter than a meta page' };
  const o = META_OFFSET;
  if (page.readUInt32LE(o) !== MAGIC) return { ok: false, reason: 'bad magic (not a bbolt file)' };
  const version = page.readUInt32LE(o + 4);
  if (version !== VERSION) return { ok: false, reason: `unsupported version ${version}` };
  const checksum = page.readBigUInt64LE(o + 56);
  // bbolt accepts a zero checksum without checking it.
  if (checksum !== 0n && checksum !== fnv1a64(page.subarray(o, o + 56))) {
    return { ok: false, reason: 'checksum mismatch' };
  }
  return {
    ok: true,
    meta: {
      pageSize: page.readUInt32LE(o + 8),
      flags: page.readUInt32LE(o + 12),
      root: page.readBigUInt64LE(o + 16),
      rootSequence: page.readBigUInt64LE(o + 24),
      freelist: page.readBigUInt64LE(o + 32),
      pgid: page.readBigUInt64LE(o + 40),
      txid: page.readBigUInt64LE(o + 48),
    },
  };
}

/** A page size we are willing to trust: a power of two in [1 KiB, 64 KiB]. */
export function isSanePageSize(n: number): boolean {
  return n >= 1024 && n <= 65536 && (n & (n - 1)) === 0;
}

/** Unsigned lexicographic byte order (Go's bytes.Compare), which bbolt keys follow. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

export function assertFormat(cond: unknown, message: string): asserts cond {
  if (!cond) throw new BoltFormatError(message);
}
