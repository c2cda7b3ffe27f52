// One etcd member: owns the raft loop, the applier, the request waiters and
// the read path, and offers the operations the client API needs. Everything
// here runs on Node's single thread; the ready loop is the only writer of
// raft state, so no locking is needed anywhere.
import { effectiveQuotaBackendBytes, type ServerConfig } from '../config/types.js';
import type { Logger } from '../log/types.js';
import type { DeleteRangeRequest, PutRequest, RangeRequest, TxnRequest } from '../mvcc/types.js';
import { type AlarmMember, AlarmRequest_AlarmAction, AlarmType } from '../pb/etcdserverpb/rpc.js';
import { type HardState, NONE, type SoftState, StateType } from '../raft/types.js';
import { AlarmStore, alarmText } from './alarms.js';
import { AppliedIndexWaiters } from './applied-wait.js';
import { Applier, type ApplyResult } from './applier.js';
import type { BootedStorage } from './bootstrap.js';
import { Errors, type ServerError, toServerError } from './errors.js';
import { encodeInternalRequest, type InternalOp } from './internal-request.js';
import type { Member } from './membership.js';
import { putCost, txnCost } from './quota.js';
import { NO_PEERS, RaftLoop } from './raft-loop.js';
import { ReadIndexBatcher } from './read-index.js';
import { isTxnReadOnly, readOnlyTxn } from './read-txn.js';
import { RequestIdGenerator } from './request-id.js';
import type {
  CompactOutcome,
  DeleteOutcome,
  Header,
  PutOutcome,
  RangeOutcome,
  StatusOutcome,
  TxnOutcome,
} from './results.js';
import { TooManyWaitersError, WaitRegistry } from './wait.js';

export interface CompactionRequest {
  revision: number;
  physical?: boolean;
}

export const SERVER_VERSION = '3.4.23';
export const CLUSTER_VERSION = '3.4.0';

/** etcd refuses new proposals when the applier lags the commit index this much. */
const MAX_GAP_COMMIT_APPLY = 5000;
const MAX_PENDING_REQUESTS = 100_000;
const MAX_QUEUED_READS = 100_000;
const READ_INDEX_RETRY_MS = 500;
const PUBLISH_RETRY_MS = 500;
/** Entries kept behind a snapshot for followers that are a little behind (etcd's default). */
const SNAPSHOT_CATCH_UP_ENTRIES = 5000;

export class EtcdServer {
  readonly memberId: bigint;
  readonly clusterId: bigint;
  private readonly waits = new WaitRegistry(MAX_PENDING_REQUESTS);
  private readonly appliedWaiters: AppliedIndexWaiters;
  private readonly applier: Applier;
  private readonly loop: RaftLoop;
  private readonly reads: ReadIndexBatcher;
  private readonly ids: RequestIdGenerator;
  private readonly requestTimeoutMs: number;
  private term = 0;
  private commitIndex = 0;
  private leader: bigint = NONE;
  private isLeader = false;
  private leaderWaiters: Array<() => void> = [];
  private stopped = false;
  private published = false;
  private readonly readyPromise: Promise<void>;
  private resolveReady: () => void = () => undefined;
  private fastElectionDone = false;
  private readonly alarms: AlarmStore;
  private readonly quotaBytes: number;
  private defragging: Promise<void> | undefined;
  private readonly commitAtStart: number;

