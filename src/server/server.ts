// One etcd member: wires the raft loop, the applier and its stages, the
// proposer and the read path together, runs the member's lifecycle (start,
// fast election of a lone voter, publishing itself, stop), and offers one
// object per client API port (kv, cluster, maintenance, health). Everything
// runs on Node's single thread; the ready loop is the only writer of raft
// state, so no locking is needed anywhere.
import { effectiveQuotaBackendBytes, type ServerConfig } from '../config/types.js';
import { ETCD_SERVER_VERSION } from '../config/version.js';
import type { FileSystem } from '../fs/file-system.js';
import { decodeLeaseRecord, LEASE_BUCKET, Lessor, minLeaseTtlSec } from '../lease/index.js';
import type { Logger } from '../log/types.js';
import { AlarmRequest_AlarmAction, AlarmType } from '../pb/etcdserverpb/rpc.js';
import { getVersion } from '../peer/cluster-info.js';
import type { PeerDialTls } from '../peer/context.js';
import { HashKvHttpHandler } from '../peer/hashkv-handler.js';
import { LeaseForwarder } from '../peer/lease-forwarder.js';
import type { PeerRoute } from '../peer/listener.js';
import { MemberHttpHandler } from '../peer/member-handler.js';
import { RaftHttpHandler } from '../peer/raft-handler.js';
import { PeerTransport } from '../peer/transport.js';
import { type ConfChange, ConfChangeType, NONE, type Snapshot, StateType } from '../raft/types.js';
import { type Clock, realClock, sleep, type Timer, withTimeout } from '../runtime/clock.js';
import { AlarmStore } from './alarms.js';
import { AppliedEvents } from './applied-events.js';
import { AppliedIndexWaiters } from './applied-wait.js';
import { Applier } from './applier.js';
import { QuotaStage, StoreStage } from './apply-stages.js';
import { type BootedStorage, initialMembers } from './bootstrap.js';
import type { CoordinationKv } from './coordination/types.js';
import { CorruptChecker, CorruptStage, fetchPeerHashKV } from './corrupt-check.js';
import { DefragGate } from './defrag-gate.js';
import { Errors } from './errors.js';
import { LeaseStage } from './lease-stage.js';
import { MemberAuth } from './member-auth.js';
import { MemberCluster } from './member-cluster.js';
import { MemberKv } from './member-kv.js';
import { MemberLease } from './member-lease.js';
import { MemberMaintenance } from './member-maintenance.js';
import type { MemberTransport, NetworkFactory } from './member-network.js';
import { HeartbeatDelays, type MemberObserver, observeSlowReads } from './member-observer.js';
import type { LeaderLeaseApi } from './member-peers.js';
import { MemberPeers } from './member-peers.js';
import { MemberSnapshots, type SnapshotDbImporter } from './member-snapshots.js';
import { MemberState } from './member-state.js';
import { MemberV2 } from './member-v2.js';
import { MemberWatch } from './member-watch.js';
import { NoSpaceAutoDisarm } from './nospace-auto-disarm.js';
import type { OpHandlers } from './ops.js';
import type {
  AuthPort,
  ClusterPort,
  HealthPort,
  KvPort,
  LeasePort,
  MaintenancePort,
  WatchPort,
} from './ports.js';
import { Proposer } from './proposer.js';
import { BackendQuota } from './quota.js';
import { RaftLoop } from './raft-loop.js';
import { ReadIndexBatcher } from './read-index.js';
import { RequestIdGenerator } from './request-id.js';
import type { V2Port } from './v2/port.js';
import { WaitRegistry } from './wait.js';

export { SERVER_VERSION } from './member-maintenance.js';
export const CLUSTER_VERSION = '3.4.0';

const MAX_PENDING_REQUESTS = 100_000;
/** etcd accepts gRPC messages this much larger than --max-request-bytes (envelope overhead). */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;
const MAX_QUEUED_READS = 100_000;
const READ_INDEX_RETRY_MS = 500;
const PUBLISH_RETRY_MS = 500;

