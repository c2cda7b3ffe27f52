// The v2 API's view of a member (etcd's EtcdServer.Do and v2 stats) and the
// leader's TTL sweep: while the v2 store holds keys with a TTL, the leader
// proposes a SYNC request with its clock every 500 ms, and every member
// deletes what expired by then when it applies it -- so expiry is replicated
// exactly like any write, as etcd 3.4 does it.
import type { Logger } from '../log/types.js';
import { goJsonString } from '../peer/wire/go-json.js';
import type { Clock, Timer } from '../runtime/clock.js';
import { formatDuration } from '../util/go-duration.js';
import { formatGoTime, nsFromMs, type V2ApplyResult, type V2Store } from '../v2store/index.js';
import { Errors, ServerError } from './errors.js';
import type { MemberRecord } from './member-json.js';
import type { MemberState } from './member-state.js';
import type { Membership } from './membership.js';
import type { ClusterPort } from './ports.js';
import type { Proposer } from './proposer.js';
import { type V2DoResponse, V2HttpError, type V2Port } from './v2/port.js';
import { emptyV2Request, type V2Request } from './v2/request.js';

/** etcd's SyncTicker period. */
export const V2_SYNC_INTERVAL_MS = 500;

export interface MemberV2Deps {
  memberId: bigint;
  clusterId: bigint;
  name: string;
  state: MemberState;
  membership: Membership;
  proposer: Proposer;
  cluster: ClusterPort;
  /** Peers the leader sends to (for /v2/stats/leader). */
  peerIds(): bigint[];
  log: Logger;
  clock: Clock;
}

export class MemberV2 implements V2Port {
  private syncTimer: Timer | undefined;
  private syncInFlight = false;
  private unsubscribe: (() => void)[] = [];
  private readonly startMs: number;
  private leaderSinceMs: number;

  constructor(private readonly d: MemberV2Deps) {
    this.startMs = d.clock.now();
    this.leaderSinceMs = this.startMs;
  }

  private get store(): V2Store {
    return this.d.membership.v2Store();
  }

  start(): void {
    const d = this.d;
    this.unsubscribe.push(
      d.state.onLeadership((leading) => (leading ? this.startSync() : this.stopSync())),
      d.state.onLeaderChange(() => {
        this.leaderSinceMs = d.clock.now();
      }),
    );
    if (d.state.isLeader) this.startSync();
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.stopSync();
  }

  private startSync(): void {
    if (this.syncTimer !== undefined) return;
    this.syncTimer = this.d.clock.every(V2_SYNC_INTERVAL_MS, () => this.maybeSync(), { unref: true });
  }

  private stopSync(): void {
    this.syncTimer?.cancel();
    this.syncTimer = undefined;
  }

  /** etcd's sync(): only the leader, only while TTL keys exist. */
  private maybeSync(): void {
    if (!this.d.state.isLeader || this.syncInFlight || !this.store.hasTtlKeys()) return;
    this.syncInFlight = true;
    const req: V2Request = { ...emptyV2Request(), method: 'SYNC', time: nsFromMs(this.d.clock.now()) };
    this.d.proposer
      .propose({ kind: 'v2Request', req })
      .catch((err: unknown) => this.d.log.debug('v2 TTL sync failed', { error: (err as Error).message }))
      .finally(() => {
        this.syncInFlight = false;
      });
  }

  // ---------------------------------------------------------------- keys

  clusterId(): bigint {
    return this.d.clusterId;
  }

