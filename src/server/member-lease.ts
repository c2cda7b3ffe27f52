// The Lease service's view of a member, and the leader's expiry loop.
// Grants and revokes go through raft (the lease stage applies them on every
// member); renewals and TTL queries are answered by the leader's lessor, whose
// clock is this process's monotonic time. Only the leader expires leases: it
// finds them every 500 ms and proposes revokes at etcd's rate (1000/s, at most
// 16 in flight), so every member deletes the attached keys at the same revision.

import type { AuthInfo } from '../auth/index.js';
import {
  EXPIRY_CHECK_INTERVAL_MS,
  LeaseError,
  type Lessor,
  MAX_PENDING_REVOKES,
  revokeLimitPerRound,
} from '../lease/index.js';
import type { Logger } from '../log/types.js';
import { asBuffer } from '../mvcc/types.js';
import type {
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
} from '../pb/etcdserverpb/rpc.js';
import { PeerHttpError } from '../peer/member-handler.js';
import type { Clock, Timer } from '../runtime/clock.js';
import { Errors } from './errors.js';
import type { MemberState } from './member-state.js';
import type { LeasePort } from './ports.js';
import type { Proposer } from './proposer.js';
import type { RequestIdGenerator } from './request-id.js';

const MAX_LEASE_ID = (1n << 63n) - 1n;

export interface MemberLeaseDeps {
  lessor: Lessor;
  state: MemberState;
  proposer: Proposer;
  ids: RequestIdGenerator;
  log: Logger;
  currentRevision(): number;
  /** Monotonic milliseconds. */
  nowMs(): number;
  clock: Clock;
  /** How long a new leader extends every lease (etcd: the election timeout). */
  promoteExtendMs: number;
  /** A follower's way to the leader's lessor (etcd's /leases on the peer port). */
  leader?: LeaderLessor;
  /** Whom the leader revokes expired leases as (etcd: root, while auth is on). */
  expiryRevoker?(): AuthInfo | undefined;
  /**
   * Resolves once a quorum has confirmed that this member leads (a read-index round of its own
   * term, raft still leading in that term afterwards), rejects otherwise. A leader renews and
   * expires leases only after it (see keepAlive and revokeExpired).
   */
  confirmLeadership?(): Promise<void>;
}

/** The leader's lessor as a follower reaches it; a lease the leader does not know is `undefined`. */
export interface LeaderLessor {
  renew(id: bigint): Promise<number | undefined>;
  timeToLive(req: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse | undefined>;
}

export class MemberLease implements LeasePort {
  private timer: Timer | undefined;
  private revokesInFlight = 0;
  private confirming = false;

  constructor(private readonly d: MemberLeaseDeps) {}

  start(): void {
    this.timer = this.d.clock.every(EXPIRY_CHECK_INTERVAL_MS, () => this.revokeExpired(), { unref: true });
  }

  stop(): void {
    this.timer?.cancel();
  }

  /** This member leads and has applied its term's first entry: leases may expire from now on. */
  promote(): void {
    this.d.lessor.promote(this.d.nowMs(), this.d.promoteExtendMs);
  }

  demote(): void {
    this.d.lessor.demote();
  }

  private header() {
    return this.d.state.header(this.d.currentRevision());
  }

  async grant(req: LeaseGrantRequest, who?: AuthInfo): Promise<LeaseGrantResponse> {
    let id = req.ID;
    // etcd picks a server id for ID 0 from its request id generator, kept positive.
    while (id === 0n) id = this.d.ids.next() & MAX_LEASE_ID;
    const r = await this.d.proposer.propose({ kind: 'leaseGrant', req: { ID: id, TTL: req.TTL } }, who);
    return { header: this.header(), ID: r.id, TTL: r.ttl, error: '' };
  }

  async revoke(req: LeaseRevokeRequest, who?: AuthInfo): Promise<LeaseRevokeResponse> {
    const r = await this.d.proposer.propose({ kind: 'leaseRevoke', req }, who);
    return { header: this.d.state.header(r.revision) };
  }

