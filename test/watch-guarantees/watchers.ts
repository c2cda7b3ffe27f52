// Live watchers: Watch streams on a few connections, several watchers per
// stream, created at random times with random ranges, start revisions and
// options; when a stream breaks (the member was killed or stopped) every
// watcher on it is re-created on a new stream from the revision after the last
// event it received, as clientv3 does. Everything received is recorded for the
// checker; nothing is judged here.
import type { WatchResponse } from '../../src/pb/etcdserverpb/rpc.js';
import { Event_EventType, type KeyValue, type Event as PbEvent } from '../../src/pb/mvccpb/kv.js';
import { sleep } from '../integration/harness.js';
import type { History } from './history.js';
import { KEY_COUNT, KEYS, type Kv, PREFIX, prefixEnd } from './model.js';
import type { Filter, Incarnation, RecvEvent, RecvResponse, WatcherRecord, WatcherSpec } from './records.js';
import type { Rng } from './rng.js';
import { type Connection, errorCode, errorText, rangeEndBytes, type WatchCall } from './rpc.js';

export function planWatchers(r: Rng, count: number, slots: number, durationMs: number): WatcherSpec[] {
  const specs: WatcherSpec[] = [];
  for (let id = 0; id < count; id++) {
    const x = r.next();
    let range: WatcherSpec['range'];
    if (x < 0.3) range = { key: r.pick(KEYS), end: '' };
    else if (x < 0.6) {
      const p = r.pick([PREFIX, `${PREFIX}k0`, `${PREFIX}k1`]);
      range = { key: p, end: prefixEnd(p) };
    } else if (x < 0.85) {
      const a = r.int(0, KEY_COUNT - 2);
      range = { key: KEYS[a]!, end: KEYS[r.int(a + 1, KEY_COUNT - 1)]! };
    } else range = { key: r.pick(KEYS), end: '\0' };
    const s = r.next();
    const f = r.next();
    const filters: Filter[] =
      f < 0.1 ? ['NOPUT'] : f < 0.25 ? ['NODELETE'] : f < 0.28 ? ['NOPUT', 'NODELETE'] : [];
    // The first few exist from the start; the rest come at random times.
    const createAtMs = id < 4 ? 0 : Math.floor(r.next() * durationMs * 0.8);
    const cancel = r.chance(0.1) ? createAtMs + Math.floor(r.next() * (durationMs - createAtMs)) : undefined;
    const prevKv = r.chance(0.35);
    const fragment = r.chance(0.3);
    const slot = r.int(0, slots - 1);
    if (id === 4 || id === 5) {
      // Two late watchers of everything from the oldest revision still in
      // history: large catch-up responses (fragmented for the first).
      specs.push({
        id,
        range: { key: PREFIX, end: prefixEnd(PREFIX) },
        start: 'oldest',
        prevKv: true,
        filters: [],
        fragment: id === 4,
        slot,
        createAtMs: Math.floor(durationMs * (id === 4 ? 0.65 : 0.75)),
      });
      continue;
    }
    specs.push({
      id,
      range,
      start: s < 0.4 ? 'now' : s < 0.82 ? 'past' : 'compacted',
      prevKv,
      filters,
      fragment,
      slot,
      createAtMs,
      ...(cancel === undefined ? {} : { cancelAtMs: cancel }),
    });
  }
  return specs;
}

const MAX_REPLACEMENTS = 40;

/** Opens when the member is serving; closed around kills and restarts. */
export class Gate {
  private open = false;
  private waiters: (() => void)[] = [];

  get isOpen(): boolean {
    return this.open;
  }

  set(open: boolean): void {
    this.open = open;
    if (open) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }

