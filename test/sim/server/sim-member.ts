// One simulated member: the real EtcdServer, booted by the real bootstrap
// code on a simulated disk (SimFs for the WAL and snapshots, an in-memory
// backend for the store) with a virtual clock and the simulated network.
// A crash loses what the disk had not made durable; a restart boots again
// from what is left, as a real process would.

import type { ServerConfig } from '../../../src/config/types.js';
import {
  type LeaseGrantRequest,
  type LeaseRevokeRequest,
  type PutRequest,
  RangeRequest,
  type RangeResponse,
  type TxnRequest,
  type TxnResponse,
} from '../../../src/pb/etcdserverpb/rpc.js';
import { bootStorage } from '../../../src/server/bootstrap.js';
import { computeMemberId } from '../../../src/server/ids.js';
import type { LeaderLeaseApi } from '../../../src/server/member-peers.js';
import { EtcdServer } from '../../../src/server/server.js';
import type { Version } from './history.js';
import { LEASE_PREFIX, type SimLeaseApi } from './lease-workload.js';
import type { ServerSabotage } from './run.js';
import type { SimLog } from './sim-logger.js';
import type { SimNetwork } from './sim-network.js';
import { memorySnapshotImporter, SimDisk, type SimDiskOptions, simStorageIo } from './sim-storage.js';
import { MemberClock, type VirtualClock } from './virtual-clock.js';
import { SimWatcher } from './watchers.js';
import type { SimClientApi } from './workload.js';

/** Start-up refusals of a member that never wrote its first Ready (bootstrap.ts resumeFirstStart). */
const EXPECTED_REFUSALS = [
  /^cannot fetch cluster info from peer urls/,
  /^the member has been permanently removed from the cluster/,
  /has already been bootstrapped: a peer lists it as started/,
];

export class SimMember {
  /** Its member id (a re-added member gets a new one from the leader's MemberAdd). */
  id: bigint;
  /** A member of the cluster now (false: a spare, never added or removed). */
  inCluster = true;
  private incarnation = 0;
  private clock: MemberClock | undefined;
  private server: EtcdServer | undefined;
  private up = false;
  private starting = false;
  /** Its disk (the run injects disk faults into it). */
  disk: SimDisk;
  private readonly diskOptions: SimDiskOptions;
  /** Joining a running cluster: a start that cannot reach the others is retried, not a finding. */
  private joining = false;

  constructor(
    readonly name: string,
    private cfg: ServerConfig,
    private readonly vclock: VirtualClock,
    private readonly net: SimNetwork,
    private readonly log: SimLog,
    random: () => number,
    sabotage: ServerSabotage | undefined,
  ) {
    this.id = computeMemberId(cfg.initialAdvertisePeerUrls, cfg.initialClusterToken);
    this.diskOptions = {
      lyingFsync: sabotage === 'lyingFsync',
      ignoreFsyncErrors: sabotage === 'ignoreFsyncError',
    };
    this.disk = new SimDisk(random, this.diskOptions, vclock);
    this.random = random;
    this.staleReads = sabotage === 'staleReads';
    this.sabotage = sabotage;
  }

  private readonly staleReads: boolean;
  private readonly sabotage: ServerSabotage | undefined;
  /** Wall-clock offset of this member (skew; jumps move it) and the rate its clock runs at. */
  clockOffsetMs = 0;
  clockRate = 1;
  /** Start-up failures (reported by the run as problems). */
  readonly failures: string[] = [];
  private readonly random: () => number;

  isUp(): boolean {
    return this.up;
  }

  isLeader(): boolean {
    return this.up && this.server?.state.isLeader === true;
  }

