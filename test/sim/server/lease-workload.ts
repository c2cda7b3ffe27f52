// Simulated lease clients: each grants a lease (TTL of a few seconds), puts a
// key of its own on it, keeps it alive for a while (keep-alives go through a
// follower's forwarder to the leader when the client talks to a follower),
// checks the key is still there while the lease must still be alive, then
// revokes it or abandons it to expiry by virtual time. Lease keys live under
// "l/", apart from the compare-and-swap keys ("k"), whose checker assumes no
// deletes.
//
// Checks:
//  - no early expiry: a linearizable read that started and ended before
//    (send time of the last acknowledged keep-alive or grant) + TTL, with some
//    margin for clock rates, still finds the key on its lease;
//  - (with the members' lease events, see checkLeaseEvents) expiry and revoke
//    delete the same keys at the same revision on every member.
import {
  LeaseGrantRequest,
  type LeaseGrantResponse,
  type LeaseKeepAliveResponse,
  LeaseRevokeRequest,
  type LeaseRevokeResponse,
  type PutRequest,
  type PutResponse,
  RangeRequest,
  type RangeResponse,
} from '../../../src/pb/etcdserverpb/rpc.js';
import { type Clock, withTimeout } from '../../../src/runtime/clock.js';
import type { WatchedEvent } from './watchers.js';

export const LEASE_PREFIX = 'l/';

/** A member's lease API as the gRPC services expose it. */
export interface SimLeaseApi {
  grant(req: LeaseGrantRequest): Promise<LeaseGrantResponse>;
  revoke(req: LeaseRevokeRequest): Promise<LeaseRevokeResponse>;
  keepAlive(id: bigint): Promise<LeaseKeepAliveResponse>;
  put(req: PutRequest): Promise<PutResponse>;
  range(req: RangeRequest): Promise<RangeResponse>;
}

export interface LeaseWorkloadOptions {
  clients: number;
  timeoutMs: number;
  /** Fraction of a TTL kept as margin for clock rates and the leader's expiry granularity. */
  marginRatio: number;
}

export class LeaseWorkload {
  readonly problems: string[] = [];
  granted = 0;
  keepAlives = 0;
  revoked = 0;
  readsChecked = 0;
  private stopped = false;
  private running: Promise<void>[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly random: () => number,
    private readonly o: LeaseWorkloadOptions,
    private readonly pickMember: () => SimLeaseApi | undefined,
  ) {}

  start(): void {
    for (let c = 0; c < this.o.clients; c++) this.running.push(this.client(c));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.after(ms, resolve));
  }

  private call<T>(p: Promise<T>): Promise<T> {
    return withTimeout(this.clock, p, this.o.timeoutMs, () => new Error('timeout'));
  }

  private async client(c: number): Promise<void> {
    let seq = 0;
    while (!this.stopped) {
      const api = this.pickMember();
      if (api === undefined) {
        await this.pause(100);
        continue;
      }
      try {
        await this.oneLease(c, seq++, api);
      } catch {
        // a failed call says nothing; the next lease starts afresh
      }
      await this.pause(50 + Math.floor(this.random() * 300));
    }
  }

  private async oneLease(c: number, seq: number, first: SimLeaseApi): Promise<void> {
    const ttl = 2 + Math.floor(this.random() * 4);
    const sentAt = this.clock.monotonic();
    const g = await this.call(first.grant(LeaseGrantRequest.fromPartial({ TTL: ttl })));
    this.granted++;
    const id = g.ID;
    /** The lease is alive at least until then (virtual ms), by the last acknowledged renewal. */
    let aliveUntil = sentAt + g.TTL * 1000 * (1 - this.o.marginRatio);
    const key = `${LEASE_PREFIX}${c}/${seq}`;
    await this.call(
      first.put({
        key: Buffer.from(key),
        value: Buffer.from(`${id}`),
        lease: id,
        prevKv: false,
        ignoreValue: false,
        ignoreLease: false,
      }),
    );
    const rounds = Math.floor(this.random() * 6);
    for (let r = 0; r < rounds && !this.stopped; r++) {
      await this.pause(200 + Math.floor(this.random() * ttl * 600));
      const api = this.pickMember();
      if (api === undefined) continue;
      if (this.random() < 0.6) {
        const sent = this.clock.monotonic();
        try {
          const ka = await this.call(api.keepAlive(id));
          if (ka.TTL > 0) {
            this.keepAlives++;
            aliveUntil = Math.max(aliveUntil, sent + ka.TTL * 1000 * (1 - this.o.marginRatio));
          }
        } catch {
          // no answer: the lease may expire; nothing to check
        }
      } else {
        await this.checkAlive(api, key, id, aliveUntil);
      }
    }
    // The most telling moment: shortly before the lease may expire, the key must still be there.
    const before = aliveUntil - 200 - Math.floor(this.random() * 600) - this.clock.monotonic();
    if (before > 0 && !this.stopped) {
      await this.pause(before);
      const api = this.pickMember();
      if (api !== undefined) await this.checkAlive(api, key, id, aliveUntil);
    }
    if (this.random() < 0.5) {
      const api = this.pickMember();
      if (api !== undefined) {
        await this.call(api.revoke(LeaseRevokeRequest.fromPartial({ ID: id })));
        this.revoked++;
      }
    }
  }

  /** A linearizable read inside the lease's guaranteed life must find the key on the lease. */
  private async checkAlive(api: SimLeaseApi, key: string, id: bigint, aliveUntil: number): Promise<void> {
    const start = this.clock.monotonic();
    let r: RangeResponse;
    try {
      r = await this.call(api.range(RangeRequest.fromPartial({ key: Buffer.from(key) })));
    } catch {
      return;
    }
    const end = this.clock.monotonic();
    if (start >= aliveUntil || end >= aliveUntil) return;
    this.readsChecked++;
    const kv = r.kvs[0];
    if (kv === undefined || kv.lease !== id) {
      this.problems.push(
        `lease ${id.toString(16)} expired early: ${key} ${kv === undefined ? 'gone' : `on lease ${kv.lease.toString(16)}`} at t=${start}..${end}, alive until at least t=${Math.floor(aliveUntil)}`,
      );
    }
  }
}

/** Every member's lease-key events must be the same: same keys deleted at the same revision. */
export function checkLeaseEvents(perMember: ReadonlyMap<string, readonly WatchedEvent[]>): string[] {
  const entries = [...perMember];
  const first = entries[0];
  if (first === undefined) return [];
  const fmt = (e: WatchedEvent | undefined) =>
    e === undefined ? 'nothing' : `${e.type} ${e.key}@${e.modRev} lease ${e.lease.toString(16)}`;
  const problems: string[] = [];
  for (const [name, events] of entries.slice(1)) {
    const n = Math.max(events.length, first[1].length);
    for (let i = 0; i < n; i++) {
      const a = first[1][i];
      const b = events[i];
      if (a?.type !== b?.type || a?.key !== b?.key || a?.modRev !== b?.modRev || a?.lease !== b?.lease) {
        problems.push(`lease keys differ: ${first[0]} has ${fmt(a)}, ${name} has ${fmt(b)} (event ${i})`);
        break;
      }
    }
  }
  return problems;
}
