// The simulated network between whole members: raft messages go through the
// real wire codec (encode → bytes → decode, as etcd's peer protocol carries
// them), with seeded drops, duplicates, delays (hence reordering) and
// partitions, symmetric or one-way. A follower's lease calls to the leader
// travel the same way. Messages of a crashed incarnation are dropped.

import { Readable } from 'node:stream';
import type { LeaseTimeToLiveRequest, LeaseTimeToLiveResponse } from '../../../src/pb/etcdserverpb/rpc.js';
import type { RemoteCluster } from '../../../src/peer/cluster-info.js';
import { type RaftHost, RemovedMemberError } from '../../../src/peer/context.js';
import type { SnapshotReceiver } from '../../../src/peer/raft-handler.js';
import { fromWire, toWire } from '../../../src/peer/read-index-shape.js';
import type { SnapshotSource } from '../../../src/peer/transport.js';
import { decodeMessage, encodeMessage } from '../../../src/peer/wire/raftpb.js';
import { type Message, MessageType } from '../../../src/raft/types.js';
import { withTimeout } from '../../../src/runtime/clock.js';
import type {
  LeaderForwarder,
  MemberNetwork,
  MemberTransport,
  NetworkFactory,
  PeerQueries,
} from '../../../src/server/member-network.js';
import type { LeaderLeaseApi } from '../../../src/server/member-peers.js';
import type { VirtualClock } from './virtual-clock.js';

export interface NetFaults {
  dropRate: number;
  duplicateRate: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export const CALM: NetFaults = { dropRate: 0, duplicateRate: 0, minDelayMs: 1, maxDelayMs: 3 };

interface Endpoint {
  incarnation: number;
  alive: boolean;
  host: RaftHost;
  snapshots: SnapshotSource & SnapshotReceiver;
  /** What GET /members answers on this member (undefined until it runs). */
  cluster: () => RemoteCluster | undefined;
  /** Peers of the membership this member applied. */
  peers: Set<bigint>;
  /**
   * Senders it heard from but does not know yet (etcd's rafthttp "remotes", learned from a
   * request's X-PeerURLs): a member behind the membership can still answer a newer leader.
   */
  remotes: Set<bigint>;
  leases: LeaderLeaseApi | undefined;
}

/** How long a snapshot POST may take before the sender gives up. */
const SNAPSHOT_POST_TIMEOUT_MS = 10_000;

/** Thrown to a caller whose request could not reach the other side (etcd's forwarder sees a transport error). */
export class Unreachable extends Error {}

export class SimNetwork {
  private readonly endpoints = new Map<bigint, Endpoint>();
  /** Cut links: from → the members it cannot reach (bigint keys: no string per message). */
  private readonly cuts = new Map<bigint, Set<bigint>>();
  faults: NetFaults = CALM;
  delivered = 0;
  dropped = 0;
  snapshotsDelivered = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly random: () => number,
    /** Member id of a peer URL (the sim's members advertise made-up URLs). */
    private readonly idOfUrl: (url: string) => bigint | undefined,
  ) {}

  /** The network factory for one incarnation of member `id`. */
  factoryFor(
    id: bigint,
    incarnation: number,
    leases: () => LeaderLeaseApi | undefined,
    cluster: () => RemoteCluster | undefined,
  ): NetworkFactory {
    return (host: RaftHost, snapshots: SnapshotSource & SnapshotReceiver): MemberNetwork => {
      const ep: Endpoint = {
        incarnation,
        alive: true,
        host,
        snapshots,
        cluster,
        peers: new Set(),
        remotes: new Set(),
        leases: undefined,
      };
      this.endpoints.set(id, ep);
      this.watchRemoval(id, ep);
      queueMicrotask(() => {
        ep.leases = leases();
      });
      return {
        transport: this.transport(id, ep),
        forwarder: this.forwarder(id, ep),
        queries: this.queries(id),
      };
    };
  }

  /**
   * etcd's stream readers dial every peer and a peer that removed the dialer answers 410 Gone,
   * so a removed member learns it even when nobody sends it anything (e.g. a newcomer that
   * adopted a stale id from a lagging peer's member list). Once a second, like a redial.
   */
  private watchRemoval(self: bigint, ep: Endpoint): void {
    const timer = this.clock.every(1000, () => {
      if (!ep.alive) return timer.cancel();
      for (const [id, other] of this.endpoints) {
        if (id === self || !other.alive || this.cut(self, id) || this.cut(id, self)) continue;
        if (other.host.isRemoved(self)) {
          timer.cancel();
          ep.host.removedByPeer(
            `the member has been permanently removed from the cluster (${self.toString(16)})`,
          );
          return;
        }
      }
    });
  }

