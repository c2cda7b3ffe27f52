// Recognising and reading an etcd 3.4 member's data dir: member/wal/*.wal in etcd's WAL format,
// member/snap/*.snap (snappb), member/snap/db (bbolt). Read-only: nothing here writes to it.
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeEtcdSnapFile } from '../peer/wire/snap-file.js';
import type { Entry, HardState, Snapshot } from '../raft/types.js';
import {
  decodeFrameSize,
  decodeRecordPb,
  type EtcdWalSnapshot,
  EtcdWalType,
  FRAME_HEADER_BYTES,
} from './etcd-wal-codec.js';
import {
  type EtcdWalContents,
  listEtcdWalFiles,
  readEtcdWal,
  type TornTail,
  validSnapshotRecords,
} from './etcd-wal-reader.js';

/** The first bytes of an etcd-ts WAL segment (docs/wal-format.md). */
const OUR_WAL_MAGIC = Buffer.from('etcdtsWL', 'latin1');
/** bbolt's meta magic 0xED0CDAED, little-endian at offset 16 of page 0. */
const BOLT_MAGIC_OFFSET = 16;
const BOLT_MAGIC = 0xed0cdaed;

export interface MemberPaths {
  walDir: string;
  snapDir: string;
  dbPath: string;
}

async function readPrefix(path: string, bytes: number): Promise<Buffer | undefined> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Whether the file at `path` starts like a bbolt database. */
export async function isBoltFile(path: string): Promise<boolean> {
  const head = await readPrefix(path, BOLT_MAGIC_OFFSET + 4);
  return head !== undefined && head.length === BOLT_MAGIC_OFFSET + 4 && head.readUInt32LE(16) === BOLT_MAGIC;
}

/**
 * An etcd 3.4 data dir: its first WAL segment starts the way etcd starts every segment, with a
 * framed crc record (ours start with a magic). Anything else — ours, or damaged — is left to the
 * normal start-up, which reports it.
 */
export async function isEtcd34DataDir(p: MemberPaths): Promise<boolean> {
  const files = await listEtcdWalFiles(p.walDir);
  if (files.length === 0) return false;
  const head = await readPrefix(join(p.walDir, files[0]!.name), 64);
  if (head === undefined || head.length < FRAME_HEADER_BYTES) return false;
  if (head.subarray(0, OUR_WAL_MAGIC.length).equals(OUR_WAL_MAGIC)) return false;
  const { bytes, pad } = decodeFrameSize(head.readBigUInt64LE(0));
  if (bytes === 0 || bytes > 16 || FRAME_HEADER_BYTES + bytes + pad > head.length) return false;
  try {
    const rec = decodeRecordPb(head.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + bytes));
    return rec.type === EtcdWalType.crc && rec.data === undefined;
  } catch {
    return false;
  }
}

export interface Etcd34Member {
  metadata: Uint8Array;
  snapshot: Snapshot | undefined;
  /** The .snap file the snapshot came from. */
  snapshotFile: string | undefined;
  hardState: HardState;
  entries: Entry[];
  /** The bbolt backend to import: member/snap/db, or the snapshot's <index>.snap.db when db is older. */
  dbPath: string;
  torn: TornTail | undefined;
  /** .snap files that could not be read (etcd would rename them *.broken). */
  skippedSnapFiles: string[];
}

/**
 * Reads the member as etcd 3.4's start-up does: the newest readable .snap that a WAL snapshot
 * record (at or below the committed index) vouches for, then the WAL from that snapshot on.
 */
export async function readEtcd34Member(p: MemberPaths): Promise<Etcd34Member> {
  const walSnaps = await validSnapshotRecords(p.walDir);
  const { snapshot, file, skipped } = await newestMatchingSnap(p.snapDir, walSnaps);
  const from: EtcdWalSnapshot = snapshot
    ? { index: snapshot.metadata.index, term: snapshot.metadata.term }
    : { index: 0, term: 0 };
  const wal: EtcdWalContents = await readEtcdWal(p.walDir, from);
  return {
    metadata: wal.metadata,
    snapshot,
    snapshotFile: file,
    hardState: wal.hardState,
    entries: wal.entries,
    dbPath: p.dbPath,
    torn: wal.torn,
    skippedSnapFiles: skipped,
  };
}

async function newestMatchingSnap(
  dir: string,
  walSnaps: EtcdWalSnapshot[],
): Promise<{ snapshot: Snapshot | undefined; file: string | undefined; skipped: string[] }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return { snapshot: undefined, file: undefined, skipped: [] };
    throw err;
  }
  const skipped: string[] = [];
  for (const name of names
    .filter((n) => n.endsWith('.snap'))
    .sort()
    .reverse()) {
    const file = join(dir, name);
    let snap: Snapshot;
    try {
      snap = decodeEtcdSnapFile(await readFile(file));
    } catch {
      skipped.push(file);
      continue;
    }
    const { index, term } = snap.metadata;
    if (walSnaps.some((w) => w.index === index && w.term === term)) return { snapshot: snap, file, skipped };
  }
  return { snapshot: undefined, file: undefined, skipped };
}

/** etcd's name for a database received with a raft snapshot (snap.DBFilePath). */
export function snapDbPath(snapDir: string, index: number): string {
  return join(snapDir, `${index.toString(16).padStart(16, '0')}.snap.db`);
}

export async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