  /** Boots (fresh or from what the disk kept) and starts the member; it becomes up once booted. */
  async start(): Promise<void> {
    if (this.up || this.starting) return;
    this.starting = true;
    this.incarnation++;
    const clock = new MemberClock(this.vclock, this.clockRate);
    clock.skewMs = this.clockOffsetMs;
    this.clock = clock;
    const logger = this.log.logger(`${this.name}#${this.incarnation}`);
    logger.info('booting');
    try {
      const io = simStorageIo(this.disk, clock, this.random);
      const boot = await bootStorage(
        this.cfg,
        logger,
        { timeoutMs: 1000 },
        {
          ...io,
          clusterFromPeers: (urls, o) => this.net.clusterFromPeers(urls, o.timeoutMs),
        },
      );
      this.id = boot.memberId;
      this.joining = false;
      // Declared first: the network asks for the lease API a turn later, even if the constructor threw.
      let built: EtcdServer | undefined;
      const server: EtcdServer = new EtcdServer(
        this.cfg,
        logger,
        boot,
        (err) => {
          logger.fatal('member failed', { error: err.message });
          this.crash();
        },
        {
          clock,
          snapshotDisk: { fs: io.fs, importDb: memorySnapshotImporter(this.vclock) },
          network: this.net.factoryFor(
            this.id,
            this.incarnation,
            (): LeaderLeaseApi | undefined => built?.leaderLeases(),
            () =>
              built === undefined
                ? undefined
                : { clusterId: built.clusterId, members: built.cluster.members().map((m) => ({ ...m })) },
          ),
        },
      );
      built = server;
      this.server = server;
      if (this.sabotage === 'skipLeaseRevokeOnFollower') skipLeaseRevokeOnFollower(server);
      this.up = true;
      void server.start().catch(() => undefined);
    } catch (err) {
      // A member that cannot start again after a crash is a finding, not a harness failure. A
      // newcomer may fail as etcd's does (no peer reachable, or the one that answered has not
      // applied the add yet: "member count is unequal") and is started again, as systemd would;
      // one that never gets in leaves the cluster unsettled, which the run reports.
      // A member whose first start died before its first Ready was durable asks the peers again
      // on restart (bootstrap.ts), and may find none, or find itself removed meanwhile (the
      // membership reconciliation takes it out), as a newcomer may.
      const message = (err as Error).message;
      logger.fatal('boot failed', { error: message });
      if (!this.joining && !EXPECTED_REFUSALS.some((re) => re.test(message))) {
        this.failures.push(
          `${this.name} incarnation ${this.incarnation} failed to start: ${(err as Error).message}`,
        );
      }
    } finally {
      this.starting = false;
    }
  }

  /**
   * Joins the running cluster after a MemberAdd, as the operator would: a wiped data dir, and
   * `--initial-cluster-state existing` with the cluster the add returned.
   */
  prepareJoin(cfg: ServerConfig): void {
    this.cfg = cfg;
    this.disk = new SimDisk(this.random, this.diskOptions, this.vclock);
    this.joining = true;
    this.inCluster = true;
  }

  /** Gives up joining (it was never added): a spare again. */
  abandonJoin(): void {
    this.joining = false;
  }

  term(): number {
    return this.server?.state.term ?? 0;
  }

  /** Up, and following (or being) `leader` in `term`. */
  followsLeader(leader: bigint, term: number): boolean {
    const st = this.server?.state;
    return this.up && st !== undefined && st.leader === leader && st.term === term;
  }

  /** Added to the cluster but not booted yet. */
  isJoining(): boolean {
    return this.joining;
  }

  /** Is a learner now (as its own membership says). */
  isLearner(): boolean {
    return this.up && this.server?.maintenance.status().isLearner === true;
  }

  /** The cluster's members as this member sees them. */
  clusterMembers(): { id: bigint; name: string; peerUrls: string[]; isLearner: boolean }[] {
    return this.server?.cluster.members() ?? [];
  }

  /** MemberAdd / MemberPromote / MemberRemove through this member (the Cluster service's port). */
  clusterApi() {
    const server = this.server;
    if (server === undefined) throw new Error(`${this.name} is down`);
    return server.cluster;
  }

  /** Power loss: timers stop, the network forgets this incarnation, the disk keeps only what was durable. */
  crash(): void {
    if (!this.up) return;
    this.up = false;
    this.clock?.halt();
    this.net.kill(this.id);
    this.server = undefined;
    this.disk.crash();
  }

  /** The simulation is over: stop every timer without a crash. */
  halt(): void {
    this.clock?.halt();
    this.up = false;
  }

  /** The client API, through the member's ports as the gRPC services call them. */
  clientApi(): SimClientApi {
    const server = this.server;
    if (server === undefined) throw new Error(`${this.name} is down`);
    return {
      txn: (req: TxnRequest): Promise<TxnResponse> => server.kv.txn(req),
      range: (req: RangeRequest): Promise<RangeResponse> =>
        server.kv.range(this.staleReads ? { ...req, serializable: true } : req),
    };
  }

  /** A watcher over every key from `startRevision`, recording until this incarnation dies. */
  openWatcher(startRevision: number, duplicateSabotage: boolean): SimWatcher | undefined {
    const server = this.server;
    if (server === undefined) return undefined;
    const w = new SimWatcher(`${this.name}#${this.incarnation}`, startRevision, duplicateSabotage);
    w.attach((onReadable) => server.watch.openStream({ onReadable }));
    return w;
  }

  /** Leases and lease keys, through the member's ports as the gRPC services call them. */
  leaseApi(): SimLeaseApi {
    const server = this.server;
    if (server === undefined) throw new Error(`${this.name} is down`);
    return {
      grant: (req: LeaseGrantRequest) => server.lease.grant(req),
      revoke: (req: LeaseRevokeRequest) => server.lease.revoke(req),
      keepAlive: (id: bigint) => server.lease.keepAlive(id),
      put: (req: PutRequest) => server.kv.put(req),
      range: (req: RangeRequest) => server.kv.range(req),
    };
  }