  async do(req: V2Request): Promise<V2DoResponse> {
    const r = { ...req };
    if (r.method === 'GET' && r.quorum) r.method = 'QGET';
    const out: V2DoResponse = { term: 0, index: 0 };
    switch (r.method) {
      case 'POST':
      case 'PUT':
      case 'DELETE':
      case 'QGET': {
        const res = await this.d.proposer.propose({ kind: 'v2Request', req: r });
        const event = unwrap(res);
        if (event !== undefined) out.event = event;
        break;
      }
      case 'GET':
        if (r.wait) out.watcher = this.store.watch(r.path, r.recursive, r.stream, r.since);
        else out.event = this.store.get(r.path, r.recursive, r.sorted, nsFromMs(this.d.clock.now()));
        break;
      case 'HEAD':
        out.event = this.store.get(r.path, r.recursive, r.sorted, nsFromMs(this.d.clock.now()));
        break;
      default:
        throw unknownMethod();
    }
    out.term = this.d.state.term;
    out.index = this.d.state.commitIndex;
    return out;
  }

  // ---------------------------------------------------------------- members

  members(): MemberRecord[] {
    return this.d.membership.list();
  }

  member(id: bigint): MemberRecord | undefined {
    return this.d.membership.get(id);
  }

  leader(): bigint {
    return this.d.state.leader;
  }

  async addMember(peerUrls: string[]): Promise<MemberRecord> {
    try {
      return (await this.d.cluster.add(peerUrls, false)).member;
    } catch (err) {
      throw this.memberError(err, 0n);
    }
  }

  async removeMember(id: bigint): Promise<void> {
    try {
      await this.d.cluster.remove(id);
    } catch (err) {
      throw this.memberError(err, id);
    }
  }

  async updateMember(id: bigint, peerUrls: string[]): Promise<void> {
    try {
      await this.d.cluster.update(id, peerUrls);
    } catch (err) {
      throw this.memberError(err, id);
    }
  }

  /** etcd's members handler answers membership refusals with these statuses and texts. */
  private memberError(err: unknown, id: bigint): unknown {
    if (!(err instanceof ServerError)) return err;
    const hex = id.toString(16);
    switch (err.message) {
      case 'etcdserver: member ID already exist':
        return new V2HttpError(409, 'membership: ID exists');
      case 'etcdserver: Peer URLs already exists':
        return new V2HttpError(409, 'membership: peerURL exists');
      case Errors.memberNotFound().message:
        return this.d.membership.isRemoved(id)
          ? new V2HttpError(410, `Member permanently removed: ${hex}`)
          : new V2HttpError(404, `No such member: ${hex}`);
      default:
        return err;
    }
  }

  // ---------------------------------------------------------------- stats

  selfStats(): string {
    const d = this.d;
    const now = d.clock.now();
    const state = d.state.isLeader ? 'StateLeader' : 'StateFollower';
    const leader = d.state.leader === 0n ? '0' : d.state.leader.toString(16);
    return (
      `{"name":${goJsonString(d.name)},"id":"${d.memberId.toString(16)}","state":"${state}",` +
      `"startTime":"${formatGoTime(nsFromMs(this.startMs))}",` +
      `"leaderInfo":{"leader":"${leader}","uptime":"${formatDuration((now - this.leaderSinceMs) * 1e6)}",` +
      `"startTime":"${formatGoTime(nsFromMs(this.leaderSinceMs))}"},` +
      '"recvAppendRequestCnt":0,"sendAppendRequestCnt":0}'
    );
  }

  leaderStats(): string | undefined {
    if (!this.d.state.isLeader) return undefined;
    // Send latencies are not measured: each follower shows the state etcd starts it with.
    const followers = this.d
      .peerIds()
      .map(
        (id) =>
          `"${id.toString(16)}":{"latency":{"current":0,"average":0,"standardDeviation":0,` +
          '"minimum":9223372036854775808,"maximum":0},"counts":{"fail":0,"success":0}}',
      );
    return `{"leader":"${this.d.memberId.toString(16)}","followers":{${followers.join(',')}}}`;
  }

  storeStats(): string {
    return this.store.statsJson();
  }
}

function unknownMethod(): ServerError {
  return new ServerError(2, 'etcdserver: unknown method');
}

function unwrap(res: V2ApplyResult) {
  switch (res.kind) {
    case 'event':
      return res.event;
    case 'error':
      throw res.error;
    case 'none':
      return undefined;
    case 'unknownMethod':
      throw unknownMethod();
  }
}
