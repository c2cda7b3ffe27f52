// The Maintenance service's view of a member: status, alarms, defragment,
// hash and backend snapshots.

import type { Writable } from 'node:stream';
import { exportEtcdDb, hashEtcdDb } from '../etcd-db/index.js';
import type { Logger } from '../log/types.js';
import type { MvccStore } from '../mvcc/index.js';
import {
  type AlarmRequest,
  AlarmRequest_AlarmAction,
  type AlarmResponse,
  type DefragmentResponse,
  type HashKVResponse,
  type HashResponse,
  type ResponseHeader,
  type StatusResponse,
} from '../pb/etcdserverpb/rpc.js';
import { type Clock, sleep } from '../runtime/clock.js';
import { type AlarmStore, alarmText } from './alarms.js';
import type { DefragGate } from './defrag-gate.js';
import { Errors } from './errors.js';
import type { MemberState } from './member-state.js';
import type { Membership } from './membership.js';
import type { MaintenancePort } from './ports.js';
import type { Proposer } from './proposer.js';

export const SERVER_VERSION = '3.4.23';

export interface MemberMaintenanceDeps {
  state: MemberState;
  proposer: Proposer;
  backend: MvccStore;
  /** What a snapshot's members and cluster buckets are written from. */
  membership: Membership;
  alarms: AlarmStore;
  defrag: DefragGate;
  log: Logger;
  appliedIndex(): number;
  isLearner(): boolean;
  /** Asks raft to hand leadership to `target` (RawNode.transferLeader). */
  transferLeader(target: bigint): void;
  /** Whether `target` is a voting member. */
  isVoter(target: bigint): boolean;
  requestTimeoutMs: number;
  tickMs: number;
  clock: Clock;
  /** Runs `fn` while the ready loop applies nothing. */
  exclusive(fn: () => Promise<void>): Promise<void>;
}

export class MemberMaintenance implements MaintenancePort {
  /** Running snapshot exports: each holds an LMDB read view, so no defragment may swap the file. */
  private readonly exports = new Set<Promise<unknown>>();

  constructor(private readonly d: MemberMaintenanceDeps) {}

  header(): ResponseHeader {
    return this.d.state.header(this.d.backend.currentRevision());
  }

  status(): StatusResponse {
    const { state, backend } = this.d;
    return {
      header: this.header(),
      version: SERVER_VERSION,
      dbSize: backend.sizeBytes(),
      leader: state.leader,
      raftIndex: state.commitIndex,
      raftTerm: state.term,
      raftAppliedIndex: this.d.appliedIndex(),
      errors: this.d.alarms.list().map(alarmText),
      dbSizeInUse: backend.sizeInUseBytes(),
      isLearner: this.d.isLearner(),
    };
  }

  /** etcd's MoveLeader: only the leader may, only to a voter, within the request timeout. */
  async moveLeader(target: bigint): Promise<void> {
    const { state } = this.d;
    if (!state.isLeader) throw Errors.notLeader();
    if (!this.d.isVoter(target)) throw Errors.badLeaderTransferee();
    const from = state.leader;
    const clock = this.d.clock;
    const started = clock.now();
    this.d.log.info('leadership transfer starting', {
      'local-member-id': state.memberId.toString(16),
      'current-leader-member-id': from.toString(16),
      'transferee-member-id': target.toString(16),
    });
    this.d.transferLeader(target);
    while (state.leader !== target) {
      if (clock.now() - started > this.d.requestTimeoutMs) throw Errors.timeoutLeaderTransfer();
      await sleep(clock, this.d.tickMs);
    }
    this.d.log.info('leadership transfer finished', {
      'local-member-id': state.memberId.toString(16),
      'old-leader-member-id': from.toString(16),
      'new-leader-member-id': target.toString(16),
      took: `${clock.now() - started}ms`,
    });
  }

