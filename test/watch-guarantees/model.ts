// The key space, the writes of the workload and their effect on a store: the
// model from which the reference history (the events of every revision) is
// rebuilt. Pure: no I/O, no clock.
import type { Rng } from './rng.js';

export const PREFIX = '/w/';
export const KEY_COUNT = 20;
export const KEYS: readonly string[] = Array.from(
  { length: KEY_COUNT },
  (_, i) => `${PREFIX}k${String(i).padStart(2, '0')}`,
);

/** etcd's key ranges: end '' is the single key, '\0' every key >= key, otherwise [key, end). */
export interface KeyRange {
  key: string;
  end: string;
}

export function inRange(r: KeyRange, k: string): boolean {
  if (r.end === '') return k === r.key;
  if (r.end === '\0') return k >= r.key;
  return k >= r.key && k < r.end;
}

/** The key after every key with this prefix (etcd's GetPrefixRangeEnd for ASCII). */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

export function describeRange(r: KeyRange): string {
  if (r.end === '') return r.key;
  if (r.end === '\0') return `[${r.key}, +inf)`;
  return `[${r.key}, ${r.end})`;
}

/** A stored record as etcd reports it (values are ASCII here, compared as latin1 strings). */
export interface Kv {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
}

export type EventType = 'PUT' | 'DELETE';

/** One event of the reference history: what a watcher must receive (kv as etcd sends it). */
export interface RefEvent {
  type: EventType;
  /** For PUT the new record; for DELETE only key and modRevision are set (etcd's tombstone). */
  kv: Kv;
  /** The record before the event (undefined when the key did not exist). */
  prev: Kv | undefined;
}

export type Mutation = { kind: 'put'; key: string; value: string } | { kind: 'del'; range: KeyRange };

export type OpKind = 'put' | 'delete' | 'delete-range' | 'txn';

export interface PlannedOp {
  kind: OpKind;
  muts: Mutation[];
}

export type Store = Map<string, Kv>;

/**
 * The events `muts` produce at revision `rev` on `store` (applied in order,
 * deletes of a range in key order, as etcd numbers its sub-revisions), and
 * how many keys each mutation deleted. With `mutate` false the store is left
 * as it was. No events: the write does not make a revision.
 */
export function applyMutations(
  store: Store,
  muts: readonly Mutation[],
  rev: number,
  mutate: boolean,
): { events: RefEvent[]; deleted: number[]; after: Store } {
  const s = mutate ? store : new Map(store);
  const events: RefEvent[] = [];
  const deleted: number[] = [];
  for (const m of muts) {
    if (m.kind === 'put') {
      const prev = s.get(m.key);
      const kv: Kv = {
        key: m.key,
        value: m.value,
        createRevision: prev === undefined ? rev : prev.createRevision,
        modRevision: rev,
        version: prev === undefined ? 1 : prev.version + 1,
      };
      s.set(m.key, kv);
      events.push({ type: 'PUT', kv, prev });
      deleted.push(0);
    } else {
      const keys = [...s.keys()].filter((k) => inRange(m.range, k)).sort();
      for (const k of keys) {
        const prev = s.get(k);
        s.delete(k);
        events.push({ type: 'DELETE', kv: tombstone(k, rev), prev });
      }
      deleted.push(keys.length);
    }
  }
  return { events, deleted, after: s };
}

/** Whether two stores hold exactly the same records; the first difference otherwise. */
export function storeDiff(a: Store, b: Store): string | undefined {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const k of keys) {
    if (!sameKv(a.get(k), b.get(k))) return `${k}: ${showKv(a.get(k))} vs ${showKv(b.get(k))}`;
  }
  return undefined;
}

export function tombstone(key: string, rev: number): Kv {
  return { key, value: '', createRevision: 0, modRevision: rev, version: 0 };
}

export function sameKv(a: Kv | undefined, b: Kv | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.key === b.key &&
    a.value === b.value &&
    a.createRevision === b.createRevision &&
    a.modRevision === b.modRevision &&
    a.version === b.version
  );
}

export function showKv(kv: Kv | undefined): string {
  if (kv === undefined) return 'none';
  const v = kv.value.length > 24 ? `${kv.value.slice(0, 24)}…(${kv.value.length})` : kv.value;
  return `${kv.key}=${JSON.stringify(v)} c${kv.createRevision} m${kv.modRevision} v${kv.version}`;
}

// --- the workload -----------------------------------------------------------

function value(r: Rng, tag: string): string {
  // Mostly small values, some large ones: catch-up responses get big enough
  // to be fragmented for watchers that allow it (etcd splits above
  // --max-request-bytes + 512 KiB), while a txn of 4 puts stays below
  // --max-request-bytes.
  const x = r.next();
  const pad = x < 0.12 ? r.int(3000, 6000) : x < 0.32 ? r.int(100, 600) : r.int(0, 40);
  return `${tag}.${'x'.repeat(pad)}`;
}

function randomRange(r: Rng): KeyRange {
  if (r.chance(0.5)) {
    // A prefix: /w/k0 or /w/k1 (ten keys each), rarely the whole key space.
    const p = r.chance(0.1) ? PREFIX : `${PREFIX}k${r.int(0, 1)}`;
    return { key: p, end: prefixEnd(p) };
  }
  const a = r.int(0, KEY_COUNT - 1);
  const b = r.int(a + 1, Math.min(KEY_COUNT, a + 6));
  return { key: KEYS[a]!, end: b === KEY_COUNT ? prefixEnd(PREFIX) : KEYS[b]! };
}

/**
 * The next write of a writer. Txns follow etcd's rules (no key put twice, no
 * delete overlapping a put; deletes may overlap each other) and use no
 * comparisons, so they always take the success branch.
 */
export function planOp(r: Rng, tag: string): PlannedOp {
  const x = r.next();
  if (x < 0.4) return { kind: 'put', muts: [{ kind: 'put', key: r.pick(KEYS), value: value(r, tag) }] };
  if (x < 0.55) return { kind: 'delete', muts: [{ kind: 'del', range: { key: r.pick(KEYS), end: '' } }] };
  if (x < 0.65) return { kind: 'delete-range', muts: [{ kind: 'del', range: randomRange(r) }] };
  const n = r.int(2, 4);
  const keys = r.sample(KEYS, n);
  const muts: Mutation[] = [];
  const putKeys: string[] = [];
  keys.forEach((k, i) => {
    if (r.chance(0.7)) {
      muts.push({ kind: 'put', key: k, value: value(r, `${tag}.${i}`) });
      putKeys.push(k);
    } else {
      muts.push({ kind: 'del', range: { key: k, end: '' } });
    }
  });
  if (r.chance(0.25)) {
    const range = randomRange(r);
    if (!putKeys.some((k) => inRange(range, k)))
      muts.splice(r.int(0, muts.length), 0, { kind: 'del', range });
  }
  return { kind: 'txn', muts };
}
