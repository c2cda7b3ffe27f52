// Raft snapshots between members, in etcd 3.4's form. Sending: the raft
// message is re-based on a "merged" snapshot taken at the applied index
// (membership as etcd's v2-store JSON in Snapshot.Data, the backend as an
// etcd 3.4 bbolt database whose consistent_index equals the snapshot index),
// and the database is streamed behind it, never held whole in memory.
// Receiving: the database lands in <snap-dir>/<index>.snap.db (fsynced)
// before raft sees the message; once raft hands the snapshot out and it is
// persisted, it is installed: the backend is replaced by the imported
// database, membership, peers, leases, alarms and watchers follow.
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { exportEtcdDb, importEtcdDb } from '../etcd-db/index.js';
import type { Logger } from '../log/types.js';
import type { MvccStore } from '../mvcc/index.js';
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
}

/** etcd's name for a received database: the snapshot index, 16 hex digits. */
export function snapshotDbName(index: number): string {
  return `${index.toString(16).padStart(16, '0')}.snap.db`;
}

export class MemberSnapshots implements SnapshotSource, SnapshotReceiver {
  private tmpSeq = 0;

  constructor(private readonly d: MemberSnapshotsDeps) {}

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
    try {
      await pipeline(body, createWriteStream(tmp, { mode: 0o600 }));
      const fh = await open(tmp, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, final);
    } catch (err) {
      await rm(tmp, { force: true });
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
    const work = await mkdtemp(join(d.snapDir, 'install-'));
    const previousMembers = d.membership.list().map((m) => m.id);
    try {
      const storePath = join(work, 'db');
      const imported = await importEtcdDb(dbFile, storePath);
      if (imported.consistentIndex !== index) {
        throw new Error(
          `snapshot database has consistent index ${imported.consistentIndex}, the snapshot is at ${index}`,
        );
      }
      await d.backend.replaceFrom(storePath);
      d.membership.replaceWith(Membership.decode(snap.data));
      d.log.info('restored snapshot', {
        'snapshot-index': index,
        'snapshot-term': snap.metadata.term,
        revision: d.backend.currentRevision(),
      });
      d.onInstalled(snap, previousMembers);
    } finally {
      await rm(work, { recursive: true, force: true });
      await rm(dbFile, { force: true });
    }
  }
}
