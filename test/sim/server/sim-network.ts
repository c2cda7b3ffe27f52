// The simulated network between whole members: raft messages go through the
// real wire codec (encode → bytes → decode, as etcd's peer protocol carries
// them), with seeded drops, duplicates, delays (hence reordering) and
// partitions, symmetric or one-way. A follower's lease calls to the leader
// travel the same way. Messages of a crashed incarnation are dropped.
import type { LeaseTimeToLiveRequest, LeaseTimeToLiveResponse } from '../../../src/pb/etcdserverpb/rpc.js';
import type { RaftHost } from '../../../src/peer/context.js';
import { fromWire, toWire } from '../../../src/peer/read-index-shape.js';
import type { SnapshotSource } from '../../../src/peer/transport.js';
import { decodeMessage, encodeMessage } from '../../../src/peer/wire/raftpb.js';
import { type Message, MessageType } from '../../../src/raft/types.js';
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
  leases: LeaderLeaseApi | undefined;
}

/** Thrown to a caller whose request could not reach the other side (etcd's forwarder sees a transport error). */
export class Unreachable extends Error {}

export class SimNetwork {
  private readonly endpoints = new Map<bigint, Endpoint>();
  /** Cut links: from → the members it cannot reach (bigint keys: no string per message). */
  private readonly cuts = new Map<bigint, Set<bigint>>();
  faults: NetFaults = CALM;
  delivered = 0;
  dropped = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly random: () => number,
    /** Member id of a peer URL (the sim's members advertise made-up URLs). */
    private readonly idOfUrl: (url: string) => bigint | undefined,
  ) {}

  /** The network factory for one incarnation of member `id`. */
  factoryFor(id: bigint, incarnation: number, leases: () => LeaderLeaseApi | undefined): NetworkFactory {
    return (host: RaftHost, _snapshots: SnapshotSource): MemberNetwork => {
      const ep: Endpoint = { incarnation, alive: true, host, leases: undefined };
      this.endpoints.set(id, ep);
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
    const peers = new Set<bigint>();
    return {
      send: (messages) => {
        for (const m of messages) {
          if (!ep.alive || !peers.has(m.to)) continue;
          this.post(self, m);
        }
      },
      addPeer: (id) => {
        peers.add(id);
      },
      removePeer: (id) => {
        peers.delete(id);
      },
      updatePeer: () => undefined,
      peerIds: () => [...peers],
      activeSince: (id) => (this.cut(self, id) || this.cut(id, self) ? undefined : 0),
      stop: () => {
        peers.clear();
      },
    };
  }

  /** One message on the wire: encoded, maybe dropped, maybe twice, after a delay. */
  private post(from: bigint, m: Message): void {
    if (m.type === MessageType.Snap) {
      // Snapshot transfer is not simulated yet: raft sees it fail and retries later.
      this.clock.soon(() => this.endpoints.get(from)?.host.reportSnapshot(m.to, false));
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
        try {
          target.host.process(fromWire(decodeMessage(bytes)));
        } catch {
          // a removed sender, or a message raft refuses: etcd answers 500 and drops it too
        }
      });
    }
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