  constructor(
    private readonly cfg: ServerConfig,
    private readonly log: Logger,
    private readonly boot: BootedStorage,
    private readonly onFatal: (err: Error) => void,
  ) {
    this.memberId = boot.memberId;
    this.clusterId = boot.clusterId;
    this.requestTimeoutMs = 5000 + 2 * cfg.electionTimeoutMs;
    const hs = boot.storage.initialState().hardState;
    this.term = hs.term;
    this.commitIndex = hs.commit;
    this.commitAtStart = hs.commit;
    this.ids = new RequestIdGenerator(boot.memberId, Date.now());
    this.alarms = new AlarmStore(boot.backend);
    this.quotaBytes = effectiveQuotaBackendBytes(cfg);
    // No lessor yet: every lease id is unknown, so a put naming one fails at
    // apply time with "requested lease not found", as etcd does.
    boot.backend.setLeaseChecker(() => false);
    this.appliedWaiters = new AppliedIndexWaiters(MAX_QUEUED_READS, boot.appliedIndex);
    this.applier = new Applier(
      {
        backend: boot.backend,
        membership: boot.membership,
        alarms: this.alarms,
        waits: this.waits,
        applyConfChangeToRaft: (cc) => boot.node.applyConfChange(cc),
        onApplyError: (index, err) => this.log.debug('apply failed', { index, error: err.message }),
      },
      boot.appliedIndex,
      boot.confState,
    );
    this.loop = new RaftLoop({
      node: boot.node,
      storage: boot.storage,
      wal: boot.wal,
      snapshots: boot.snapshotter,
      applier: this.applier,
      appliedWaiters: this.appliedWaiters,
      backend: boot.backend,
      membership: boot.membership,
      transport: NO_PEERS,
      log,
      tickMs: cfg.heartbeatIntervalMs,
      snapshotCount: cfg.snapshotCount,
      snapshotCatchUpEntries: SNAPSHOT_CATCH_UP_ENTRIES,
      maxSnapshots: cfg.maxSnapshots,
      snapshotIndex: boot.snapshotIndex,
      onSoftState: (s) => this.onSoftState(s),
      onHardState: (h) => this.onHardState(h),
      onFatal: (err) => this.fail(err),
    });
    this.reads = new ReadIndexBatcher(
      {
        request: (ctx) => {
          this.boot.node.readIndex(ctx);
          this.loop.wake();
        },
        retryMs: READ_INDEX_RETRY_MS,
        timeoutMs: this.requestTimeoutMs,
        maxQueued: MAX_QUEUED_READS,
        makeTimeoutError: () => Errors.timeout(),
        makeTooManyError: () => Errors.tooManyRequests(),
      },
      (boot.memberId << 16n) ^ BigInt(Date.now() & 0xffff),
    );
    this.loop.setReadBatcher(this.reads);
    this.readyPromise = new Promise((resolve) => {
      this.resolveReady = resolve;
    });
  }

  /** Starts ticking and applying; resolves once this member is published and can serve clients. */
  start(): Promise<void> {
    this.loop.start();
    this.fastElectionTimer = setInterval(
      () => this.maybeFastElect(),
      Math.min(50, this.cfg.heartbeatIntervalMs),
    );
    void this.publish();
    return this.readyPromise;
  }

  private fastElectionTimer: NodeJS.Timeout | undefined;

  /**
   * A member that is the only voter need not wait a whole election timeout:
   * once it has applied what was committed before (pending conf changes block
   * a campaign), it campaigns at once, as etcd fast-forwards its ticks.
   */
  private maybeFastElect(): void {
    if (this.fastElectionDone || this.stopped) return;
    const st = this.boot.node.status();
    // raft's commit index covers the bootstrap entries of a fresh member too.
    if (this.applier.appliedIndex < Math.max(this.commitAtStart, st.hardState.commit)) return;
    const voters = st.confState.voters;
    this.fastElectionDone = true;
    if (this.fastElectionTimer !== undefined) clearInterval(this.fastElectionTimer);
    if (voters.length === 1 && voters[0] === this.memberId && st.softState.state !== StateType.Leader) {
      this.boot.node.campaign();
      this.loop.wake();
    }
  }

