// Creating an etcd 3.4 WAL the way wal.Create + Save + SaveSnapshot do (what `snapshot restore`
// leaves): one segment 0000000000000000-0000000000000000.wal holding crc(0), metadata,
// snapshot{0,0}, the entries, the hard state and the snapshot record, zero-filled to etcd's
// segment size. Built in "<dir>.tmp" and renamed into place, as etcd does, so a WAL is whole or
// absent.
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { encodeEntry, encodeHardState } from '../peer/wire/raftpb.js';
import type { Entry, HardState } from '../raft/types.js';
import { EtcdWalEncoder, type EtcdWalSnapshot, EtcdWalType, encodeWalSnapshot } from './etcd-wal-codec.js';
import { etcdWalName } from './etcd-wal-reader.js';

/** etcd's SegmentSizeBytes (64 * 1000 * 1000): the first segment is preallocated to it. */
export const ETCD_SEGMENT_BYTES = 64 * 1000 * 1000;

export interface EtcdWalContentsToWrite {
  metadata: Uint8Array;
  entries: Entry[];
  hardState: HardState;
  snapshot: EtcdWalSnapshot;
}

export async function createEtcdWal(dir: string, c: EtcdWalContentsToWrite): Promise<void> {
  const enc = new EtcdWalEncoder();
  const records = [
    enc.frame(EtcdWalType.crc),
    enc.frame(EtcdWalType.metadata, c.metadata),
    enc.frame(EtcdWalType.snapshot, encodeWalSnapshot({ index: 0, term: 0 })),
    ...c.entries.map((e) => enc.frame(EtcdWalType.entry, encodeEntry(e))),
    enc.frame(EtcdWalType.state, encodeHardState(c.hardState)),
    enc.frame(EtcdWalType.snapshot, encodeWalSnapshot(c.snapshot)),
  ];
  const tmp = `${dir.replace(/\/+$/, '')}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  const fh = await open(join(tmp, etcdWalName(0n, 0n)), 'wx', 0o600);
  try {
    await fh.writeFile(Buffer.concat(records));
    // The rest reads as zeros, which etcd's decoder takes as the end of the log.
    await fh.truncate(ETCD_SEGMENT_BYTES);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsyncDir(tmp);
  await rename(tmp, dir);
  await fsyncDir(dirname(dir));
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