  /** The incarnation crashed: nothing more goes out of it or into it. */
  kill(id: bigint): void {
    const ep = this.endpoints.get(id);
    if (ep !== undefined) ep.alive = false;
  }

  isolate(id: bigint, others: readonly bigint[]): void {
    for (const o of others) {
      if (o === id) continue;
      this.cutOneWay(id, o);
      this.cutOneWay(o, id);
    }
  }

  cutOneWay(from: bigint, to: bigint): void {
    let s = this.cuts.get(from);
    if (s === undefined) {
      s = new Set();
      this.cuts.set(from, s);
    }
    s.add(to);
  }

  heal(): void {
    this.cuts.clear();
  }

  private cut(from: bigint, to: bigint): boolean {
    return this.cuts.size > 0 && this.cuts.get(from)?.has(to) === true;
  }

  private delay(): number {
    const f = this.faults;
    return f.minDelayMs + Math.floor(this.random() * (f.maxDelayMs - f.minDelayMs + 1));
  }

  private transport(self: bigint, ep: Endpoint): MemberTransport {
    const { peers, remotes } = ep;
    return {
      send: (messages) => {
        for (const m of messages) {
          if (!ep.alive || !(peers.has(m.to) || remotes.has(m.to))) continue;
          this.post(self, m);
        }
      },
      addPeer: (id) => {
        peers.add(id);
        remotes.delete(id);
      },
      removePeer: (id) => {
        peers.delete(id);
        remotes.delete(id);
      },
      updatePeer: () => undefined,
      peerIds: () => [...peers],
      activeSince: (id) => (this.cut(self, id) || this.cut(id, self) ? undefined : 0),
      stop: () => {
        peers.clear();
        remotes.clear();
      },
    };
  }