  /**
   * Shrinks the backend. The copy is made while reads and writes go on; only the swap of the
   * files pauses applying and holds reads back. Concurrent calls share one run.
   */
  async defragment(): Promise<DefragmentResponse> {
    await this.d.defrag.run(async () => {
      const { backend, clock, log } = this.d;
      const started = clock.now();
      const before = backend.sizeBytes();
      log.info('starting defragment');
      await backend.prepareDefragment();
      const swapStarted = clock.now();
      await this.d.defrag.swap(async () => {
        // Snapshots in progress read the old file; new ones wait for the swap (gate.current()).
        await this.exportsDone();
        await this.d.exclusive(() => backend.defragment());
      });
      log.info('finished defragment', {
        'size-before': before,
        'size-after': backend.sizeBytes(),
        took: `${clock.now() - started}ms`,
        'swap-took': `${clock.now() - swapStarted}ms`,
      });
    });
    // etcd 3.4 answers Defragment with no header.
    return { header: undefined };
  }

  /**
   * etcd's Hash over the etcd-format view of the backend (what a snapshot would hold), so it
   * matches a real etcd 3.4 holding the same buckets. The header's revision is the store's at the
   * moment the view is opened. Like a snapshot, it holds a read view: a defragment waits for it.
   */
  async hash(): Promise<HashResponse> {
    const defragging = this.d.defrag.current();
    if (defragging !== undefined) await defragging;
    const { backend, membership } = this.d;
    const revision = backend.currentRevision();
    const hashing = hashEtcdDb(backend, {
      consistentIndex: backend.consistentIndex(),
      members: membership.list(),
      removed: membership.removedIds(),
      clusterVersion: membership.clusterVersion() ?? '',
    });
    this.exports.add(hashing);
    try {
      return { header: this.d.state.header(revision), hash: await hashing };
    } finally {
      this.exports.delete(hashing);
    }
  }

  async hashKV(revision: number): Promise<HashKVResponse> {
    const defragging = this.d.defrag.current();
    if (defragging !== undefined) await defragging;
    const r = this.d.backend.hashKV(revision);
    return { header: this.d.state.header(r.revision), hash: r.hash, compactRevision: r.compactRevision };
  }

  /** GET answers from this member's applied state; ACTIVATE/DEACTIVATE go through raft. */
  async alarm(req: AlarmRequest): Promise<AlarmResponse> {
    if (req.action === AlarmRequest_AlarmAction.GET) {
      const alarms = this.d.alarms
        .list(req.alarm)
        .filter((a) => req.memberID === 0n || a.memberID === req.memberID);
      return { header: undefined, alarms };
    }
    // etcd 3.4's applier answers Alarm without a header (`etcdctl -w json alarm list` prints {}).
    const alarms = await this.d.proposer.propose({ kind: 'alarm', req });
    return { header: undefined, alarms };
  }

  /** etcd 3.4's Maintenance.Snapshot body: the backend as an etcd db file, read from one view. */
  async snapshot(
    out: Writable,
    onSize: (bytes: number) => void,
  ): Promise<{ size: number; sha256: Uint8Array }> {
    const defragging = this.d.defrag.current();
    if (defragging !== undefined) await defragging;
    const { backend, membership, log } = this.d;
    // exportEtcdDb opens its read view before its first await, so the consistent index and the
    // membership read here describe the very state the file holds.
    const exporting = exportEtcdDb(
      backend,
      {
        consistentIndex: backend.consistentIndex(),
        members: membership.list(),
        removed: membership.removedIds(),
        clusterVersion: membership.clusterVersion() ?? '',
      },
      out,
      {
        onLayout: (layout) => {
          log.info('sending database snapshot to client', { 'total-bytes': layout.size });
          onSize(layout.size);
        },
      },
    );
    this.exports.add(exporting);
    try {
      const written = await exporting;
      log.info('sending database sha256 checksum to client', {
        'total-bytes': written.size,
        'checksum-size': written.sha256.length,
      });
      return { size: written.size, sha256: written.sha256 };
    } finally {
      this.exports.delete(exporting);
    }
  }

  private async exportsDone(): Promise<void> {
    await Promise.allSettled([...this.exports]);
  }
}
