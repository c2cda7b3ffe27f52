// Reading an etcd 3.4 WAL directory the way etcd reads it at start-up (wal.ValidSnapshotEntries,
// then wal.Open + ReadAll from the chosen snapshot, with wal.Repair's rule for a torn tail), but
// without ever writing to it: a torn last record is dropped from what we return, the file itself
// is left as it was (the caller keeps the original files aside).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeEntry, decodeHardState } from '../peer/wire/raftpb.js';
import type { Entry, HardState } from '../raft/types.js';
import { crc32c } from '../util/crc32c.js';
import {
  decodeFrameSize,
  decodeRecordPb,
  decodeWalSnapshot,
  type EtcdWalRecord,
  type EtcdWalSnapshot,
  EtcdWalType,
  FRAME_HEADER_BYTES,
  MAX_RECORD_BYTES,
} from './etcd-wal-codec.js';

export class EtcdWalError extends Error {
  constructor(message: string) {
    super(`etcd wal: ${message}`);
    this.name = 'EtcdWalError';
  }
}

const WAL_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;
/** Sector size etcd's torn-write detection works in (minSectorSize). */
const SECTOR = 512;

export interface EtcdWalFile {
  name: string;
  seq: bigint;
  /** Raft index of the first entry the segment may hold (last index + 1 when it was cut). */
  index: bigint;
}

export function etcdWalName(seq: bigint, index: bigint): string {
  return `${seq.toString(16).padStart(16, '0')}-${index.toString(16).padStart(16, '0')}.wal`;
}

export function parseEtcdWalName(name: string): EtcdWalFile | undefined {
  const m = WAL_NAME.exec(name);
  if (m === null) return undefined;
  return { name, seq: BigInt(`0x${m[1]}`), index: BigInt(`0x${m[2]}`) };
}

/** The WAL segments in `dir`, in name (= sequence) order; other files are ignored, as etcd does. */
export async function listEtcdWalFiles(dir: string): Promise<EtcdWalFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .map(parseEtcdWalName)
    .filter((f): f is EtcdWalFile => f !== undefined)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Where a torn last record starts: what etcd's Repair would cut the last segment at. */
export interface TornTail {
  file: string;
  offset: number;
  reason: string;
}

interface ScanResult {
  torn: TornTail | undefined;
}

/**
 * Decodes every record of `files` in order, verifying the CRC chain (crc records reset it as
 * etcd's ReadAll does). Stops at a torn tail in the last file; anything else damaged throws.
 */
async function scanRecords(
  dir: string,
  files: readonly EtcdWalFile[],
  visit: (rec: EtcdWalRecord, where: string) => void,
): Promise<ScanResult> {
  let crc = 0;
  for (let i = 0; i < files.length; i++) {
    const name = files[i]!.name;
    const isLast = i === files.length - 1;
    const buf = await readFile(join(dir, name));
    let off = 0;
    const torn = (reason: string): ScanResult => {
      if (!isLast) throw new EtcdWalError(`${name} at offset ${off}: ${reason} (not the last segment)`);
      return { torn: { file: join(dir, name), offset: off, reason } };
    };
    for (;;) {
      if (off === buf.length) break;
      if (buf.length - off < FRAME_HEADER_BYTES) return torn('file ends inside a length field');
      const lenField = buf.readBigUInt64LE(off);
      if (lenField === 0n) break; // preallocated space: the rest of this segment is unused
      const { bytes, pad } = decodeFrameSize(lenField);
      if (bytes >= MAX_RECORD_BYTES - pad) {
        throw new EtcdWalError(`${name} at offset ${off}: record of ${bytes} bytes exceeds etcd's limit`);
      }
      const start = off + FRAME_HEADER_BYTES;
      const end = start + bytes + pad;
      if (end > buf.length) return torn('file ends inside a record');
      let rec: EtcdWalRecord;
      try {
        rec = decodeRecordPb(buf.subarray(start, start + bytes));
      } catch (err) {
        if (isLast && hasZeroSector(buf, start, end))
          return torn('unreadable record with an unwritten sector');
        throw new EtcdWalError(`${name} at offset ${off}: ${(err as Error).message}`);
      }
      if (rec.type === EtcdWalType.crc) {
        // A fresh decoder (crc 0) takes the record's value unchecked, as etcd's ReadAll does.
        if (crc !== 0 && rec.crc !== crc) {
          throw new EtcdWalError(`${name} at offset ${off}: crc mismatch (chain ${crc}, record ${rec.crc})`);
        }
        crc = rec.crc;
      } else {
        const next = crc32cChain(rec.data, crc);
        if (next !== rec.crc) {
          if (isLast && hasZeroSector(buf, start, end))
            return torn('checksum mismatch with an unwritten sector');
          throw new EtcdWalError(`${name} at offset ${off}: crc mismatch`);
        }
        crc = next;
      }
      visit(rec, `${name} at offset ${off}`);
      off = end;
    }
  }
  return { torn: undefined };
}

