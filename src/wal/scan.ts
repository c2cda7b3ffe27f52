// Reading one segment and deciding, when a record does not verify, whether it
// is a torn tail (safe to cut: never acknowledged) or corruption (refuse).
import { WalCorruptError } from './errors.js';
import {
  type DecodedRecord,
  decodeRecordAt,
  decodeSegmentHeader,
  RECORD_ALIGN,
  RECORD_HEADER_BYTES,
  type RecordType,
  SEGMENT_HEADER_BYTES,
  type SegmentHeader,
} from './record.js';

export interface ScannedRecord {
  type: RecordType;
  payload: Buffer;
  offset: number;
}

export interface SegmentScan {
  header: SegmentHeader;
  records: ScannedRecord[];
  /** Offset just past the last good record (zeros after it are unused, preallocated space). */
  end: number;
  /** Set when the segment ends in a torn record: the offset to cut at, why, and where the garbage ends. */
  torn?: { offset: number; reason: string; garbageEnd: number };
}

/** Disk sectors are written whole or not at all; a zero chunk of one inside a record was never written. */
const SECTOR_BYTES = 512;

export function scanSegment(buf: Buffer, file: string, isLast: boolean): SegmentScan {
  const header = decodeSegmentHeader(buf);
  if (typeof header === 'string') throw new WalCorruptError(file, 0, header);
  const records: ScannedRecord[] = [];
  const lastNonZero = lastNonZeroByte(buf);
  let off = SEGMENT_HEADER_BYTES;
  // Past the last non-zero byte there is only preallocated (or zero-filled) space: the normal end.
  while (off <= lastNonZero) {
    const r = decodeRecordAt(buf, off);
    if (r.kind === 'ok') {
      records.push({ type: r.type, payload: r.payload, offset: off });
      off = r.next;
      continue;
    }
    // Sealed segments were fsynced in full before their successor existed: nothing in them can be torn.
    if (!isLast) throw new WalCorruptError(file, off, 'invalid record in a sealed (non-last) segment');
    const verdict = classifyInvalidTail(buf, off, r, lastNonZero);
    if (verdict.corrupt) throw new WalCorruptError(file, off, verdict.reason);
    return {
      header,
      records,
      end: off,
      torn: { offset: off, reason: verdict.reason, garbageEnd: lastNonZero + 1 },
    };
  }
  return { header, records, end: off };
}

type Verdict = { corrupt: boolean; reason: string };

/**
 * A crash can only damage the last, unacknowledged write, and only in the ways a disk fails:
 * the data stops early (file ends), or some of its sectors were never written (still zero).
 * Anything else — above all a bad record with a valid one after it — is damage to synced data.
 */
function classifyInvalidTail(buf: Buffer, off: number, r: DecodedRecord, lastNonZero: number): Verdict {
  const later = findValidRecordAfter(buf, off + RECORD_ALIGN, lastNonZero);
  if (later !== undefined) {
    return { corrupt: true, reason: `invalid record followed by a valid record at offset ${later}` };
  }
  switch (r.kind) {
    case 'short':
      return { corrupt: false, reason: 'last record cut short by end of file' };
    case 'badHeader':
      if (hasUnwrittenChunk(buf, off, Math.min(off + RECORD_HEADER_BYTES, buf.length), RECORD_ALIGN)) {
        return { corrupt: false, reason: 'last record header partly unwritten (zero)' };
      }
      return { corrupt: true, reason: 'record header checksum mismatch' };
    case 'badBody':
      if (hasUnwrittenChunk(buf, off, r.end, r.padding + 1)) {
        return { corrupt: false, reason: 'last record has an unwritten (zero) sector' };
      }
      return { corrupt: true, reason: 'record checksum mismatch' };
    default:
      throw new Error('wal: classify called on a valid record');
  }
}

function findValidRecordAfter(buf: Buffer, from: number, lastNonZero: number): number | undefined {
  // A valid header has a non-zero checksum word, so no valid record starts past the last non-zero byte.
  for (let p = from; p <= lastNonZero && p + RECORD_HEADER_BYTES <= buf.length; p += RECORD_ALIGN) {
    if (decodeRecordAt(buf, p).kind === 'ok') return p;
  }
  return undefined;
}

/**
 * True if, for some sector overlapping the record [from, to), the overlap is all zero: what a
 * write cut by power loss leaves (the sector still holds its old, zero content). Overlaps must be
 * at least 8 bytes, except the record's final one, which only has to be longer than the record's
 * own zero padding (`finalMin`), so a loss of even the last payload bytes is recognised.
 */
function hasUnwrittenChunk(buf: Buffer, from: number, to: number, finalMin: number): boolean {
  for (let s = Math.floor(from / SECTOR_BYTES) * SECTOR_BYTES; s < to; s += SECTOR_BYTES) {
    const a = Math.max(from, s);
    const b = Math.min(to, s + SECTOR_BYTES);
    const min = b === to ? Math.min(RECORD_ALIGN, finalMin) : RECORD_ALIGN;
    if (b - a >= min && isAllZero(buf, a, b)) return true;
  }
  return false;
}

const ZEROS = Buffer.alloc(64 * 1024);

function isAllZero(buf: Buffer, from: number, to: number): boolean {
  for (let p = from; p < to; p += ZEROS.length) {
    const n = Math.min(ZEROS.length, to - p);
    if (!buf.subarray(p, p + n).equals(ZEROS.subarray(0, n))) return false;
  }
  return true;
}

/** Index of the last non-zero byte, or -1; scans backwards in chunks (preallocated tails are long). */
export function lastNonZeroByte(buf: Buffer): number {
  let end = buf.length;
  while (end > 0) {
    const start = Math.max(0, end - ZEROS.length);
    if (!isAllZero(buf, start, end)) {
      for (let i = end - 1; i >= start; i--) if (buf[i] !== 0) return i;
    }
    end = start;
  }
  return -1;
}
