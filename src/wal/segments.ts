// Segment file names and directory-level helpers (listing, full writes).
import type { FileSystem, FsFile } from '../fs/file-system.js';

/** etcd's naming: `<seq>-<first index>.wal`, both 16 hex digits, so names sort in seq order. */
const SEGMENT_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

export interface SegmentFile {
  name: string;
  seq: number;
  firstIndex: number;
}

export function segmentName(seq: number, firstIndex: number): string {
  return `${hex16(seq)}-${hex16(firstIndex)}.wal`;
}

export function hex16(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`wal: bad name number ${n}`);
  return n.toString(16).padStart(16, '0');
}

export function parseSegmentName(name: string): SegmentFile | undefined {
  const m = SEGMENT_NAME.exec(name);
  if (!m) return undefined;
  return { name, seq: Number.parseInt(m[1]!, 16), firstIndex: Number.parseInt(m[2]!, 16) };
}

export function sortedSegments(names: string[]): SegmentFile[] {
  const segs: SegmentFile[] = [];
  for (const n of names) {
    const s = parseSegmentName(n);
    if (s) segs.push(s);
  }
  return segs.sort((a, b) => a.seq - b.seq);
}

export async function listSegments(fs: FileSystem, dir: string): Promise<SegmentFile[]> {
  return sortedSegments(await fs.readdir(dir));
}

export function hasSegmentsSync(fs: FileSystem, dir: string): boolean {
  try {
    return sortedSegments(fs.readdirSync(dir)).length > 0;
  } catch {
    return false;
  }
}

/** libuv caps one writev at IOV_MAX buffers and may write partially; loop until everything is down. */
const MAX_IOV = 1024;

export async function writeAllAt(file: FsFile, bufs: Buffer[], position: number): Promise<number> {
  let pending = bufs.filter((b) => b.length > 0);
  let pos = position;
  while (pending.length > 0) {
    const chunk = pending.slice(0, MAX_IOV);
    const bytesWritten = await file.writev(chunk, pos);
    if (bytesWritten <= 0) throw new Error('wal: writev wrote nothing');
    pos += bytesWritten;
    pending = dropWritten(pending, bytesWritten);
  }
  return pos - position;
}

/** writeAllAt on the calling thread (the inline WAL path): blocks until the kernel took every byte. */
export function writeAllAtSync(file: FsFile, bufs: Buffer[], position: number): number {
  let pending = bufs.filter((b) => b.length > 0);
  let pos = position;
  while (pending.length > 0) {
    const chunk = pending.slice(0, MAX_IOV);
    const written = file.writevSync(chunk, pos);
    if (written <= 0) throw new Error('wal: writev wrote nothing');
    pos += written;
    pending = dropWritten(pending, written);
  }
  return pos - position;
}

function dropWritten(bufs: Buffer[], written: number): Buffer[] {
  let i = 0;
  let left = written;
  while (i < bufs.length && left >= bufs[i]!.length) {
    left -= bufs[i]!.length;
    i++;
  }
  const rest = bufs.slice(i);
  if (left > 0) rest[0] = rest[0]!.subarray(left);
  return rest;
}