  isPublished(): boolean {
    return this.published;
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  // ---- state -------------------------------------------------------------

  header(revision: number): Header {
    return { clusterId: this.clusterId, memberId: this.memberId, revision, raftTerm: this.term };
  }

  currentRevision(): number {
    return this.boot.backend.currentRevision();
  }

  members(): Member[] {
    return this.boot.membership.list();
  }

  leaderId(): bigint {
    return this.leader;
  }

  status(): StatusOutcome {
    const backend = this.boot.backend;
    const size = backend.sizeBytes();
    return {
      header: this.header(backend.currentRevision()),
      version: SERVER_VERSION,
      dbSize: size,
      leader: this.leader,
      raftIndex: this.commitIndex,
      raftTerm: this.term,
      raftAppliedIndex: this.applier.appliedIndex,
      errors: this.alarms.list().map(alarmText),
      dbSizeInUse: backend.sizeInUseBytes(),
      isLearner: false,
    };
  }

  // ---- writes ------------------------------------------------------------

  async put(req: PutRequest): Promise<PutOutcome> {
    if (this.overQuota(putCost(req))) await this.refuseOverQuota();
    const r = await this.propose({ kind: 'put', req: req as never });
    if (r.kind !== 'put') throw new Error(`put: applier answered ${r.kind}`);
    const out: PutOutcome = { header: this.header(r.result.rev) };
    if (r.result.prevKv !== undefined) out.prevKv = r.result.prevKv;
    return out;
  }

  async deleteRange(req: DeleteRangeRequest): Promise<DeleteOutcome> {
    const r = await this.propose({ kind: 'deleteRange', req: req as never });
    if (r.kind !== 'deleteRange') throw new Error(`deleteRange: applier answered ${r.kind}`);
    return { header: this.header(r.result.rev), deleted: r.result.deleted, prevKvs: r.result.prevKvs };
  }

  async txn(req: TxnRequest): Promise<TxnOutcome> {
    if (isTxnReadOnly(req)) {
      await this.linearizableBarrier();
      if (this.defragging !== undefined) await this.defragging;
      const r = readOnlyTxn(this.boot.backend, req);
      return { header: this.header(r.rev), succeeded: r.succeeded, responses: r.responses };
    }
    if (this.overQuota(txnCost(req))) await this.refuseOverQuota();
    const r = await this.propose({ kind: 'txn', req: req as never });
    if (r.kind !== 'txn') throw new Error(`txn: applier answered ${r.kind}`);
    return {
      header: this.header(r.result.rev),
      succeeded: r.result.succeeded,
      responses: r.result.responses,
    };
  }

  async compact(req: CompactionRequest): Promise<CompactOutcome> {
    const r = await this.propose({ kind: 'compaction', req: req as never });
    if (r.kind !== 'compaction') throw new Error(`compact: applier answered ${r.kind}`);
    if (req.physical) await r.done;
    return { header: this.header(r.revision) };
  }

  // ---- reads -------------------------------------------------------------

  async range(req: RangeRequest): Promise<RangeOutcome> {
    if (!req.serializable) await this.linearizableBarrier();
    if (this.defragging !== undefined) await this.defragging;
    const r = this.boot.backend.range(req);
    return { header: this.header(r.revision), kvs: r.kvs, more: r.more, count: r.count };
  }

  /** Returns once this member has applied everything committed before the call (raft ReadIndex). */
  async linearizableBarrier(): Promise<void> {
    if (this.stopped) throw Errors.stopped();
    const index = await this.reads.readIndex();
    await withTimeout(this.appliedWaiters.wait(index), this.requestTimeoutMs, Errors.timeoutWaitApplied);
  }

  // ---- quota and alarms --------------------------------------------------

  /**
   * etcd's backend quota: a write that would take the backend past the quota
   * raises the NOSPACE alarm (through raft, so every member sees it) and fails.
   * A write with no cost (a read-only txn) always passes.
   */
  private overQuota(cost: number): boolean {
    // Checked synchronously: an awaited async check costs every write a promise and a microtask turn.
    return cost !== 0 && this.boot.backend.sizeBytes() + cost >= this.quotaBytes;
  }

  /** Raises this member's NOSPACE alarm if it is not raised yet; always throws. */
  private async refuseOverQuota(): Promise<never> {
    const mine = this.alarms.list(AlarmType.NOSPACE).some((a) => a.memberID === this.memberId);
    if (!mine) {
      this.log.warn('database space exceeded; raising NOSPACE alarm', {
        'quota-size-bytes': this.quotaBytes,
        'backend-size-bytes': this.boot.backend.sizeBytes(),
      });
      await this.alarm(AlarmRequest_AlarmAction.ACTIVATE, this.memberId, AlarmType.NOSPACE);
    }
    throw Errors.noSpace();
  }

  /** GET answers from this member's applied state; ACTIVATE/DEACTIVATE go through raft. */
  async alarm(action: AlarmRequest_AlarmAction, memberID: bigint, alarm: AlarmType): Promise<AlarmMember[]> {
    if (action === AlarmRequest_AlarmAction.GET) {
      return this.alarms.list(alarm).filter((a) => memberID === 0n || a.memberID === memberID);
    }
    const r = await this.propose({ kind: 'alarm', req: { action, memberID, alarm } });
    if (r.kind !== 'alarm') throw new Error(`alarm: applier answered ${r.kind}`);
    return r.alarms;
  }

  // ---- maintenance -------------------------------------------------------

  /** Shrinks the backend; applies and reads wait meanwhile. Concurrent calls share one run. */
  defragment(): Promise<void> {
    if (this.defragging === undefined) {
      this.log.info('starting defragment');
      this.defragging = this.loop
        .exclusive(() => this.boot.backend.defragment())
        .then(() => this.log.info('finished defragment'))
        .finally(() => {
          this.defragging = undefined;
        });
    }
    return this.defragging;
  }

  async hashKV(revision: number): Promise<{ header: Header; hash: number; compactRevision: number }> {
    if (this.defragging !== undefined) await this.defragging;
    const r = this.boot.backend.hashKV(revision);
    return { header: this.header(r.revision), hash: r.hash, compactRevision: r.compactRevision };
  }

  /** Writes a consistent copy of the backend to `path` (for Maintenance.Snapshot). */
  async backendSnapshotTo(path: string): Promise<void> {
    if (this.defragging !== undefined) await this.defragging;
    await this.boot.backend.snapshotTo(path);
  }

  // ---- proposals ---------------------------------------------------------

  private async propose(op: InternalOp): Promise<ApplyResult> {
    if (this.stopped) throw Errors.stopped();
    const id = this.ids.next();
    const data = encodeInternalRequest({ id, op });
    if (data.length > this.cfg.maxRequestBytes) throw Errors.requestTooLarge();
    if (this.commitIndex - this.applier.appliedIndex > MAX_GAP_COMMIT_APPLY) throw Errors.tooManyRequests();
    const deadline = Date.now() + this.requestTimeoutMs;
    if (this.leader === NONE) await this.waitForLeader(deadline);
    let pending: Promise<unknown>;
    try {
      pending = this.waits.register(id);
    } catch (err) {
      if (err instanceof TooManyWaitersError) throw Errors.tooManyRequests();
      throw err;
    }
    try {
      this.boot.node.propose(data);
    } catch (err) {
      this.waits.fail(id, Errors.timeout());
      pending.catch(() => undefined);
      this.log.debug('proposal dropped', { error: (err as Error).message });
      throw Errors.timeout();
    }
    this.loop.wake();
    const timer = setTimeout(() => this.waits.fail(id, Errors.timeout()), Math.max(0, deadline - Date.now()));
    try {
      return (await pending) as ApplyResult;
    } catch (err) {
      throw toServerError(err);
    } finally {
      clearTimeout(timer);
    }
  }

  private waitForLeader(deadline: number): Promise<void> {
    if (this.leader !== NONE) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.leaderWaiters = this.leaderWaiters.filter((w) => w !== onLeader);
          reject(Errors.timeout());
        },
        Math.max(0, deadline - Date.now()),
      );
      const onLeader = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.leaderWaiters.push(onLeader);
    });
  }

  /** Proposes this member's name and client URLs until it is applied (etcd's publish). */
  private async publish(): Promise<void> {
    const op: InternalOp = {
      kind: 'memberAttrSet',
      req: { memberId: this.memberId, name: this.cfg.name, clientUrls: [...this.cfg.advertiseClientUrls] },
    };
    while (!this.stopped && !this.published) {
      try {
        await this.propose(op);
        this.published = true;
        this.log.info('published local member to cluster through raft', {
          'local-member-id': this.memberId.toString(16),
          'local-member-attributes': `{Name:${this.cfg.name} ClientURLs:[${op.req.clientUrls.join(' ')}]}`,
          'cluster-id': this.clusterId.toString(16),
        });
        this.resolveReady();
      } catch (err) {
        if (this.stopped) return;
        this.log.warn('failed to publish local member to cluster through raft', {
          error: (err as Error).message,
        });
        // Failures that come back at once (a dropped proposal) must not spin.
        await new Promise((resolve) => setTimeout(resolve, PUBLISH_RETRY_MS));
      }
    }
  }

  // ---- raft state notifications -----------------------------------------

  private onSoftState(s: SoftState): void {
    if (s.leader !== this.leader) {
      const from = this.leader;
      this.leader = s.leader;
      if (s.leader === NONE) {
        const me = this.memberId.toString(16);
        this.log.info(`raft.node: ${me} lost leader ${from.toString(16)} at term ${this.term}`);
      } else {
        const me = this.memberId.toString(16);
        this.log.info(`raft.node: ${me} elected leader ${s.leader.toString(16)} at term ${this.term}`);
        for (const w of this.leaderWaiters.splice(0)) w();
      }
    }
    this.isLeader = s.state === StateType.Leader;
  }

  private onHardState(hs: HardState): void {
    if (hs.term < this.term) throw new Error(`raft term went back: ${hs.term} < ${this.term}`);
    this.term = hs.term;
    this.commitIndex = hs.commit;
  }

  isLeaderNow(): boolean {
    return this.isLeader;
  }

  // ---- shutdown ----------------------------------------------------------

  private fail(err: Error): void {
    this.log.fatal('member cannot continue', { error: err.message });
    this.onFatal(err);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.fastElectionTimer !== undefined) clearInterval(this.fastElectionTimer);
    this.reads.stop(Errors.stopped());
    await this.loop.stop();
    this.waits.failAll(Errors.stopped());
    this.appliedWaiters.failAll(Errors.stopped());
    await this.boot.backend.flush();
    await this.boot.backend.close();
    await this.boot.wal.close();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, makeErr: () => ServerError): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(makeErr()), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
