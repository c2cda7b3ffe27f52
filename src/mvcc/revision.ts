// A revision is (main, sub): `main` numbers one atomic change of the key space,
// `sub` orders the individual writes inside it. In the backend a revision is
// the key of its record: 8-byte big-endian main, '_', 8-byte big-endian sub,
// plus a trailing 't' for tombstones (etcd's layout, so bytes sort by revision
// and hashes of identical histories agree with etcd's).

import { assertInvariant } from './errors.js';

export interface Revision {
  main: number;
  sub: number;
}

export const REV_BYTES = 17;
export const MARKED_REV_BYTES = 18;
const SEPARATOR = 0x5f; // '_'
const TOMBSTONE_MARK = 0x74; // 't'

const TWO_POW_32 = 0x1_0000_0000;

function writeUint64(buf: Buffer, offset: number, n: number): void {
  buf.writeUInt32BE(Math.floor(n / TWO_POW_32), offset);
  buf.writeUInt32BE(n % TWO_POW_32, offset + 4);
}

function readUint64(buf: Buffer, offset: number): number {
  const n = buf.readUInt32BE(offset) * TWO_POW_32 + buf.readUInt32BE(offset + 4);
  assertInvariant(Number.isSafeInteger(n), 'revision beyond 2^53 in backend key');
  return n;
}

export function compareRevisions(a: Revision, b: Revision): number {
  if (a.main !== b.main) return a.main < b.main ? -1 : 1;
  if (a.sub !== b.sub) return a.sub < b.sub ? -1 : 1;
  return 0;
}

/** Encodes into `out` (which must be at least 17 bytes, 18 for a tombstone) and returns the used view. */
export function encodeRevision(rev: Revision, tombstone: boolean, out?: Buffer): Buffer {
  assertInvariant(Number.isSafeInteger(rev.main) && rev.main >= 0, 'revision main out of range');
  assertInvariant(Number.isSafeInteger(rev.sub) && rev.sub >= 0, 'revision sub out of range');
  const len = tombstone ? MARKED_REV_BYTES : REV_BYTES;
  const buf = out ?? Buffer.allocUnsafe(len);
  writeUint64(buf, 0, rev.main);
  buf[8] = SEPARATOR;
  writeUint64(buf, 9, rev.sub);
  if (tombstone) buf[17] = TOMBSTONE_MARK;
  return len === buf.length ? buf : buf.subarray(0, len);
}

export interface DecodedRevisionKey extends Revision {
  tombstone: boolean;
}

export function decodeRevision(bytes: Uint8Array): DecodedRevisionKey {
  assertInvariant(
    (bytes.length === REV_BYTES || bytes.length === MARKED_REV_BYTES) && bytes[8] === SEPARATOR,
    'malformed revision key',
  );
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return {
    main: readUint64(buf, 0),
    sub: readUint64(buf, 9),
    tombstone: bytes.length === MARKED_REV_BYTES && bytes[17] === TOMBSTONE_MARK,
  };
}

/** The smallest backend key whose main revision is `main` (bound for range scans). */
export function revisionLowerBound(main: number): Buffer {
  return encodeRevision({ main, sub: 0 }, false);
}

/** A compact string handle for sets of revisions. */
export function revisionId(main: number, sub: number): string {
  return `${main}.${sub}`;
}