  /** A watcher over the lease keys from revision 1: every put and delete of them, as this member stored them. */
  leaseKeyWatcher(): SimWatcher | undefined {
    const server = this.server;
    if (server === undefined) return undefined;
    const w = new SimWatcher(`${this.name}#${this.incarnation}`, 1, false, {
      key: Buffer.from(LEASE_PREFIX),
      rangeEnd: prefixEnd(LEASE_PREFIX),
    });
    w.attach((onReadable) => server.watch.openStream({ onReadable }));
    return w;
  }

  /** This member leads: hand leadership to `target` (etcd's MoveLeader). */
  async moveLeader(target: bigint): Promise<void> {
    const server = this.server;
    if (server === undefined) throw new Error(`${this.name} is down`);
    await server.maintenance.moveLeader(target);
  }

  /** Shifts this member's wall clock (an NTP step, or an operator's mistake): now() jumps, monotonic time does not. */
  jumpClock(ms: number): void {
    this.clockOffsetMs += ms;
    if (this.clock !== undefined) this.clock.skewMs = this.clockOffsetMs;
  }

  /** One line of raft and store state, for a failing seed's report. */
  describe(): string {
    const server = this.server;
    if (!this.up || server === undefined) return `${this.name}: down`;
    const st = server.maintenance.status();
    // The leader's view of each follower (raft's Progress), and who this member sends to.
    const node = (server as unknown as { boot: { node: { status(): { progress?: Map<bigint, unknown> } } } })
      .boot.node;
    const progress = [...(node.status().progress ?? [])]
      .map(([id, p]) => `${id.toString(16).slice(0, 4)}:${JSON.stringify(p)}`)
      .join(' ');
    return (
      `${this.name}#${this.incarnation} id ${this.id.toString(16)}: term ${st.raftTerm} leader ${st.leader.toString(16)} ` +
      `commit ${st.raftIndex} applied ${st.raftAppliedIndex} rev ${server.currentRevision()} learner=${st.isLearner} ` +
      `peers [${server.transport
        .peerIds()
        .map((p) => p.toString(16).slice(0, 4))
        .join(',')}]${server.state.isLeader ? ` progress ${progress}` : ''}`
    );
  }

  /** Leases this member's lessor holds (read directly: the port's answer is asynchronous). */
  leaseCount(): number {
    const lessor = (this.server as unknown as { lessor?: { leases(): unknown[] } } | undefined)?.lessor;
    return lessor?.leases().length ?? 0;
  }

  appliedIndex(): number {
    return this.server?.maintenance.status().raftAppliedIndex ?? -1;
  }

  commitIndex(): number {
    return this.server?.state.commitIndex ?? -1;
  }

  currentRevision(): number {
    return this.server?.currentRevision() ?? 0;
  }

  /** Every version of every key, from the store's history (no compaction in the simulation). */
  async history(): Promise<Map<string, Version[]>> {
    const server = this.server;
    if (server === undefined) throw new Error(`${this.name} is down`);
    const out = new Map<string, Version[]>();
    const current = server.currentRevision();
    for (let rev = 2; rev <= current; rev++) {
      const r = await server.kv.range(
        RangeRequest.fromPartial({
          key: Buffer.from([0]),
          rangeEnd: Buffer.from([0]),
          revision: rev,
          serializable: true,
        }),
      );
      for (const kv of r.kvs) {
        if (Number(kv.modRevision) !== rev) continue;
        const key = Buffer.from(kv.key).toString();
        if (key.startsWith(LEASE_PREFIX)) continue; // lease keys are checked by their own checker
        const list = out.get(key) ?? [];
        list.push({ modRev: rev, value: Buffer.from(kv.value).toString() });
        out.set(key, list);
      }
    }
    return out;
  }

  async digest(): Promise<{ revision: number; hash: number }> {
    const server = this.server;
    if (server === undefined) throw new Error(`${this.name} is down`);
    const h = await server.maintenance.hashKV(0);
    return { revision: Number(h.header?.revision ?? 0), hash: h.hash };
  }
}

/** The range end of a prefix (etcd's GetPrefixRangeEnd for ASCII prefixes). */
function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  b[b.length - 1]!++;
  return b;
}

/**
 * Sabotage: a follower applies a lease revoke (expiry or client revoke)
 * without deleting the lease's keys, so members diverge. Wraps the member's
 * lessor, which is private: a deliberate bug needs a way in.
 */
function skipLeaseRevokeOnFollower(server: EtcdServer): void {
  const lessor = (server as unknown as { lessor: { revoke(id: bigint): { keys: Uint8Array[] } } }).lessor;
  const revoke = lessor.revoke.bind(lessor);
  lessor.revoke = (id: bigint) => {
    const out = revoke(id);
    return server.state.isLeader ? out : { ...out, keys: [] };
  };
}