function crc32cChain(data: Uint8Array | undefined, prev: number): number {
  return crc32c(data ?? new Uint8Array(), prev) >>> 0;
}

/** etcd's isTornEntry: some sector-aligned piece of the record body is all zeros. */
function hasZeroSector(buf: Buffer, start: number, end: number): boolean {
  let pos = start;
  while (pos < end) {
    const stop = Math.min(end, pos + SECTOR - (pos % SECTOR));
    let zero = true;
    for (let i = pos; i < stop; i++) {
      if (buf[i] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) return true;
    pos = stop;
  }
  return false;
}

/**
 * wal.ValidSnapshotEntries: every snapshot record of the whole log whose index is at or below the
 * last hard state's commit (a snapshot newer than that may not have been persisted in full).
 */
export async function validSnapshotRecords(dir: string): Promise<EtcdWalSnapshot[]> {
  const files = await listEtcdWalFiles(dir);
  if (files.length === 0) throw new EtcdWalError(`no .wal files in ${dir}`);
  const snaps: EtcdWalSnapshot[] = [];
  let commit = 0;
  await scanRecords(dir, files, (rec, where) => {
    if (rec.type === EtcdWalType.snapshot) snaps.push(decodeAt(where, () => decodeWalSnapshot(data(rec))));
    else if (rec.type === EtcdWalType.state)
      commit = decodeAt(where, () => decodeHardState(data(rec))).commit;
  });
  return snaps.filter((s) => s.index <= commit);
}

export interface EtcdWalContents {
  /** The metadata record (etcdserverpb.Metadata{NodeID, ClusterID}). */
  metadata: Uint8Array;
  hardState: HardState;
  /** Entries after `from.index`, raft truncations applied. */
  entries: Entry[];
  /** Set when the last record was torn and left out (etcd would truncate it away). */
  torn: TornTail | undefined;
}

/** wal.Open(dir, from) + ReadAll: the log from the snapshot record `from` on. */
export async function readEtcdWal(dir: string, from: EtcdWalSnapshot): Promise<EtcdWalContents> {
  const files = await listEtcdWalFiles(dir);
  // The last segment whose first index is at or below the snapshot (etcd's searchIndex).
  let first = -1;
  for (let i = files.length - 1; i >= 0; i--) {
    if (BigInt(from.index) >= files[i]!.index) {
      first = i;
      break;
    }
  }
  if (first < 0) throw new EtcdWalError(`no segment in ${dir} covers snapshot index ${from.index}`);
  const chosen = files.slice(first);
  for (let i = 1; i < chosen.length; i++) {
    if (chosen[i]!.seq !== chosen[i - 1]!.seq + 1n) {
      throw new EtcdWalError(`segment sequence has a gap before ${chosen[i]!.name}`);
    }
  }
  let metadata: Uint8Array | undefined;
  let hardState: HardState = { term: 0, vote: 0n, commit: 0 };
  let entries: Entry[] = [];
  let matched = false;
  const { torn } = await scanRecords(dir, chosen, (rec, where) => {
    switch (rec.type) {
      case EtcdWalType.entry: {
        const e = decodeAt(where, () => decodeEntry(data(rec)));
        if (e.index > from.index) {
          const at = e.index - from.index - 1;
          if (at > entries.length) throw new EtcdWalError(`${where}: entry ${e.index} leaves a gap`);
          if (at < entries.length) entries = entries.slice(0, at);
          entries.push(e);
        }
        return;
      }
      case EtcdWalType.state:
        hardState = decodeAt(where, () => decodeHardState(data(rec)));
        return;
      case EtcdWalType.metadata: {
        const m = data(rec);
        if (metadata !== undefined && !Buffer.from(metadata).equals(m)) {
          throw new EtcdWalError(`${where}: conflicting metadata found`);
        }
        metadata = m;
        return;
      }
      case EtcdWalType.crc:
        return;
      case EtcdWalType.snapshot: {
        const s = decodeAt(where, () => decodeWalSnapshot(data(rec)));
        if (s.index === from.index) {
          if (s.term !== from.term) throw new EtcdWalError(`${where}: snapshot mismatch`);
          matched = true;
        }
        return;
      }
      default:
        throw new EtcdWalError(`${where}: unexpected block type ${rec.type}`);
    }
  });
  if (!matched)
    throw new EtcdWalError(`snapshot {index ${from.index}, term ${from.term}} not found in ${dir}`);
  if (metadata === undefined) throw new EtcdWalError(`no metadata record in ${dir}`);
  return { metadata, hardState, entries, torn };
}

function data(rec: EtcdWalRecord): Uint8Array {
  return rec.data ?? new Uint8Array();
}

function decodeAt<T>(where: string, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    throw new EtcdWalError(`${where}: ${(err as Error).message}`);
  }
}