export class EtcdServer {
  readonly memberId: bigint;
  readonly clusterId: bigint;
  readonly state: MemberState;
  /** What the store applied, once per revision: watchers and lease attachments listen. */
  readonly appliedEvents = new AppliedEvents();
  readonly kv: KvPort;
  readonly cluster: ClusterPort;
  readonly maintenance: MaintenancePort;
  readonly health: HealthPort;
  readonly lease: LeasePort;
  readonly watch: WatchPort;
  readonly auth: AuthPort;
  private readonly memberAuth: MemberAuth;
  /** The member's KV, watches and leases as the in-member lock and election recipes use them. */
  readonly coordination: CoordinationKv;
  private readonly memberWatch: MemberWatch;
  private readonly lessor: Lessor;
  private readonly memberLease: MemberLease;
  private readonly waits = new WaitRegistry(MAX_PENDING_REQUESTS);
  private readonly appliedWaiters: AppliedIndexWaiters;
  private readonly applier: Applier;
  private readonly loop: RaftLoop;
  private readonly reads: ReadIndexBatcher;
  private readonly proposer: Proposer;
  private readonly requestTimeoutMs: number;
  private readonly alarms: AlarmStore;
  private corrupt: CorruptChecker | undefined;
  private autoDisarm: NoSpaceAutoDisarm | undefined;
  private readonly peerTls: PeerDialTls | undefined;
  private readonly observer: MemberObserver;
  private readonly commitAtStart: number;
  private stopped = false;
  private published = false;
  private readonly readyPromise: Promise<void>;
  private resolveReady: () => void = () => undefined;
  private fastElectionTimer: Timer | undefined;
  /** Time as this member sees it (virtual under the simulator). */
  readonly clock: Clock;
  /** Member-to-member messages (etcd's rafthttp wire, or the simulator's network). */
  readonly transport: MemberTransport;
  private readonly peers: MemberPeers;
  private readonly snapshots: MemberSnapshots;
  private readonly memberCluster: MemberCluster;
  /** The v2 API's view of the member (keys, members, stats) and the leader's TTL sweep. */
  readonly v2: V2Port;
  private readonly memberV2: MemberV2;