  /** One message on the wire: encoded, maybe dropped, maybe twice, after a delay. */
  private post(from: bigint, m: Message): void {
    if (m.type === MessageType.Snap) {
      void this.sendSnapshot(from, m);
      return;
    }
    const bytes = encodeMessage(toWire(m));
    const copies = this.random() < this.faults.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      if (this.cut(from, m.to) || this.random() < this.faults.dropRate) {
        this.dropped++;
        continue;
      }
      this.clock.after(this.delay(), () => {
        const target = this.endpoints.get(m.to);
        if (target === undefined || !target.alive || this.cut(from, m.to)) {
          this.dropped++;
          return;
        }
        this.delivered++;
        if (!target.peers.has(from)) target.remotes.add(from);
        try {
          target.host.process(fromWire(decodeMessage(bytes)));
        } catch (err) {
          // A removed sender hears so (etcd answers 403/410 and the sender stops); any other
          // message raft refuses is dropped, as etcd's 500 drops it.
          const sender = this.endpoints.get(from);
          if (err instanceof RemovedMemberError && sender?.alive === true)
            sender.host.removedByPeer(err.message);
        }
      });
    }
  }

  /**
   * A raft snapshot, as etcd's snapshot POST carries it: the sender's merged snapshot (taken at
   * its applied index) with the database streamed behind it; the receiver saves the database
   * durably, then hands raft the message; the sender reports the outcome to its raft. Lost or
   * cut: raft hears of a failure and retries later.
   */
  private async sendSnapshot(from: bigint, m: Message): Promise<void> {
    const src = this.endpoints.get(from);
    if (src === undefined) return;
    const report = (ok: boolean) => {
      if (src.alive) src.host.reportSnapshot(m.to, ok);
    };
    try {
      const out = await src.snapshots.prepare(m);
      const chunks: Buffer[] = [];
      for await (const c of out.db) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const message = encodeMessage(toWire(out.message));
      if (!src.alive || this.cut(from, m.to) || this.random() < this.faults.dropRate) {
        this.dropped++;
        return report(false);
      }
      // The transfer takes its time (~100 MB/s), as a real one would.
      await new Promise<void>((resolve) =>
        this.clock.after(this.delay() + Math.ceil(body.length / 100_000), resolve),
      );
      const target = this.endpoints.get(m.to);
      if (target === undefined || !target.alive || this.cut(from, m.to)) {
        this.dropped++;
        return report(false);
      }
      const decoded = fromWire(decodeMessage(message));
      // A receiver that dies mid-transfer never answers (its disk never completes): the sender's
      // POST fails on its deadline, as etcd's does, and raft retries (a stuck "snapshot" state
      // otherwise: sweep seed 2005859).
      await withTimeout(
        this.clock,
        target.snapshots.saveDatabase(decoded, Readable.from([body])),
        SNAPSHOT_POST_TIMEOUT_MS,
        () => new Unreachable('snapshot POST timed out'),
      );
      if (!target.alive || this.endpoints.get(m.to) !== target) return report(false);
      this.delivered++;
      this.snapshotsDelivered++;
      target.host.process(decoded);
      report(true);
    } catch {
      report(false);
    }
  }

  /**
   * GET /members on the first of `urls` whose member runs (a newcomer asks before it has an id
   * of its own, so only the answering side's cuts apply), after a round trip, or a timeout.
   */
  clusterFromPeers(urls: readonly string[], timeoutMs: number): Promise<RemoteCluster> {
    return new Promise<RemoteCluster>((resolve, reject) => {
      const timer = this.clock.after(timeoutMs, () =>
        reject(new Unreachable('no peer answered GET /members')),
      );
      for (const u of urls) {
        const id = this.idOfUrl(u);
        const ep = id === undefined ? undefined : this.endpoints.get(id);
        if (ep === undefined || !ep.alive || ep.cluster() === undefined) continue;
        if (this.random() < this.faults.dropRate) return;
        this.clock.after(2 * this.delay(), () => {
          const answer = ep.alive ? ep.cluster() : undefined;
          if (answer === undefined) return;
          timer.cancel();
          resolve(answer);
        });
        return;
      }
    });
  }

  /** A request/response exchange with the leader's lessor, subject to the same faults. */
  private call<T>(
    from: bigint,
    urls: readonly string[],
    timeoutMs: number,
    fn: (api: LeaderLeaseApi) => Promise<T>,
  ): Promise<T> {
    const to = urls.map((u) => this.idOfUrl(u)).find((x) => x !== undefined);
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.after(timeoutMs, () => reject(new Unreachable('request timed out')));
      const fail = () => undefined; // the request is lost; the timer answers
      if (to === undefined || this.cut(from, to) || this.random() < this.faults.dropRate) return fail();
      this.clock.after(this.delay(), () => {
        const target = this.endpoints.get(to);
        if (target === undefined || !target.alive || target.leases === undefined) return fail();
        fn(target.leases).then(
          (v) => {
            if (this.cut(to, from)) return;
            this.clock.after(this.delay(), () => {
              timer.cancel();
              resolve(v);
            });
          },
          (err: unknown) => {
            if (this.cut(to, from)) return;
            this.clock.after(this.delay(), () => {
              timer.cancel();
              reject(err);
            });
          },
        );
      });
    });
  }

  /** GET /version, answered by a live member the message can reach (every member here is 3.4.23). */
  private queries(self: bigint): PeerQueries {
    return {
      version: (urls, timeoutMs) =>
        new Promise((resolve) => {
          const to = urls.map((u) => this.idOfUrl(u)).find((x) => x !== undefined);
          const timer = this.clock.after(timeoutMs, () => resolve(undefined));
          if (to === undefined || this.cut(self, to) || this.cut(to, self)) return;
          this.clock.after(2 * this.delay(), () => {
            const target = this.endpoints.get(to);
            if (target === undefined || !target.alive) return;
            timer.cancel();
            resolve({ server: '3.4.23', cluster: '3.4.0' });
          });
        }),
    };
  }

  private forwarder(self: bigint, ep: Endpoint): LeaderForwarder {
    return {
      renew: (urls, id, timeoutMs) => {
        if (!ep.alive) return Promise.reject(new Unreachable('member stopped'));
        return this.call(self, urls, timeoutMs, (api) => api.renewAsLeader(id));
      },
      timeToLive: (urls, req: LeaseTimeToLiveRequest, timeoutMs): Promise<LeaseTimeToLiveResponse> => {
        if (!ep.alive) return Promise.reject(new Unreachable('member stopped'));
        return this.call(self, urls, timeoutMs, (api) => api.timeToLiveAsLeader(req));
      },
      close: () => undefined,
    };
  }
}
