// etcdserverpb.Watch through the proxy, with coalescing: client watchers over
// the same interval share upstream watches (broadcasts). A watcher joins a
// broadcast that cannot make it miss events, else it gets a new one; when a
// new broadcast has caught up with an older one over the same interval, its
// receivers move there and its upstream watch is closed. So N clients watching
// one key from "now" cost the cluster one watcher.
import type { CallContext, ResponseSink, ServiceImplementation } from '../api/grpc/types.js';
import type { EtcdClient } from '../client/index.js';
import {
  RangeRequest,
  type WatchCreateRequest,
  type WatchDefinition,
  type WatchRequest,
  type WatchResponse,
} from '../pb/etcdserverpb/rpc.js';
import { asServerError, callerToken, upstreamOptions } from './forward.js';
import type { Namespace } from './namespace.js';
import type { ProxyMetrics } from './proxy-metrics.js';
import { Broadcast, type BroadcastOwner } from './watch-broadcast.js';
import { ProxyWatcher, validRange, watchRangeOf } from './watch-watcher.js';

/** etcd's limit: a broadcast this large is not moved into another. */
const MAX_COALESCE_RECEIVERS = 5;

export class WatchProxy implements BroadcastOwner {
  /** Broadcasts by watched interval (WatchRange.id). */
  private readonly groups = new Map<string, Set<Broadcast>>();
  private readonly home = new Map<ProxyWatcher, Broadcast>();

  constructor(
    readonly client: EtcdClient,
    readonly namespace: Namespace,
    readonly metrics: ProxyMetrics,
  ) {}

  add(w: ProxyWatcher, token: string | undefined): void {
    let group = this.groups.get(w.range.id);
    if (group === undefined) {
      group = new Set();
      this.groups.set(w.range.id, group);
    }
    for (const b of group) {
      if (b.tryJoin(w)) {
        this.home.set(w, b);
        this.recount();
        return;
      }
    }
    const b = new Broadcast(this, w.range, w, token);
    group.add(b);
    this.home.set(w, b);
    b.start();
  }

  remove(w: ProxyWatcher): void {
    const b = this.home.get(w);
    if (b === undefined) return;
    this.home.delete(w);
    b.receivers.delete(w);
    if (b.receivers.size === 0) this.drop(b);
    this.recount();
  }

  answered(b: Broadcast): void {
    if (b.receivers.size >= MAX_COALESCE_RECEIVERS) return;
    const group = this.groups.get(b.range.id);
    if (group === undefined) return;
    for (const other of group) {
      // `other` must have started and be no further than b, so it will deliver everything b's receivers need.
      if (other === b || other.answers === 0 || other.nextRevision > b.nextRevision) continue;
      for (const w of b.receivers) {
        other.receivers.add(w);
        this.home.set(w, other);
      }
      b.receivers.clear();
      this.drop(b);
      this.recount();
      return;
    }
  }

  ended(b: Broadcast): void {
    for (const w of b.receivers) this.home.delete(w);
    b.receivers.clear();
    this.drop(b);
    this.recount();
  }

  close(): void {
    for (const group of this.groups.values()) for (const b of group) b.stop();
    this.groups.clear();
    this.home.clear();
  }

  service(): ServiceImplementation<typeof WatchDefinition> {
    return {
      watch: (requests, sink, ctx) => new ClientWatchStream(this, sink, ctx).serve(requests),
    };
  }

  private drop(b: Broadcast): void {
    b.stop();
    const group = this.groups.get(b.range.id);
    group?.delete(b);
    if (group?.size === 0) this.groups.delete(b.range.id);
  }

  /** etcd's gauge: watchers riding on another watcher's upstream watch. */
  private recount(): void {
    let n = 0;
    for (const group of this.groups.values()) for (const b of group) n += Math.max(0, b.receivers.size - 1);
    this.metrics.watchersCoalescing = n;
  }
}

/** One client's Watch stream: its watchers (ids from 0, as etcd's proxy numbers them). */
class ClientWatchStream {
  private readonly watchers = new Map<number, ProxyWatcher>();
  private nextId = 0;

  constructor(
    private readonly proxy: WatchProxy,
    private readonly sink: ResponseSink<WatchResponse>,
    private readonly ctx: CallContext,
  ) {}

  async serve(requests: AsyncIterable<WatchRequest>): Promise<void> {
    try {
      for await (const req of requests) {
        const u = req.requestUnion;
        // Created answers must reach the client in the order of its requests (Go clients match them so).
        if (u?.$case === 'createRequest') await this.create(u.createRequest);
        else if (u?.$case === 'cancelRequest') this.cancel(u.cancelRequest.watchId);
        // Progress requests are not forwarded (neither does etcd 3.4's proxy).
      }
    } finally {
      for (const w of this.watchers.values()) {
        this.proxy.remove(w);
        w.abandon();
      }
      this.watchers.clear();
    }
  }

  private post = (r: WatchResponse): void => {
    if (!this.sink.ended) this.sink.write(r);
  };

  private async create(c: WatchCreateRequest): Promise<void> {
    const range = watchRangeOf(c);
    const refuse = (reason: string) =>
      this.post({
        header: { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 },
        watchId: -1,
        created: true,
        canceled: true,
        compactRevision: 0,
        cancelReason: reason,
        fragment: false,
        events: [],
      });
    if (!validRange(range)) return refuse('');
    const token = callerToken(this.ctx);
    if (token !== undefined) {
      const denied = await this.permissionProblem(c);
      if (denied !== undefined) return refuse(denied);
    }
    const id = this.nextId++;
    const w = new ProxyWatcher(id, range, c, this.post);
    w.onEnded = () => {
      this.watchers.delete(id);
    };
    this.watchers.set(id, w);
    this.proxy.add(w, token);
    await untilCreatedOrAborted(w.created, this.ctx.signal);
  }

  /** As etcd's proxy: the caller may watch what it may read (a count-only serializable range). */
  private async permissionProblem(c: WatchCreateRequest): Promise<string | undefined> {
    const everything = c.key.length === 0;
    const ns = this.proxy.namespace;
    const key = everything ? Buffer.from([0]) : c.key;
    const rangeEnd = everything ? Buffer.from([0]) : c.rangeEnd;
    const req = RangeRequest.fromPartial({ key, rangeEnd, serializable: true, countOnly: true, limit: 1 });
    try {
      await this.proxy.client.kv.range(ns.enabled ? ns.range(req) : req, upstreamOptions(this.ctx));
      return undefined;
    } catch (err) {
      return asServerError(err).message;
    }
  }

  private cancel(id: number): void {
    const w = this.watchers.get(id);
    if (w === undefined) return;
    this.watchers.delete(id);
    this.proxy.remove(w);
    w.abandon();
    this.post({
      header: w.lastHeader,
      watchId: id,
      created: false,
      canceled: true,
      compactRevision: 0,
      cancelReason: '',
      fragment: false,
      events: [],
    });
  }
}

/** Waits for the created answer, or for the call to end (then nothing will wait for it). */
async function untilCreatedOrAborted(created: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  let onAbort = () => {};
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve;
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([created, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