  constructor(
    private readonly cfg: ServerConfig,
    private readonly log: Logger,
    private readonly boot: BootedStorage,
    private readonly onFatal: (err: Error) => void,
    options: {
      peerTls?: PeerDialTls;
      clock?: Clock;
      network?: NetworkFactory;
      /** The disk raft snapshots from peers are received on and imported from (default node's, LMDB). */
      snapshotDisk?: { fs: FileSystem; importDb: SnapshotDbImporter };
      /** Told what the member does, where etcd moves its metrics (member-observer.ts). */
      observer?: MemberObserver;
    } = {},
  ) {
    this.clock = options.clock ?? realClock;
    this.peerTls = options.peerTls;
    this.observer = options.observer ?? {};
    this.memberId = boot.memberId;
    this.clusterId = boot.clusterId;
    const hs = boot.storage.initialState().hardState;
    this.state = new MemberState(boot.memberId, boot.clusterId, hs);
    this.commitAtStart = hs.commit;
    this.requestTimeoutMs = 5000 + 2 * cfg.electionTimeoutMs;
    this.alarms = new AlarmStore(boot.backend);
    this.lessor = this.restoreLessor();
    // A put naming an unknown lease fails at apply time with "requested lease not found", as etcd's.
    boot.backend.setLeaseChecker((id) => this.lessor.has(id));
    this.appliedWaiters = new AppliedIndexWaiters(MAX_QUEUED_READS, boot.appliedIndex);
    this.memberAuth = this.buildAuth();
    this.auth = this.memberAuth;
    this.peers = new MemberPeers({
      memberId: boot.memberId,
      node: boot.node,
      state: this.state,
      membership: boot.membership,
      proposeClusterVersion: (version) =>
        this.proposer.propose({ kind: 'clusterVersionSet', req: { version } }),
      log,
      wake: () => this.loop.wake(),
      onRemoved: (reason) => this.removed(reason),
      requestTimeoutMs: this.requestTimeoutMs,
      clock: this.clock,
      versionJson: () =>
        JSON.stringify({
          etcdserver: ETCD_SERVER_VERSION,
          etcdcluster: boot.membership.clusterVersion() ?? 'not_decided',
        }),
      clusterId: () => boot.clusterId,
    });
    this.snapshots = new MemberSnapshots({
      snapDir: boot.snapshotter.dir,
      backend: boot.backend,
      membership: boot.membership,
      log,
      appliedIndex: () => this.applier.appliedIndex,
      termOf: (index) => boot.storage.term(index),
      confState: () => this.applier.confState,
      onInstalled: (snap) => this.onSnapshotInstalled(snap),
      ...(options.snapshotDisk === undefined
        ? {}
        : { fs: options.snapshotDisk.fs, importDb: options.snapshotDisk.importDb }),
    });
    const network = (options.network ?? this.peerNetwork(options.peerTls))(this.peers, this.snapshots);
    this.transport = network.transport;
    this.peers.attachNetwork(network.forwarder, network.queries);
    this.applier = new Applier(
      {
        backend: boot.backend,
        membership: boot.membership,
        stages: this.buildStages(),
        waits: this.waits,
        applyConfChangeToRaft: (cc) => boot.node.applyConfChange(cc),
        onApplyError: (index, err) => this.log.debug('apply failed', { index, error: err.message }),
        now: () => this.clock.now(),
        monotonic: () => this.clock.monotonic(),
        onEmptyEntry: (term) => {
          if (this.state.isLeader && term === this.state.term) {
            this.memberLease.promote();
            void this.peers.monitorVersion();
          }
        },
        onConfChange: (cc) => this.onConfChangeApplied(cc),
        beforeApply: (req) => this.memberAuth.beforeApply(req),
        slowApplyMs: cfg.experimentalWarningApplyDurationMs,
        onSlowApply: () => this.observer.slowApply?.(),
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
      transport: new HeartbeatDelays(this.transport, this.state, cfg.heartbeatIntervalMs, this.clock, (to) =>
        this.observer.heartbeatSendFailed?.(to),
      ),
      log,
      tickMs: cfg.heartbeatIntervalMs,
      clock: this.clock,
      snapshotCount: cfg.snapshotCount,
      snapshotCatchUpEntries: cfg.snapshotCatchUpEntries,
      maxSnapshots: cfg.maxSnapshots,
      snapshotIndex: boot.snapshotIndex,
      onSoftState: (s) => this.onLeaderChange(this.state.applySoftState(s)),
      onHardState: (h) => this.state.applyHardState(h),
      onFatal: (err) => this.fail(err),
      installSnapshot: (snap) => this.snapshots.install(snap),
    });
    this.reads = new ReadIndexBatcher(
      {
        request: (ctx) => {
          this.boot.node.readIndex(ctx);
          this.loop.wake();
        },
        retryMs: READ_INDEX_RETRY_MS,
        clock: this.clock,
        timeoutMs: this.requestTimeoutMs,
        maxQueued: MAX_QUEUED_READS,
        makeTimeoutError: () => Errors.timeout(),
        makeTooManyError: () => Errors.tooManyRequests(),
        onSlow: () => this.observer.slowReadIndex?.(),
        onFailed: () => this.observer.readIndexFailed?.(),
      },
      (boot.memberId << 16n) ^ BigInt(this.clock.now() & 0xffff),
    );
    this.loop.setReadBatcher(this.reads);
    this.state.onLeaderChange(() => this.reads.leaderChanged());
    const ids = new RequestIdGenerator(boot.memberId, this.clock.now());
    this.proposer = new Proposer({
      node: boot.node,
      state: this.state,
      waits: this.waits,
      ids,
      log,
      maxRequestBytes: cfg.maxRequestBytes,
      requestTimeoutMs: this.requestTimeoutMs,
      clock: this.clock,
      appliedIndex: () => this.applier.appliedIndex,
      wake: () => this.loop.wake(),
      stopped: () => this.stopped,
      observer: this.observer,
      batch: true,
    });
    this.loop.beforeTake(() => this.proposer.flushProposals());
    const defrag = new DefragGate();
    const quota = this.buildQuota();
    const barrier = () => this.linearizableBarrier();
    this.kv = new MemberKv({
      state: this.state,
      proposer: this.proposer,
      backend: boot.backend,
      quota,
      defrag,
      linearizableBarrier: barrier,
    });
    // Ranges and read-only txns skip raft: their permissions are checked on the way in.
    this.kv = this.memberAuth.guardReads(this.kv);
    this.kv = observeSlowReads(
      this.kv,
      cfg.experimentalWarningApplyDurationMs,
      () => this.observer.slowApply?.(),
      () => this.clock.monotonic(),
    );
    this.maintenance = new MemberMaintenance({
      state: this.state,
      proposer: this.proposer,
      backend: boot.backend,
      membership: boot.membership,
      alarms: this.alarms,
      defrag,
      log,
      appliedIndex: () => this.applier.appliedIndex,
      isLearner: () => boot.membership.get(this.memberId)?.isLearner === true,
      isVoter: (id) => boot.membership.get(id)?.isLearner === false,
      transferLeader: (id) => {
        boot.node.transferLeader(id);
        this.loop.wake();
      },
      requestTimeoutMs: this.requestTimeoutMs,
      tickMs: cfg.heartbeatIntervalMs,
      clock: this.clock,
      exclusive: (fn) => this.loop.exclusive(fn),
    });
    this.memberCluster = new MemberCluster({
      memberId: boot.memberId,
      state: this.state,
      membership: boot.membership,
      proposer: this.proposer,
      strictReconfigCheck: cfg.strictReconfigCheck,
      activeSince: (id) => this.transport.activeSince(id),
      raftStatus: () => boot.node.status(),
      forwardPromote: (leader, id) => this.peers.forwardPromote(leader, id),
      nowMs: () => this.clock.now(),
    });
    this.cluster = this.memberCluster;
    this.memberV2 = new MemberV2({
      memberId: boot.memberId,
      clusterId: boot.clusterId,
      name: cfg.name,
      state: this.state,
      membership: boot.membership,
      proposer: this.proposer,
      cluster: this.memberCluster,
      peerIds: () => this.transport.peerIds(),
      log,
      clock: this.clock,
    });
    this.v2 = this.memberV2;
    this.health = this.buildHealth();
    this.memberLease = new MemberLease({
      lessor: this.lessor,
      state: this.state,
      proposer: this.proposer,
      ids,
      log,
      currentRevision: () => boot.backend.currentRevision(),
      nowMs: () => this.clock.monotonic(),
      clock: this.clock,
      promoteExtendMs: cfg.electionTimeoutMs,
      leader: this.peers.leaderLessor,
      expiryRevoker: () => this.memberAuth.rootCredentials(),
      confirmLeadership: () => this.confirmOwnLeadership(),
    });
    this.lease = this.memberLease;
    this.memberWatch = new MemberWatch({
      store: boot.backend,
      state: this.state,
      events: this.appliedEvents,
      maxResponseBytes: cfg.maxRequestBytes + GRPC_OVERHEAD_BYTES,
      progressIntervalMs: cfg.experimentalWatchProgressNotifyIntervalMs,
      clock: this.clock,
      onEventsSent: (n) => this.observer.watchEventsSent?.(n),
    });
    this.watch = this.memberWatch;
    this.coordination = {
      txn: (req) => this.kv.txn(req),
      range: (req) => this.kv.range(req),
      deleteRange: (req) => this.kv.deleteRange(req),
      watch: (key, rangeEnd, from, signal) => this.memberWatch.watch(key, rangeEnd, from, signal),
      grantLease: async (ttl) => (await this.memberLease.grant({ ID: 0n, TTL: ttl })).ID,
    };
    this.state.onLeadership((leading) => {
      if (!leading) this.memberLease.demote();
    });
    this.readyPromise = new Promise((resolve) => {
      this.resolveReady = resolve;
    });
  }

