// One upstream watch shared by every proxy watcher that can use it (etcd's
// watch broadcast). It always asks for prev_kv and progress notifications so
// any receiver can be served, remembers the next revision it will deliver,
// and when the upstream stream breaks (member restart, network) it watches
// again from that revision, so receivers neither miss nor repeat events.
import type { EtcdClient, TypedStream } from '../client/index.js';
import type { ResponseHeader, WatchRequest, WatchResponse } from '../pb/etcdserverpb/rpc.js';
import type { Namespace } from './namespace.js';
import type { ProxyMetrics } from './proxy-metrics.js';
import { isProgressNotify, type ProxyWatcher, type WatchRange } from './watch-watcher.js';

const RETRY_START_MS = 50;
const RETRY_MAX_MS = 1000;

export interface BroadcastOwner {
  readonly client: EtcdClient;
  readonly namespace: Namespace;
  readonly metrics: ProxyMetrics;
  /** Called after each upstream answer: the owner may merge this broadcast into another. */
  answered(b: Broadcast): void;
  /** Upstream ended the watch for good: the owner forgets the broadcast. */
  ended(b: Broadcast): void;
}

export class Broadcast {
  readonly receivers = new Set<ProxyWatcher>();
  /** Lowest revision not delivered yet; 0 while a current watch has not learnt "now". */
  nextRevision: number;
  /** Upstream answers so far (0: the upstream created answer has not come yet). */
  answers = 0;
  lastHeader: ResponseHeader | undefined;
  private stream: TypedStream<WatchRequest, WatchResponse> | undefined;
  private stopped = false;

  constructor(
    private readonly owner: BroadcastOwner,
    readonly range: WatchRange,
    first: ProxyWatcher,
    /** Credentials of the first watcher: the upstream watch runs on its behalf. */
    private readonly token: string | undefined,
  ) {
    this.nextRevision = first.nextRevision;
    this.receivers.add(first);
  }

  /**
   * Takes `w` if this watch cannot make it miss an event (etcd's rule): not
   * ahead of it, and not a current watch still waiting to learn "now" while
   * `w` starts at a fixed revision. Once the upstream watch exists, `w` gets
   * its created answer right away.
   */
  tryJoin(w: ProxyWatcher): boolean {
    if (this.stopped) return false;
    if (this.nextRevision > w.nextRevision || (this.nextRevision === 0 && w.nextRevision !== 0)) return false;
    this.receivers.add(w);
    if (this.answers > 0) w.announce(this.lastHeader);
    return true;
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.stream?.cancel();
  }

  private async run(): Promise<void> {
    let pause = RETRY_START_MS;
    const { client, namespace, metrics } = this.owner;
    while (!this.stopped) {
      let stream: TypedStream<WatchRequest, WatchResponse>;
      try {
        stream = await client.watch.watch({
          metadata: this.token === undefined ? {} : { token: this.token },
        });
      } catch {
        await sleep(pause);
        pause = Math.min(pause * 2, RETRY_MAX_MS);
        continue;
      }
      if (this.stopped) {
        stream.cancel();
        break;
      }
      this.stream = stream;
      const create = {
        key: this.range.key,
        rangeEnd: this.range.end,
        startRevision: this.nextRevision,
        progressNotify: true,
        prevKv: true,
      };
      stream.send({
        requestUnion: {
          $case: 'createRequest',
          createRequest: namespace.enabled
            ? namespace.watchCreate({ ...create, filters: [], watchId: 0, fragment: false })
            : create,
        },
      });
      metrics.upstreamWatches++;
      try {
        for await (const answer of stream) {
          pause = RETRY_START_MS;
          if (answer.canceled) {
            this.cancelled(answer);
            return;
          }
          this.deliver(namespace.enabled ? { ...answer, events: namespace.events(answer.events) } : answer);
          this.owner.answered(this);
        }
      } catch {
        // The stream broke; watch again from nextRevision below.
      } finally {
        metrics.upstreamWatches--;
        this.stream = undefined;
      }
      if (!this.stopped) await sleep(pause);
      pause = Math.min(pause * 2, RETRY_MAX_MS);
    }
  }

  private deliver(answer: WatchResponse): void {
    this.answers++;
    this.lastHeader = answer.header;
    const revision = answer.header?.revision ?? 0;
    if (answer.created) {
      // A current watch starts after "now"; one from a fixed revision still has that revision to come.
      if (this.nextRevision === 0) this.nextRevision = revision + 1;
    } else if (answer.events.length > 0) {
      const last = answer.events[answer.events.length - 1]?.kv?.modRevision ?? 0;
      if (last >= this.nextRevision) this.nextRevision = last + 1;
    } else if (isProgressNotify(answer) && revision >= this.nextRevision) {
      this.nextRevision = revision + 1;
    }
    let sent = 0;
    for (const w of this.receivers) if (w.deliver(answer)) sent++;
    if (answer.events.length > 0 && sent > 1) this.owner.metrics.eventsCoalescing += sent - 1;
  }

  private cancelled(answer: WatchResponse): void {
    this.stopped = true;
    for (const w of this.receivers) w.cancel(answer);
    this.owner.ended(this);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
