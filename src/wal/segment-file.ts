// Creating segment files: allocation (optionally filled with zeros up front) and the
// fixed beginning every segment carries.
import type { FileSystem, FsFile } from '../fs/file-system.js';
import type { HardState } from '../raft/types.js';
import { addHardState, addMetadata, addSnapshot, type WalSnapshotRef } from './payloads.js';
import { BatchEncoder, encodeSegmentHeader } from './record.js';
import { writeAllAt } from './segments.js';

const ZERO_CHUNK = Buffer.alloc(1024 * 1024);

/**
 * Creates `path` exclusively. With `preallocate`, its blocks are written with zeros now, so later
 * appends are overwrites: fdatasync then has no file size or extent change to commit.
 */
export async function allocateSegmentFile(
  fs: FileSystem,
  path: string,
  bytes: number,
  preallocate: boolean,
): Promise<FsFile> {
  const fh = await fs.open(path, 'wx+');
  try {
    if (preallocate) await writeZeros(fh, 0, bytes);
    await fh.datasync();
    return fh;
  } catch (err) {
    await fh.close();
    throw err;
  }
}

export async function writeZeros(fh: FsFile, from: number, to: number): Promise<void> {
  for (let pos = from; pos < to; ) {
    const n = Math.min(ZERO_CHUNK.length, to - pos);
    const bytesWritten = await fh.write(ZERO_CHUNK.subarray(0, n), pos);
    if (bytesWritten <= 0) throw new Error('wal: zero fill wrote nothing');
    pos += bytesWritten;
  }
}

/**
 * Writes the header and the records every segment starts with (metadata, newest snapshot
 * record, last hardState), so a segment replays without its predecessors. Returns the end offset.
 */
export async function initSegment(
  fh: FsFile,
  seq: number,
  firstIndex: number,
  metadata: Buffer,
  snapshot: WalSnapshotRef,
  hardState: HardState | undefined,
): Promise<number> {
  const enc = new BatchEncoder();
  addMetadata(enc, metadata);
  addSnapshot(enc, snapshot);
  if (hardState && !isEmptyHardState(hardState)) addHardState(enc, hardState);
  const end = await writeAllAt(fh, [encodeSegmentHeader({ seq, firstIndex }), enc.finish()], 0);
  await fh.datasync();
  return end;
}

function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === 0n && hs.commit === 0;
}