  /** quota → auth → lease → store, in etcd's order. */
  private buildStages(): OpHandlers {
    const store = new StoreStage({
      backend: this.boot.backend,
      membership: this.boot.membership,
      alarms: this.alarms,
      events: this.appliedEvents,
      now: () => this.clock.now(),
    });
    const lease = new LeaseStage(store, this.lessor, this.boot.backend, () => this.clock.monotonic());
    this.appliedEvents.subscribe(lease.onApplied);
    const auth = this.memberAuth.stage(lease, this.lessor, this.boot.backend);
    // A raised CORRUPT alarm refuses writes before anything else (etcd's applierV3Corrupt).
    return new CorruptStage(new QuotaStage(auth, this.alarms), this.alarms);
  }

  /** etcd's corruption checks (corrupt-check.ts), made on first use. */
  private corruptChecker(): CorruptChecker {
    this.corrupt ??= new CorruptChecker({
      memberId: this.memberId,
      clock: this.clock,
      log: this.log,
      requestTimeoutMs: this.requestTimeoutMs,
      localHash: async () => {
        const r = await this.maintenance.hashKV(0);
        const revision = Number(r.header?.revision ?? 0);
        return { revision, hash: r.hash, compactRevision: Number(r.compactRevision) };
      },
      // Before the log is replayed (the initial check) membership may still be empty: etcd 3.4
      // then has nobody to compare with and passes; we ask the --initial-cluster members instead.
      peers: () => {
        const known = this.boot.membership.list();
        const members = known.length > 0 ? known : initialMembers(this.cfg);
        return members.filter((m) => m.id !== this.memberId);
      },
      fetch: (url, rev, timeoutMs) => fetchPeerHashKV(url, rev, timeoutMs, this.peerTls),
      isLeader: () => this.state.isLeader,
      linearizableBarrier: () => this.linearizableBarrier(),
      raiseCorrupt: () =>
        this.proposer.propose({
          kind: 'alarm',
          req: { action: AlarmRequest_AlarmAction.ACTIVATE, memberID: 0n, alarm: AlarmType.CORRUPT },
        }),
    });
    return this.corrupt;
  }

