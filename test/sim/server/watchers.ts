// Simulated watchers: each opens a watch stream on a member, from a chosen
// revision, over the whole key space, and records every event until its
// member dies. The check: what a watcher saw is exactly the store's history
// from its start revision on — in order, without a gap, without a duplicate —
// for as long as it lived (a prefix).
import { WatchCreateRequest } from '../../../src/pb/etcdserverpb/rpc.js';
import type { WatchStream } from '../../../src/watch/index.js';
import type { Version } from './history.js';

export interface WatchedEvent {
  key: string;
  modRev: number;
  value: string;
}

export class SimWatcher {
  readonly events: WatchedEvent[] = [];
  private stream: WatchStream | undefined;
  created = false;
  canceled = '';

  constructor(
    readonly member: string,
    readonly startRevision: number,
    /** Sabotage: deliver one event twice (the checker must notice). */
    private readonly duplicate = false,
  ) {}

  attach(open: (onReadable: () => void) => WatchStream): void {
    const stream = open(() => this.drain());
    this.stream = stream;
    stream.create(
      WatchCreateRequest.fromPartial({
        key: Buffer.from([0]),
        rangeEnd: Buffer.from([0]),
        startRevision: this.startRevision,
      }),
    );
    this.drain();
  }

  private drain(): void {
    const s = this.stream;
    if (s === undefined) return;
    for (const resp of s.take()) {
      if (resp.created) this.created = true;
      if (resp.canceled) this.canceled = resp.cancelReason || 'canceled';
      for (const ev of resp.events) {
        const kv = ev.kv;
        if (kv === undefined) continue;
        const e = {
          key: Buffer.from(kv.key).toString(),
          modRev: Number(kv.modRevision),
          value: Buffer.from(kv.value).toString(),
        };
        this.events.push(e);
        if (this.duplicate && this.events.length === 3) this.events.push(e);
      }
    }
  }
}

/** Every watcher's events against the history (all keys; one key changes per revision in this workload). */
export function checkWatchers(
  watchers: readonly SimWatcher[],
  history: ReadonlyMap<string, Version[]>,
): string[] {
  const all: WatchedEvent[] = [];
  for (const [key, versions] of history) {
    for (const v of versions) all.push({ key, modRev: v.modRev, value: v.value ?? '' });
  }
  all.sort((a, b) => a.modRev - b.modRev);
  const problems: string[] = [];
  for (const w of watchers) {
    if (w.canceled !== '') continue; // e.g. a start revision the member had not reached: no events promised
    const expected = all.filter((e) => e.modRev >= w.startRevision);
    for (let i = 0; i < w.events.length; i++) {
      const got = w.events[i]!;
      const want = expected[i];
      if (
        want === undefined ||
        got.modRev !== want.modRev ||
        got.key !== want.key ||
        got.value !== want.value
      ) {
        problems.push(
          `watcher on ${w.member} from ${w.startRevision}: event ${i} is ${got.key}@${got.modRev}, history has ${want === undefined ? 'nothing' : `${want.key}@${want.modRev}`}`,
        );
        break;
      }
    }
  }
  return problems;
}