  async keepAlive(id: bigint): Promise<LeaseKeepAliveResponse> {
    if (!this.d.state.isLeader && this.d.leader !== undefined && this.d.state.hasLeader()) {
      const ttl = await this.d.leader.renew(id);
      return { header: this.header(), ID: id, TTL: ttl ?? 0 };
    }
    this.requireLeader();
    // A renewal never goes through raft: a deposed leader that has not heard of its successor
    // (its disk stalled, its messages lost) would renew on a lessor nobody else follows, and
    // the real leader would expire the lease early. Renew only once a quorum confirmed us
    // (etcd 3.4.23 renews at once; later etcd releases added the same check).
    if (this.d.confirmLeadership !== undefined) {
      await this.d.confirmLeadership();
      this.requireLeader();
    }
    let ttl: number;
    try {
      ttl = this.d.lessor.renew(id, this.d.nowMs());
    } catch (err) {
      if (!(err instanceof LeaseError) || (err.code !== 'lease-not-found' && err.code !== 'lease-expired')) {
        throw err;
      }
      ttl = 0;
    }
    return { header: this.header(), ID: id, TTL: ttl };
  }

  async timeToLive(req: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse> {
    if (!this.d.state.isLeader && this.d.leader !== undefined && this.d.state.hasLeader()) {
      const r = await this.d.leader.timeToLive(req);
      if (r !== undefined) return { ...r, header: this.header() };
      return { header: this.header(), ID: req.ID, TTL: -1, grantedTTL: 0, keys: [] };
    }
    try {
      const t = this.d.lessor.timeToLive(req.ID, this.d.nowMs(), req.keys);
      return {
        header: this.header(),
        ID: req.ID,
        TTL: t.ttl,
        grantedTTL: t.grantedTtl,
        keys: (t.keys ?? []).map(asBuffer),
      };
    } catch (err) {
      if (err instanceof LeaseError && err.code === 'lease-not-found') {
        return { header: this.header(), ID: req.ID, TTL: -1, grantedTTL: 0, keys: [] };
      }
      throw err;
    }
  }

  /** A keep-alive a follower forwarded to us (etcd's /leases handler). */
  async renewAsLeader(id: bigint): Promise<number> {
    if (!this.d.state.isLeader) throw new PeerHttpError(400, 'not a primary lessor');
    const r = await this.keepAlive(id);
    if (r.TTL <= 0) throw new PeerHttpError(404, 'lease not found');
    return r.TTL;
  }

  /** A time-to-live question a follower forwarded to us (etcd's /leases/internal handler). */
  async timeToLiveAsLeader(req: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse> {
    if (!this.d.state.isLeader) throw new PeerHttpError(400, 'not a primary lessor');
    const r = await this.timeToLive(req);
    if (r.TTL === -1) throw new PeerHttpError(404, 'lease not found');
    return r;
  }

  async leases(): Promise<LeaseLeasesResponse> {
    return { header: this.header(), leases: this.d.lessor.leases().map((ID) => ({ ID })) };
  }

  /** Without a way to the leader (or without a leader), only a leader can renew. */
  private requireLeader(): void {
    if (this.d.state.isLeader) return;
    throw this.d.state.hasLeader() ? Errors.notLeader() : Errors.noLeader();
  }

  private revokeExpired(): void {
    if (!this.d.state.isLeader || this.confirming) return;
    const room = Math.min(revokeLimitPerRound(), MAX_PENDING_REVOKES - this.revokesInFlight);
    if (room <= 0) return;
    // The time is taken before leadership is confirmed: up to then every renewal was ours.
    const now = this.d.nowMs();
    if (!this.d.lessor.mayHaveExpired(now)) return;
    const confirm = this.d.confirmLeadership;
    if (confirm === undefined) {
      this.proposeRevokes(now, room);
      return;
    }
    // A deposed leader that has not processed its successor's term yet (its ready loop held by a
    // stalled disk) still has the lessor it led with, without the successor's renewals: its
    // revokes would delete leases early (and raft would forward them to the new leader). etcd
    // 3.5.13 added the same check (ensureLeadership before revoking).
    this.confirming = true;
    confirm()
      .then(
        () => this.proposeRevokes(now, room),
        (err: Error) =>
          this.d.log.debug('expired leases kept: leadership not confirmed', { error: err.message }),
      )
      .finally(() => {
        this.confirming = false;
      });
  }

  private proposeRevokes(now: number, room: number): void {
    for (const id of this.d.lessor.expired(now, room)) {
      this.revokesInFlight++;
      this.d.proposer
        .propose({ kind: 'leaseRevoke', req: { ID: id } }, this.d.expiryRevoker?.())
        .catch((err: Error) => {
          // The lessor reports the lease again after its retry interval.
          this.d.log.warn('failed to revoke expired lease', {
            'lease-id': id.toString(16),
            error: err.message,
          });
        })
        .finally(() => {
          this.revokesInFlight--;
        });
    }
  }
}