  /**
   * --experimental-initial-corrupt-check: before serving, a restarted member compares its hash
   * with its peers' (a new member has nothing to compare). Throws on a mismatch.
   */
  async initialCorruptCheck(): Promise<void> {
    if (!this.cfg.experimentalInitialCorruptCheck || this.boot.fresh) return;
    await this.corruptChecker().initialCheck();
  }

  /** Users, roles and tokens (--auth-token, --auth-token-ttl, --bcrypt-cost); the backend holds the state. */
  private buildAuth(): MemberAuth {
    return new MemberAuth({
      cfg: this.cfg,
      backend: this.boot.backend,
      log: this.log,
      clock: this.clock,
      propose: (op, who) => this.proposer.propose(op, who),
      header: (revision) => this.state.header(revision),
      currentRevision: () => this.boot.backend.currentRevision(),
      linearizableBarrier: () => this.linearizableBarrier(),
      appliedIndex: () => this.applier.appliedIndex,
      waitApplied: (index) =>
        withTimeout(
          this.clock,
          this.appliedWaiters.wait(index),
          this.requestTimeoutMs,
          Errors.timeoutWaitApplied,
        ),
    });
  }

  /** Leases from the backend's "lease" bucket, attachments from the live keys that name one. */
  private restoreLessor(): Lessor {
    const cfg = this.cfg;
    const electionTicks = Math.max(2, Math.round(cfg.electionTimeoutMs / cfg.heartbeatIntervalMs));
    const lessor = new Lessor({
      minTtlSec: minLeaseTtlSec(electionTicks, cfg.heartbeatIntervalMs),
      expiredRetryMs: this.requestTimeoutMs,
    });
    this.loadLeases(lessor);
    const o = this.observer;
    lessor.observer = {
      granted: (ttl) => o.leaseGranted?.(ttl),
      revoked: () => o.leaseRevoked?.(),
      renewed: () => o.leaseRenewed?.(),
    };
    return lessor;
  }

  private loadLeases(lessor: Lessor): void {
    const backend = this.boot.backend;
    const records = backend.scanAux(LEASE_BUCKET).map(([, value]) => decodeLeaseRecord(value));
    const r = lessor.restore(records, backend.keysWithLeases());
    if (r.orphans.length > 0) {
      this.log.warn('keys name leases that do not exist', { count: r.orphans.length });
    }
  }

