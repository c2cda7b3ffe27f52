// Writing a member's raft state in etcd-ts's own formats (src/wal, src/snap): the part of a data
// dir that `snapshot restore` and the etcd 3.4 conversion both produce. The backend (LMDB) is
// the caller's: it comes from importing an etcd db.
import type { Entry, HardState, Snapshot } from '../raft/types.js';
import { Snapshotter } from '../snap/index.js';
import { Wal } from '../wal/index.js';

export interface NativeRaftState {
  /** The WAL metadata record: etcdserverpb.Metadata{NodeID, ClusterID}, as etcd writes it. */
  metadata: Uint8Array;
  /** The raft snapshot the member starts from, if any (its data is etcd's v2-store JSON). */
  snapshot: Snapshot | undefined;
  hardState: HardState;
  /** Log entries after the snapshot, contiguous. */
  entries: Entry[];
}

/** Entries per WAL save: keeps each write (one buffer) small whatever the log length. */
const ENTRIES_PER_SAVE = 1000;

/**
 * Creates `walDir` (must not exist) and, if there is a snapshot, its file in `snapDir`, durably:
 * the WAL is created atomically and every save of the last batch is fsynced.
 */
export async function writeNativeRaftState(
  walDir: string,
  snapDir: string,
  s: NativeRaftState,
): Promise<void> {
  if (s.snapshot !== undefined) await new Snapshotter(snapDir).save(s.snapshot);
  // Not preallocated here: the member fills the tail segment with zeros when it opens the WAL,
  // so a restore does not write (and a conversion does not wait for) 64 MiB it does not need.
  const wal = await Wal.create(walDir, s.metadata, undefined, { preallocate: false });
  try {
    const { snapshot } = s;
    if (snapshot !== undefined) {
      const { index, term, confState } = snapshot.metadata;
      await wal.saveSnapshot({ index, term, confState });
    }
    const hasState = s.hardState.term !== 0 || s.hardState.commit !== 0 || s.hardState.vote !== 0n;
    for (let at = 0; at < s.entries.length; at += ENTRIES_PER_SAVE) {
      const batch = s.entries.slice(at, at + ENTRIES_PER_SAVE);
      const last = at + ENTRIES_PER_SAVE >= s.entries.length;
      await wal.save(last && hasState ? s.hardState : undefined, batch, last);
    }
    if (s.entries.length === 0 && hasState) await wal.save(s.hardState, [], true);
  } finally {
    await wal.close();
  }
}
