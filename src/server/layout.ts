// Where a member keeps its files, as etcd lays them out:
//   <data-dir>/member/wal      WAL segments (or --wal-dir)
//   <data-dir>/member/snap     raft snapshot files (<term>-<index>.snap)
//   <data-dir>/member/snap/db  the key-value backend
import { join } from 'node:path';

export interface DataLayout {
  memberDir: string;
  walDir: string;
  snapDir: string;
  dbPath: string;
}

export function dataLayout(dataDir: string, walDir: string): DataLayout {
  const memberDir = join(dataDir, 'member');
  const snapDir = join(memberDir, 'snap');
  return {
    memberDir,
    walDir: walDir !== '' ? walDir : join(memberDir, 'wal'),
    snapDir,
    dbPath: join(snapDir, 'db'),
  };
}