  /** A snapshot's database and membership replaced ours: rebuild what derives from them. */
  private onSnapshotInstalled(snap: Snapshot): void {
    const ms = this.boot.membership;
    for (const id of this.transport.peerIds()) {
      if (ms.get(id) === undefined) this.transport.removePeer(id);
    }
    for (const m of ms.list()) {
      if (m.id !== this.memberId) {
        this.transport.addPeer(m.id, m.peerUrls);
        this.transport.updatePeer(m.id, m.peerUrls);
      }
    }
    this.loadLeases(this.lessor);
    this.alarms.reload();
    this.memberAuth.recover();
    this.memberWatch.hub.restore();
    this.applier.restoredTo(snap.metadata.index, snap.metadata.confState);
    this.appliedWaiters.advance(snap.metadata.index);
  }

  private buildQuota(): BackendQuota {
    const backend = this.boot.backend;
    return new BackendQuota({
      quotaBytes: effectiveQuotaBackendBytes(this.cfg),
      backendSizeBytes: () => backend.sizeBytes(),
      ownNoSpaceRaised: () => this.alarms.list(AlarmType.NOSPACE).some((a) => a.memberID === this.memberId),
      raiseNoSpace: () =>
        this.maintenance.alarm({
          action: AlarmRequest_AlarmAction.ACTIVATE,
          memberID: this.memberId,
          alarm: AlarmType.NOSPACE,
        }),
      warn: (msg, fields) => this.log.warn(msg, fields),
    });
  }

  /** --experimental-auto-disarm-nospace (beyond etcd): see nospace-auto-disarm.ts. */
  private startAutoDisarm(): void {
    const backend = this.boot.backend;
    this.autoDisarm = new NoSpaceAutoDisarm({
      clock: this.clock,
      memberId: this.memberId,
      quotaBytes: effectiveQuotaBackendBytes(this.cfg),
      backendSizeBytes: () => backend.sizeBytes(),
      noSpaceAlarms: () => this.alarms.list(AlarmType.NOSPACE),
      isLeader: () => this.state.isLeader,
      isMember: (id) => this.boot.membership.get(id) !== undefined,
      deactivate: (a) =>
        this.maintenance.alarm({
          action: AlarmRequest_AlarmAction.DEACTIVATE,
          memberID: a.memberID,
          alarm: AlarmType.NOSPACE,
        }),
      info: (msg, fields) => this.log.info(msg, fields),
      warn: (msg, fields) => this.log.warn(msg, fields),
    });
    this.autoDisarm.start();
  }

  private buildHealth(): HealthPort {
    return {
      hasLeader: () => this.state.hasLeader(),
      isLeader: () => this.state.isLeader,
      isLearner: () => this.boot.membership.get(this.memberId)?.isLearner === true,
      onLeaderChange: (listener) => this.state.onLeaderChange((leader) => listener(leader !== NONE)),
      probe: (timeoutMs) =>
        withTimeout(this.clock, this.linearizableBarrier(), timeoutMs, Errors.timeout).then(
          () => true,
          () => false,
        ),
      clusterVersion: () => this.boot.membership.clusterVersion(),
      status: () => this.maintenance.status(),
    };
  }

  /** Starts ticking and applying; resolves once this member is published and can serve clients. */
  start(): Promise<void> {
    for (const m of this.boot.initialPeers) {
      if (m.id !== this.memberId) this.transport.addPeer(m.id, m.peerUrls);
    }
    this.peers.start();
    this.loop.start();
    this.fastElectionTimer = this.clock.every(Math.min(50, this.cfg.heartbeatIntervalMs), () =>
      this.maybeFastElect(),
    );
    this.memberLease.start();
    this.memberWatch.start();
    this.memberV2.start();
    this.memberAuth.start();
    if (this.cfg.experimentalCorruptCheckTimeMs > 0) {
      this.corruptChecker().start(this.cfg.experimentalCorruptCheckTimeMs);
    }
    if (this.cfg.experimentalAutoDisarmNospace) this.startAutoDisarm();
    void this.publish();
    return this.readyPromise;
  }

