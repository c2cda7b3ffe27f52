// Simulated watchers: each opens a watch stream on a member, from a chosen
// revision, over the whole key space, and records every event until its
// member dies. The check: what a watcher saw is exactly the store's history
// from its start revision on — in order, without a gap, without a duplicate —
// for as long as it lived (a prefix).

import { WatchCreateRequest } from '../../../src/pb/etcdserverpb/rpc.js';
import { Event_EventType } from '../../../src/pb/mvccpb/kv.js';
import type { WatchStream } from '../../../src/watch/index.js';
import type { Version } from './history.js';

export interface WatchedEvent {
  type: 'put' | 'delete';
  key: string;
  modRev: number;
  value: string;
  lease: bigint;
}

/** The whole key space (etcd's "\0" range end: every key from `key` on). */
const ALL = { key: Buffer.from([0]), rangeEnd: Buffer.from([0]) };

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
    private readonly range: { key: Buffer; rangeEnd: Buffer } = ALL,
  ) {}

  attach(open: (onReadable: () => void) => WatchStream): void {
    const stream = open(() => this.drain());
    this.stream = stream;
    stream.create(WatchCreateRequest.fromPartial({ ...this.range, startRevision: this.startRevision }));
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
        const e: WatchedEvent = {
          type: ev.type === Event_EventType.DELETE ? 'delete' : 'put',
          key: Buffer.from(kv.key).toString(),
          modRev: Number(kv.modRevision),
          value: Buffer.from(kv.value).toString(),
          lease: kv.lease,
        };
        this.events.push(e);
        if (this.duplicate && this.events.length === 3) this.events.push(e);
      }
    }
  }
}

/**
 * Every watcher's events against the store's history (`all`: every event, in
 * revision order): from its start revision on, a prefix of it — in order, no
 * gap, no duplicate.
 */
export function checkWatchers(watchers: readonly SimWatcher[], all: readonly WatchedEvent[]): string[] {
  const problems: string[] = [];
  for (const w of watchers) {
    if (w.canceled !== '') continue; // e.g. a start revision the member had not reached: no events promised
    const expected = all.filter((e) => e.modRev >= w.startRevision);
    for (let i = 0; i < w.events.length; i++) {
      const got = w.events[i]!;
      const want = expected[i];
      if (
        want === undefined ||
        got.type !== want.type ||
        got.modRev !== want.modRev ||
        got.key !== want.key ||
        got.value !== want.value
      ) {
        problems.push(
          `watcher on ${w.member} from ${w.startRevision}: event ${i} is ${got.type} ${got.key}@${got.modRev}, history has ${want === undefined ? 'nothing' : `${want.type} ${want.key}@${want.modRev}`}`,
        );
        break;
      }
    }
  }
  return problems;
}

/** The compare-and-swap keys' history as watch events, merged with other events (e.g. lease keys'), by revision. */
export function allEvents(
  history: ReadonlyMap<string, Version[]>,
  others: readonly WatchedEvent[],
): WatchedEvent[] {
  const all: WatchedEvent[] = [...others];
  for (const [key, versions] of history) {
    for (const v of versions)
      all.push({ type: 'put', key, modRev: v.modRev, value: v.value ?? '', lease: 0n });
  }
  return all.sort((a, b) => a.modRev - b.modRev || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
