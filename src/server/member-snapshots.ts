// Raft snapshots between members, in etcd 3.4's form. Sending: the raft
// message is re-based on a "merged" snapshot taken at the applied index
// (membership as etcd's v2-store JSON in Snapshot.Data, the backend as an
// etcd 3.4 bbolt database whose consistent_index equals the snapshot index),
// and the database is streamed behind it, never held whole in memory.
// Receiving: the database lands in <snap-dir>/<index>.snap.db (fsynced, and
// its directory entry too) before raft sees the message; once raft hands the
// snapshot out and it is persisted, it is installed: the backend is replaced
// by the imported database, membership, peers, leases, alarms and watchers
// follow. Files go through the member's FileSystem (the simulator's SimFs
// under simulation); the import through a SnapshotDbImporter (an LMDB file
// for a real member, the simulator's MemoryBackend under simulation).
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { exportEtcdDb, importEtcdDb } from '../etcd-db/index.js';
import type { FileSystem } from '../fs/file-system.js';
import { realFs } from '../fs/real-fs.js';
import type { Logger } from '../log/types.js';
import type { MvccStore } from '../mvcc/index.js';
import type { StoreBackend } from '../mvcc/store-backend.js';
import type { SnapshotReceiver } from '../peer/raft-handler.js';
import type { OutgoingSnapshot } from '../peer/snapshot-sender.js';
import type { SnapshotSource } from '../peer/transport.js';
import type { ConfState, Message, Snapshot } from '../raft/types.js';
import { Membership } from './membership.js';

export interface MemberSnapshotsDeps {
  snapDir: string;
  backend: MvccStore;
  membership: Membership;
  log: Logger;
  appliedIndex(): number;
  termOf(index: number): number;
  confState(): ConfState;
  /** After the backend and membership are replaced: everything derived from them is rebuilt. */
  onInstalled(snap: Snapshot, previousMembers: bigint[]): void;
  /** The disk (default node's). */
  fs?: FileSystem;
  /** Turns a received database into the backend that replaces ours (default importIntoLmdb). */
  importDb?: SnapshotDbImporter;
}

/** A received snapshot database (etcd's bbolt file at `dbFile`) → the store content to switch to. */
export type SnapshotDbImporter = (
  dbFile: string,
  workDir: string,
  fs: FileSystem,
) => Promise<{ consistentIndex: number; source: string | StoreBackend }>;

/** A real member's: a new LMDB file under `workDir`, read from the bbolt file page by page. */
export const importIntoLmdb: SnapshotDbImporter = async (dbFile, workDir) => {
  const storePath = join(workDir, 'db');
  const imported = await importEtcdDb(dbFile, storePath);
  return { consistentIndex: imported.consistentIndex, source: storePath };
};

/** etcd's name for a received database: the snapshot index, 16 hex digits. */
export function snapshotDbName(index: number): string {
  return `${index.toString(16).padStart(16, '0')}.snap.db`;
}

/**
 * etcd's recoverSnapshotBackend: a crash after raft persisted a received snapshot but before its
 * database replaced the backend leaves the backend older than the snapshot, and the log below
 * the snapshot may be gone; the received `<index>.snap.db` is still there, so install it now.
 * Returns whether it did.
 */
export async function recoverSnapshotBackend(
  backend: MvccStore,
  snapDir: string,
  snapIndex: number,
  fs: FileSystem,
  importDb: SnapshotDbImporter = importIntoLmdb,
): Promise<boolean> {
  if (backend.consistentIndex() >= snapIndex) return false;
  const dbFile = join(snapDir, snapshotDbName(snapIndex));
  if (!(await fs.exists(dbFile))) return false;
  const work = join(snapDir, `install-${snapIndex.toString(16).padStart(16, '0')}`);
  await fs.rm(work, { recursive: true, force: true });
  await fs.mkdir(work, { recursive: true });
  try {
    const imported = await importDb(dbFile, work, fs);
    if (imported.consistentIndex !== snapIndex) {
      throw new Error(
        `${dbFile} has consistent index ${imported.consistentIndex}, the raft snapshot is at ${snapIndex}`,
      );
    }
    await backend.replaceFrom(imported.source);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  await fs.rm(dbFile, { force: true });
  return true;
}

export class MemberSnapshots implements SnapshotSource, SnapshotReceiver {
  private tmpSeq = 0;
  private readonly fs: FileSystem;

  constructor(private readonly d: MemberSnapshotsDeps) {
    this.fs = d.fs ?? realFs;
  }

  /** The merged snapshot for a MsgSnap raft produced: taken now, at the applied index. */
  async prepare(m: Message): Promise<OutgoingSnapshot> {
    const d = this.d;
    const index = d.appliedIndex();
    const snapshot: Snapshot = {
      data: d.membership.encode(),
      metadata: { index, term: d.termOf(index), confState: d.confState() },
    };
    const db = new PassThrough({ highWaterMark: 1024 * 1024 });
    // exportEtcdDb takes its read view synchronously, before its first await: the
    // database is exactly the state at `index`.
    const exported = exportEtcdDb(
      d.backend,
      {
        consistentIndex: index,
        members: d.membership.list(),
        removed: d.membership.removedIds(),
        clusterVersion: d.membership.clusterVersion() ?? '',
      },
      db,
    );
    exported.then(
      () => db.end(),
      (err: Error) => db.destroy(err),
    );
    d.log.info('prepared snapshot for a peer', {
      'snapshot-index': index,
      'remote-peer-id': m.to.toString(16),
    });
    return { message: { ...m, snapshot }, db };
  }

  /** Saves the database of an incoming snapshot durably, under the name raft's install looks for. */
  async saveDatabase(m: Message, body: Readable): Promise<void> {
    const index = m.snapshot?.metadata.index ?? 0;
    const final = join(this.d.snapDir, snapshotDbName(index));
    const tmp = `${final}.tmp-${process.pid}-${this.tmpSeq++}`;
    const fs = this.fs;
    try {
      const fh = await fs.open(tmp, 'w');
      try {
        for await (const chunk of body) await fh.append(chunk as Buffer);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.rename(tmp, final);
      // Raft persists the snapshot next and may then drop log entries: the file must survive a crash.
      await fs.fsyncDir(this.d.snapDir);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
  }

  /**
   * Installs a snapshot raft handed out (already persisted): its database
   * replaces the backend and its data the membership.
   */
  async install(snap: Snapshot): Promise<void> {
    const d = this.d;
    const index = snap.metadata.index;
    const dbFile = join(d.snapDir, snapshotDbName(index));
    const fs = this.fs;
    // One work dir per index: a leftover from a crash mid-install is cleared first.
    const work = join(d.snapDir, `install-${index.toString(16).padStart(16, '0')}`);
    await fs.rm(work, { recursive: true, force: true });
    await fs.mkdir(work, { recursive: true });
    const previousMembers = d.membership.list().map((m) => m.id);
    try {
      const imported = await (d.importDb ?? importIntoLmdb)(dbFile, work, fs);
      if (imported.consistentIndex !== index) {
        throw new Error(
          `snapshot database has consistent index ${imported.consistentIndex}, the snapshot is at ${index}`,
        );
      }
      await d.backend.replaceFrom(imported.source);
      d.membership.replaceWith(Membership.decode(snap.data));
      d.log.info('restored snapshot', {
        'snapshot-index': index,
        'snapshot-term': snap.metadata.term,
        revision: d.backend.currentRevision(),
      });
      d.onInstalled(snap, previousMembers);
    } finally {
      await fs.rm(work, { recursive: true, force: true });
      await fs.rm(dbFile, { force: true });
    }
  }
}