  /**
   * A member that is the only voter need not wait a whole election timeout:
   * once it has applied what was committed before (pending conf changes block
   * a campaign), it campaigns at once, as etcd fast-forwards its ticks.
   */
  private maybeFastElect(): void {
    if (this.stopped) return;
    const st = this.boot.node.status();
    // raft's commit index covers the bootstrap entries of a fresh member too.
    if (this.applier.appliedIndex < Math.max(this.commitAtStart, st.hardState.commit)) return;
    this.fastElectionTimer?.cancel();
    const voters = st.confState.voters;
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

  currentRevision(): number {
    return this.boot.backend.currentRevision();
  }

  /** Returns once this member has applied everything committed before the call (raft ReadIndex). */
  async linearizableBarrier(): Promise<void> {
    if (this.stopped) throw Errors.stopped();
    const index = await this.reads.readIndex();
    await withTimeout(
      this.clock,
      this.appliedWaiters.wait(index),
      this.requestTimeoutMs,
      Errors.timeoutWaitApplied,
    );
  }

  /**
   * Proves that this member leads: raft leads now, a read-index round is answered (a quorum
   * acknowledged this leader after the request), and raft still leads in the same term. The
   * member state can lag raft's (a stalled disk holds the ready loop), and a follower's
   * read-index round is answered by the leader, so neither alone tells.
   */
  private async confirmOwnLeadership(): Promise<void> {
    const term = this.boot.node.leaderTerm();
    if (term === undefined) throw this.state.hasLeader() ? Errors.notLeader() : Errors.noLeader();
    await this.linearizableBarrier();
    if (this.boot.node.leaderTerm() !== term) throw Errors.notLeader();
  }

  /** Proposes a compaction (the auto-compactor's way in). */
  compact(revision: number): Promise<unknown> {
    return this.kv.compact({ revision, physical: false });
  }

  /** Proposes this member's name and client URLs until it is applied (etcd's publish). */
  private async publish(): Promise<void> {
    const req = {
      memberId: this.memberId,
      name: this.cfg.name,
      clientUrls: [...this.cfg.advertiseClientUrls],
    };
    while (!this.stopped && !this.published) {
      try {
        await this.proposer.propose({ kind: 'memberAttrSet', req });
        this.published = true;
        this.log.info('published local member to cluster through raft', {
          'local-member-id': this.memberId.toString(16),
          'local-member-attributes': `{Name:${req.name} ClientURLs:[${req.clientUrls.join(' ')}]}`,
          'request-path': `/0/members/${this.memberId.toString(16)}/attributes`,
          'cluster-id': this.clusterId.toString(16),
          'publish-timeout': `${this.requestTimeoutMs / 1000}s`,
        });
        this.logClusterVersion();
        this.resolveReady();
      } catch (err) {
        if (this.stopped) return;
        this.log.warn('failed to publish local member to cluster through raft', {
          error: (err as Error).message,
        });
        // Failures that come back at once (a dropped proposal) must not spin.
        await sleep(this.clock, PUBLISH_RETRY_MS);
      }
    }
  }

  /** etcd's cluster-version lines, which tooling waits for (the version is fixed at 3.4 here). */
  private logClusterVersion(): void {
    const version = CLUSTER_VERSION.split('.').slice(0, 2).join('.');
    const ids = { 'cluster-id': this.clusterId.toString(16), 'local-member-id': this.memberId.toString(16) };
    if (this.state.isLeader)
      this.log.info('setting up initial cluster version', { 'cluster-version': version });
    this.log.info('set initial cluster version', { ...ids, 'cluster-version': version });
    this.log.info('enabled capabilities for version', { 'cluster-version': version });
    this.log.info('cluster version is updated', { 'cluster-version': version });
  }

  private onLeaderChange(previous: bigint | undefined): void {
    if (previous === undefined) return;
    const me = this.memberId.toString(16);
    const term = this.state.term;
    if (this.state.leader === NONE) {
      this.log.info(`raft.node: ${me} lost leader ${previous.toString(16)} at term ${term}`);
    } else {
      this.log.info(`raft.node: ${me} elected leader ${this.state.leader.toString(16)} at term ${term}`);
    }
  }

  /** The leader's lessor as followers reach it (the peer port's /leases, or the simulator). */
  leaderLeases(): LeaderLeaseApi {
    return this.memberLease;
  }

  /** etcd's peer protocol (src/peer): the default network. */
  private peerNetwork(peerTls: PeerDialTls | undefined): NetworkFactory {
    return (host, snapshots) => {
      const transport = new PeerTransport(
        {
          localId: this.memberId,
          clusterId: () => this.clusterId,
          peerUrls: this.cfg.initialAdvertisePeerUrls,
          host,
          log: this.log,
          dialTimeoutMs: 1000 + this.cfg.electionTimeoutMs,
          ...(peerTls === undefined ? {} : { tls: peerTls }),
          ...(this.observer.peer === undefined ? {} : { observer: this.observer.peer }),
        },
        snapshots,
      );
      return {
        transport,
        forwarder: new LeaseForwarder(transport.ctx),
        queries: {
          version: (urls, timeoutMs) => getVersion(urls, { timeoutMs, ...(peerTls ? { tls: peerTls } : {}) }),
        },
      };
    };
  }

  /** The peer port's routes: raft messages and streams, then the member endpoints (none off the peer protocol). */
  peerRoutes(): PeerRoute[] {
    if (!(this.transport instanceof PeerTransport)) return [];
    return [
      new RaftHttpHandler(this.transport, this.snapshots),
      new MemberHttpHandler(this.peers.memberApi(this.memberCluster, this.memberLease)),
      new HashKvHttpHandler({
        clusterId: () => this.clusterId,
        hashKV: async (rev) => {
          const r = await this.maintenance.hashKV(rev);
          const revision = Number(r.header?.revision ?? 0);
          return { revision, hash: r.hash, compactRevision: Number(r.compactRevision) };
        },
      }),
    ];
  }

  /** Keeps the transport's peers in step with the applied membership. */
  private onConfChangeApplied(cc: ConfChange): void {
    if (cc.nodeId === this.memberId) {
      if (cc.type === ConfChangeType.RemoveNode) {
        // etcd gives the removal a second to reach the others before stopping.
        this.clock.after(
          1000,
          () => this.removed('the member has been permanently removed from the cluster'),
          {
            unref: true,
          },
        );
      }
      return;
    }
    const m = this.boot.membership.get(cc.nodeId);
    switch (cc.type) {
      case ConfChangeType.AddNode:
      case ConfChangeType.AddLearnerNode:
        if (m !== undefined) this.transport.addPeer(m.id, m.peerUrls);
        return;
      case ConfChangeType.RemoveNode:
        this.transport.removePeer(cc.nodeId);
        return;
      case ConfChangeType.UpdateNode:
        if (m !== undefined) this.transport.updatePeer(m.id, m.peerUrls);
        return;
    }
  }

  private removed(reason: string): void {
    if (this.stopped) return;
    this.log.warn(reason, { 'local-member-id': this.memberId.toString(16) });
    this.fail(new Error(reason));
  }

  // ---- shutdown ----------------------------------------------------------

  /**
   * A leader that stops hands leadership to the voter furthest along first, as
   * etcd does on shutdown, so the others do not wait an election timeout.
   */
  private async handOffLeadership(): Promise<void> {
    if (!this.state.isLeader) return;
    const st = this.boot.node.status();
    let target: bigint | undefined;
    let best = -1;
    for (const [id, pr] of st.progress ?? []) {
      if (id === this.memberId || pr.isLearner || this.transport.activeSince(id) === undefined) continue;
      if (pr.match > best) {
        best = pr.match;
        target = id;
      }
    }
    if (target === undefined) return;
    try {
      await withTimeout(this.clock, this.maintenance.moveLeader(target), this.cfg.electionTimeoutMs * 2, () =>
        Errors.timeoutLeaderTransfer(),
      );
    } catch (err) {
      this.log.warn('failed to transfer leadership before stopping', { error: (err as Error).message });
    }
  }

  private fail(err: Error): void {
    this.log.fatal('member cannot continue', { error: err.message });
    this.onFatal(err);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    await this.handOffLeadership();
    this.stopped = true;
    this.fastElectionTimer?.cancel();
    this.corrupt?.stop();
    this.autoDisarm?.stop();
    this.memberLease.stop();
    this.memberWatch.stop();
    this.memberV2.stop();
    this.memberAuth.stop();
    this.peers.stop();
    this.transport.stop();
    this.reads.stop(Errors.stopped());
    await this.loop.stop();
    this.waits.failAll(Errors.stopped());
    this.appliedWaiters.failAll(Errors.stopped());
    await this.boot.backend.flush();
    await this.boot.backend.close();
    await this.boot.wal.close();
  }
}