  wait(): Promise<void> {
    if (this.open) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

interface Live {
  rec: WatcherRecord;
  rng: Rng;
  done: boolean;
  /** The open incarnation, if any. */
  inc: Incarnation | undefined;
  lastEventRev: number;
  effStart: number | undefined;
  cancelWanted: boolean;
}

interface Slot {
  index: number;
  label: string;
  conn: Connection;
  call: WatchCall | undefined;
  generation: number;
  pending: Live[];
  byId: Map<number, Live>;
  frags: Map<number, WatchResponse[]>;
  /**
   * Ids whose compaction cancel crossed the client's own cancel on the wire. etcd keeps a
   * compacted watcher's id until the client cancels it, so that cancel still gets one
   * `canceled` answer (etcd 3.4's recvLoop answers every successful Cancel).
   */
  crossedCancels: Set<number>;
}

export interface StreamEnd {
  at: number;
  slot: string;
  error: string;
  code: number | undefined;
  /** The member was meant to be serving when the stream ended. */
  serverUp: boolean;
}

function toKv(kv: KeyValue | undefined): Kv {
  return {
    key: kv?.key.toString('latin1') ?? '',
    value: kv?.value.toString('latin1') ?? '',
    createRevision: kv?.createRevision ?? 0,
    modRevision: kv?.modRevision ?? 0,
    version: kv?.version ?? 0,
  };
}

function toEvent(e: PbEvent): RecvEvent {
  const type =
    e.type === Event_EventType.PUT ? 'PUT' : e.type === Event_EventType.DELETE ? 'DELETE' : `type ${e.type}`;
  const ev: RecvEvent = { type, kv: toKv(e.kv), lease: e.kv?.lease ?? 0n };
  if (e.prevKv !== undefined) {
    ev.prev = toKv(e.prevKv);
    ev.prevLease = e.prevKv.lease;
  }
  return ev;
}

export class WatchManager {
  readonly records: WatcherRecord[] = [];
  readonly streamEnds: StreamEnd[] = [];
  /** Wire-level anomalies (responses nobody asked for). */
  readonly protocol: string[] = [];
  readonly gate = new Gate();
  fatal: string | undefined;
  progressRequests = 0;
  broadcastProgress = 0;
  /** Watchers added to replace ones canceled by a compaction. */
  replacements = 0;
  private nextId = 0;
  private readonly slots: Slot[];
  private readonly live: Live[] = [];
  private closed = false;

  constructor(
    conns: Connection[],
    streamsPerConn: number,
    private readonly history: History,
  ) {
    this.slots = [];
    conns.forEach((conn, c) => {
      for (let s = 0; s < streamsPerConn; s++) {
        this.slots.push({
          index: this.slots.length,
          label: `conn${c}/stream${s}`,
          conn,
          call: undefined,
          generation: 0,
          pending: [],
          byId: new Map(),
          frags: new Map(),
          crossedCancels: new Set(),
        });
      }
    });
  }

  get slotCount(): number {
    return this.slots.length;
  }

  /** Opens every stream (the member must be up). */
  start(): void {
    this.gate.set(true);
    for (const s of this.slots) this.open(s);
  }

  /** After a restart: creates the watchers that wait for an incarnation on streams that are up. */
  resume(): void {
    for (const s of this.slots) {
      if (s.call === undefined || s.call.ended) continue;
      for (const w of this.live) {
        if (!w.done && w.inc === undefined && w.rec.spec.slot === s.index) this.create(w, s);
      }
    }
  }

  private open(slot: Slot): void {
    if (this.closed) return;
    slot.generation++;
    const gen = slot.generation;
    slot.call = slot.conn.watch(
      (r) => {
        if (slot.generation === gen) this.onResponse(slot, r);
      },
      (err) => {
        if (slot.generation === gen) this.onEnd(slot, err);
      },
    );
    for (const w of this.live) {
      if (!w.done && w.inc === undefined && w.rec.spec.slot === slot.index) this.create(w, slot);
    }
  }

  /** Adds a watcher now (its create goes out when its stream is up). */
  add(spec: WatcherSpec, rng: Rng): void {
    this.nextId = Math.max(this.nextId, spec.id + 1);
    const rec: WatcherRecord = { spec, initialStart: -1, incarnations: [], progress: [] };
    this.records.push(rec);
    const w: Live = {
      rec,
      rng,
      done: false,
      inc: undefined,
      lastEventRev: 0,
      effStart: undefined,
      cancelWanted: false,
    };
    this.live.push(w);
    const slot = this.slots[spec.slot]!;
    if (slot.call !== undefined && !slot.call.ended && this.gate.isOpen) this.create(w, slot);
  }

  private initialStart(w: Live): number {
    const spec = w.rec.spec;
    if (spec.after !== undefined) return spec.after.compactRevision;
    const hi = this.history.contiguous();
    const compLo = this.history.compactedAtLeast();
    const compHi = this.history.compactedAtMost();
    if (spec.start === 'compacted' && compLo > 1) return w.rng.int(1, compLo - 1);
    if (spec.start === 'now') return 0;
    if (spec.start === 'oldest') return Math.min(Math.max(compHi, 1), hi);
    return w.rng.int(Math.min(Math.max(compHi, 1), hi), hi);
  }

  private create(w: Live, slot: Slot): void {
    const call = slot.call;
    if (call === undefined || call.ended) return;
    if (w.rec.initialStart < 0) w.rec.initialStart = this.initialStart(w);
    const start = w.lastEventRev > 0 ? w.lastEventRev + 1 : (w.effStart ?? w.rec.initialStart);
    const spec = w.rec.spec;
    const inc: Incarnation = {
      slot: `${slot.label}#${slot.generation}`,
      requestedStart: start,
      sentAt: performance.now(),
      compLoAtSend: this.history.compactedAtLeast(),
      responses: [],
      end: 'open',
    };
    w.rec.incarnations.push(inc);
    w.inc = inc;
    slot.pending.push(w);
    call.send({
      requestUnion: {
        $case: 'createRequest',
        createRequest: {
          key: Buffer.from(spec.range.key, 'latin1'),
          rangeEnd: rangeEndBytes(spec.range),
          startRevision: start,
          progressNotify: false,
          filters: spec.filters.map((f) => (f === 'NOPUT' ? 0 : 1)),
          prevKv: spec.prevKv,
          watchId: 0,
          fragment: spec.fragment,
        },
      },
    });
  }

  /** Cancels a watcher from the client side (now, or once established). */
  cancel(id: number): void {
    const w = this.live.find((x) => x.rec.spec.id === id);
    if (w === undefined || w.done) return;
    const inc = w.inc;
    const slot = this.slots[w.rec.spec.slot]!;
    if (inc?.watchId === undefined || slot.call === undefined) {
      w.cancelWanted = true;
      return;
    }
    inc.cancelSentAt = performance.now();
    slot.call.send({ requestUnion: { $case: 'cancelRequest', cancelRequest: { watchId: inc.watchId } } });
  }

  /** A progress request on every open stream. */
  requestProgress(): void {
    for (const s of this.slots) {
      if (s.call !== undefined && !s.call.ended && this.gate.isOpen) {
        this.progressRequests++;
        s.call.send({ requestUnion: { $case: 'progressRequest', progressRequest: {} } });
      }
    }
  }

  private toRecv(r: WatchResponse, at: number, events: RecvEvent[], parts: number): RecvResponse {
    return {
      at,
      header: r.header?.revision ?? 0,
      watchId: r.watchId,
      created: r.created,
      canceled: r.canceled,
      compactRevision: r.compactRevision,
      cancelReason: r.cancelReason,
      events,
      parts,
    };
  }

  private onResponse(slot: Slot, r: WatchResponse): void {
    const at = performance.now();
    if (r.created) {
      const w = slot.pending.shift();
      if (w === undefined || w.inc === undefined) {
        this.protocol.push(`${slot.label}: created response (watch ${r.watchId}) with no create pending`);
        return;
      }
      const inc = w.inc;
      inc.created = this.toRecv(r, at, r.events.map(toEvent), 1);
      if (r.canceled) {
        inc.end = 'create-failed';
        inc.endAt = at;
        w.inc = undefined;
        w.done = true;
        return;
      }
      if (slot.byId.has(r.watchId) || r.watchId < 0) {
        this.protocol.push(`${slot.label}: created with watch id ${r.watchId}, already in use or invalid`);
      }
      inc.watchId = r.watchId;
      slot.byId.set(r.watchId, w);
      if (w.effStart === undefined)
        w.effStart = inc.requestedStart > 0 ? inc.requestedStart : (r.header?.revision ?? 0) + 1;
      if (w.cancelWanted) this.cancel(w.rec.spec.id);
      return;
    }
    if (r.watchId === -1) {
      if (r.events.length > 0 || r.canceled) {
        this.protocol.push(`${slot.label}: watch id -1 response with events or canceled`);
        return;
      }
      this.broadcastProgress++;
      for (const w of slot.byId.values()) {
        w.rec.progress.push({
          at,
          header: r.header?.revision ?? 0,
          lastEventRev: w.lastEventRev,
          broadcast: true,
        });
      }
      return;
    }
    const w = slot.byId.get(r.watchId);
    if (
      w === undefined &&
      r.canceled &&
      r.events.length === 0 &&
      !r.fragment &&
      slot.crossedCancels.delete(r.watchId)
    ) {
      return;
    }
    if (w === undefined || w.inc === undefined) {
      this.protocol.push(
        `${slot.label}: response for unknown watch id ${r.watchId} (${r.events.length} events, canceled ${r.canceled})`,
      );
      return;
    }
    if (r.fragment) {
      const parts = slot.frags.get(r.watchId) ?? [];
      parts.push(r);
      slot.frags.set(r.watchId, parts);
      return;
    }
    const parts = [...(slot.frags.get(r.watchId) ?? []), r];
    slot.frags.delete(r.watchId);
    const events = parts.flatMap((p) => p.events.map(toEvent));
    const inc = w.inc;
    if (r.compactRevision > 0 && !r.canceled) {
      this.protocol.push(
        `${slot.label}: watch ${r.watchId}: compact_revision ${r.compactRevision} without canceled`,
      );
    }
    if (events.length === 0 && !r.canceled) {
      w.rec.progress.push({
        at,
        header: r.header?.revision ?? 0,
        lastEventRev: w.lastEventRev,
        broadcast: false,
      });
      return;
    }
    inc.responses.push(this.toRecv(r, at, events, parts.length));
    for (const e of events) w.lastEventRev = Math.max(w.lastEventRev, e.kv.modRevision);
    if (r.canceled) {
      inc.end = r.compactRevision > 0 ? 'compacted' : 'canceled';
      inc.endAt = at;
      slot.byId.delete(r.watchId);
      if (r.compactRevision > 0 && inc.cancelSentAt !== undefined) slot.crossedCancels.add(r.watchId);
      w.inc = undefined;
      w.done = true;
      if (r.compactRevision > 0 && this.replacements < MAX_REPLACEMENTS) {
        // Watch on from the compaction revision, as a client does after ErrCompacted.
        this.replacements++;
        const spec = w.rec.spec;
        const { cancelAtMs: _, ...rest } = spec;
        this.add(
          {
            ...rest,
            id: this.nextId++,
            start: 'past',
            after: { watcher: spec.id, compactRevision: r.compactRevision },
          },
          w.rng,
        );
      }
    }
  }

  private onEnd(slot: Slot, err: unknown): void {
    const at = performance.now();
    slot.call = undefined;
    const code = errorCode(err);
    this.streamEnds.push({
      at,
      slot: slot.label,
      error: err === undefined ? 'ended without error' : errorText(err),
      code,
      serverUp: this.gate.isOpen,
    });
    if (this.gate.isOpen && code === 12 /* UNIMPLEMENTED */) {
      this.fatal = `the Watch service is not implemented: ${errorText(err)}`;
    }
    const affected = new Set<Live>([...slot.pending, ...slot.byId.values()]);
    for (const w of affected) {
      const inc = w.inc;
      if (inc !== undefined && inc.end === 'open') {
        inc.end = 'broken';
        inc.endAt = at;
        inc.endError = err === undefined ? 'stream ended' : errorText(err);
        // A watcher being canceled by the client is not resumed.
        if (inc.cancelSentAt !== undefined) w.done = true;
      }
      w.inc = undefined;
    }
    slot.pending = [];
    slot.byId.clear();
    slot.crossedCancels.clear();
    slot.frags.clear();
    if (this.fatal !== undefined || this.closed) return;
    void this.reopen(slot);
  }

  private async reopen(slot: Slot): Promise<void> {
    await this.gate.wait();
    await sleep(20);
    if (!this.closed && slot.call === undefined) this.open(slot);
  }

  /** Whether every watcher still running has received everything up to `lastExpected(record)`. */
  pendingWatchers(lastExpected: (rec: WatcherRecord, effStart: number) => number): WatcherRecord[] {
    return this.live
      .filter((w) => {
        if (w.done) return false;
        if (w.inc?.watchId === undefined || w.effStart === undefined) return true;
        return w.lastEventRev < lastExpected(w.rec, w.effStart);
      })
      .map((w) => w.rec);
  }

  close(): void {
    this.closed = true;
    for (const s of this.slots) {
      s.generation++;
      s.call?.close();
      s.call = undefined;
    }
  }
}
