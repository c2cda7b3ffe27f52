// The v2 store's JSON, byte for byte as etcd's Go code writes it:
// - API bodies: events (json.NewEncoder: HTML-safe escaping, one trailing
//   newline) and error bodies;
// - the raft snapshot: json.Marshal of the whole store {Root, WatcherHub,
//   CurrentIndex, Stats, CurrentVersion}, which etcd 3.4 members exchange and
//   read back into their live store (Recovery), so we read theirs too.
import {
  goJsonString,
  JsonNumber,
  type JsonObject,
  type JsonValue,
  jsonBool,
  jsonObject,
  jsonString,
  parseGoJson,
} from '../peer/wire/go-json.js';
import type { V2Error } from './errors.js';
import type { V2Action, V2Event } from './event.js';
import { EventHistory } from './event-history.js';
import { compareUtf8, type NodeExtern, V2Node } from './node.js';
import { STATS_FIELDS, statsJson, type V2Stats } from './stats.js';
import { V2Store } from './store.js';
import { formatGoTime, parseGoTime, ZERO_TIME_NS } from './time.js';

/** Maps a stored key to the key a client sees (the v2 API drops the "/1" namespace). */
export type KeyView = (key: string) => string;

const asIs: KeyView = (k) => k;

// ---------------------------------------------------------------- API bodies

/** A NodeExtern in Go's field order, omitting what Go's omitempty omits. */
export function nodeJson(n: NodeExtern, view: KeyView = asIs): string {
  const parts: string[] = [];
  const key = view(n.key);
  if (key !== '') parts.push(`"key":${goJsonString(key)}`);
  if (n.value !== undefined) parts.push(`"value":${goJsonString(n.value)}`);
  if (n.dir === true) parts.push('"dir":true');
  if (n.expiration !== undefined) parts.push(`"expiration":"${formatGoTime(n.expiration)}"`);
  if (n.ttl !== undefined && n.ttl !== 0) parts.push(`"ttl":${n.ttl}`);
  if (n.nodes !== undefined && n.nodes.length > 0) {
    parts.push(`"nodes":[${n.nodes.map((c) => nodeJson(c, view)).join(',')}]`);
  }
  if (n.modifiedIndex !== 0) parts.push(`"modifiedIndex":${n.modifiedIndex}`);
  if (n.createdIndex !== 0) parts.push(`"createdIndex":${n.createdIndex}`);
  return `{${parts.join(',')}}`;
}

export interface EventJsonOptions {
  view?: KeyView;
  /** noValueOnSuccess: the API leaves out node and prevNode of a successful write. */
  omitNodes?: boolean;
  /** The API never shows "refresh" (etcd's Event.Clone drops it); the snapshot's history keeps it. */
  omitRefresh?: boolean;
}

export function eventJson(e: V2Event, opts: EventJsonOptions = {}): string {
  const view = opts.view ?? asIs;
  let out = `{"action":${goJsonString(e.action)}`;
  if (opts.omitNodes !== true) {
    out += `,"node":${nodeJson(e.node, view)}`;
    if (e.prevNode !== undefined) out += `,"prevNode":${nodeJson(e.prevNode, view)}`;
  }
  if (e.refresh === true && opts.omitRefresh !== true) out += ',"refresh":true';
  return `${out}}`;
}

/** etcd's v2 error body (without the newline its HTTP writer adds). */
export function errorJson(err: V2Error): string {
  const cause = err.cause === '' ? '' : `,"cause":${goJsonString(err.cause)}`;
  return `{"errorCode":${err.errorCode},"message":${goJsonString(err.text)}${cause},"index":${err.index}}`;
}

// ---------------------------------------------------------------- snapshot: encoding

function storedNodeJson(n: V2Node): string {
  let children = 'null';
  if (n.children !== undefined) {
    const names = [...n.children.keys()].sort(compareUtf8);
    children = `{${names.map((k) => `${goJsonString(k)}:${storedNodeJson(n.children!.get(k)!)}`).join(',')}}`;
  }
  return (
    `{"Path":${goJsonString(n.path)},"CreatedIndex":${n.createdIndex},"ModifiedIndex":${n.modifiedIndex},` +
    `"ExpireTime":"${formatGoTime(n.expireTime)}","Value":${goJsonString(n.value)},"Children":${children}}`
  );
}

function historyJson(h: EventHistory): string {
  const events = h.slots.map((e) => (e === null ? 'null' : eventJson(e))).join(',');
  return (
    `{"Queue":{"Events":[${events}],"Size":${h.size},"Front":${h.front},"Back":${h.back},` +
    `"Capacity":${h.capacity}},"StartIndex":${h.startIndex},"LastIndex":${h.lastIndex}}`
  );
}

/** etcd's store.Save(): what a raft snapshot carries in Snapshot.Data. */
export function encodeStoreJson(s: V2Store): string {
  const stats: V2Stats = { ...s.stats, watchers: s.stats.watchers };
  return (
    `{"Root":${storedNodeJson(s.root)},"WatcherHub":{"EventHistory":${historyJson(s.hub.history)}},` +
    `"CurrentIndex":${s.currentIndex},"Stats":${statsJson(stats)},"CurrentVersion":${s.version}}`
  );
}

// ---------------------------------------------------------------- snapshot: decoding

export class StoreJsonError extends Error {
  constructor(message: string) {
    super(`v2 store JSON: ${message}`);
    this.name = 'StoreJsonError';
  }
}

function num(v: JsonValue | undefined, what: string): number {
  if (v === undefined || v === null) return 0;
  if (!(v instanceof JsonNumber)) throw new StoreJsonError(`${what} is not a number`);
  const n = Number(v.text);
  if (!Number.isSafeInteger(n)) throw new StoreJsonError(`${what} ${v.text} is not an integer we can hold`);
  return n;
}

function time(v: JsonValue | undefined, what: string): bigint | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new StoreJsonError(`${what} is not a time`);
  try {
    return parseGoTime(v);
  } catch (err) {
    throw new StoreJsonError(`${what}: ${(err as Error).message}`);
  }
}

/** Go's map decoding: the last duplicate key wins. */
function entries(o: JsonObject): Map<string, JsonValue> {
  return new Map(o.entries);
}

function readStoredNode(v: JsonValue | undefined, parent: V2Node | undefined, what: string): V2Node {
  const o = jsonObject(v, what);
  const path = jsonString(o.field('Path'), `${what} Path`) ?? '';
  const childrenJson = o.field('Children');
  const n = new V2Node(
    path,
    num(o.field('CreatedIndex'), `${what} CreatedIndex`),
    num(o.field('ModifiedIndex'), `${what} ModifiedIndex`),
    parent,
    time(o.field('ExpireTime'), `${what} ExpireTime`),
    jsonString(o.field('Value'), `${what} Value`) ?? '',
    undefined,
  );
  if (childrenJson !== undefined && childrenJson !== null) {
    n.children = new Map();
    for (const [name, c] of entries(jsonObject(childrenJson, `${what} Children`))) {
      n.children.set(name, readStoredNode(c, n, `${what}/${name}`));
    }
  }
  return n;
}

function readExtern(v: JsonValue | undefined, what: string): NodeExtern | undefined {
  if (v === undefined || v === null) return undefined;
  const o = jsonObject(v, what);
  const n: NodeExtern = {
    key: jsonString(o.field('key'), `${what} key`) ?? '',
    modifiedIndex: num(o.field('modifiedIndex'), `${what} modifiedIndex`),
    createdIndex: num(o.field('createdIndex'), `${what} createdIndex`),
  };
  const value = jsonString(o.field('value'), `${what} value`);
  if (value !== undefined) n.value = value;
  if (jsonBool(o.field('dir'), `${what} dir`) === true) n.dir = true;
  const expiration = o.field('expiration');
  if (expiration !== undefined && expiration !== null) {
    // A zero time here was never written by etcd; keep it as the instant it names.
    n.expiration = time(expiration, `${what} expiration`) ?? ZERO_TIME_NS;
  }
  const ttl = num(o.field('ttl'), `${what} ttl`);
  if (ttl !== 0) n.ttl = ttl;
  const nodes = o.field('nodes');
  if (Array.isArray(nodes) && nodes.length > 0) {
    n.nodes = nodes.map((c, i) => readExtern(c, `${what} nodes[${i}]`)!).filter((c) => c !== undefined);
  }
  return n;
}

function readEvent(v: JsonValue, what: string): V2Event | null {
  if (v === null) return null;
  const o = jsonObject(v, what);
  const node = readExtern(o.field('node'), `${what} node`);
  if (node === undefined) return null;
  const e: V2Event = {
    action: (jsonString(o.field('action'), `${what} action`) ?? '') as V2Action,
    node,
    etcdIndex: 0,
  };
  const prev = readExtern(o.field('prevNode'), `${what} prevNode`);
  if (prev !== undefined) e.prevNode = prev;
  if (jsonBool(o.field('refresh'), `${what} refresh`) === true) e.refresh = true;
  return e;
}

function readHistory(v: JsonValue | undefined): EventHistory | undefined {
  if (v === undefined || v === null) return undefined;
  const o = jsonObject(v, 'EventHistory');
  const q = o.field('Queue');
  if (q === undefined || q === null) return undefined;
  const queue = jsonObject(q, 'Queue');
  const capacity = num(queue.field('Capacity'), 'Queue Capacity');
  const events = queue.field('Events');
  if (capacity <= 0 || !Array.isArray(events) || events.length !== capacity) {
    throw new StoreJsonError(
      `event queue of capacity ${capacity} has ${Array.isArray(events) ? events.length : 'no'} slots`,
    );
  }
  const h = new EventHistory(capacity);
  h.slots = events.map((e, i) => readEvent(e, `Events[${i}]`));
  h.size = num(queue.field('Size'), 'Queue Size');
  h.front = num(queue.field('Front'), 'Queue Front');
  h.back = num(queue.field('Back'), 'Queue Back');
  h.startIndex = num(o.field('StartIndex'), 'StartIndex');
  h.lastIndex = num(o.field('LastIndex'), 'LastIndex');
  for (const [name, x] of [
    ['Front', h.front],
    ['Back', h.back],
  ] as const) {
    if (x < 0 || x >= capacity) throw new StoreJsonError(`Queue ${name} ${x} is outside the queue`);
  }
  if (h.size < 0 || h.size > capacity) throw new StoreJsonError(`Queue Size ${h.size} is outside the queue`);
  return h;
}

/** The TTL heap etcd rebuilds on recovery: every node with an expire time. */
function collectTtlNodes(s: V2Store, n: V2Node): void {
  if (n.children !== undefined) for (const c of n.children.values()) collectTtlNodes(s, c);
  if (n.expireTime !== undefined) s.ttlHeap.push(n);
}

/** etcd's store.Recovery: a store rebuilt from a snapshot's JSON (ours or a real etcd's). */
export function decodeStoreJson(data: Uint8Array | string): V2Store {
  let top: JsonObject;
  try {
    top = jsonObject(parseGoJson(data, 'v2 store snapshot'), 'v2 store snapshot');
  } catch (err) {
    if (err instanceof StoreJsonError) throw err;
    throw new StoreJsonError((err as Error).message);
  }
  const s = new V2Store();
  const root = top.field('Root');
  if (root !== undefined && root !== null) {
    s.root = readStoredNode(root, undefined, 'Root');
    if (s.root.children === undefined) throw new StoreJsonError('Root is not a directory');
  }
  const hub = top.field('WatcherHub');
  if (hub !== undefined && hub !== null) {
    const history = readHistory(jsonObject(hub, 'WatcherHub').field('EventHistory'));
    if (history !== undefined) s.hub.history = history;
  }
  s.currentIndex = num(top.field('CurrentIndex'), 'CurrentIndex');
  const version = top.field('CurrentVersion');
  if (version !== undefined) s.version = num(version, 'CurrentVersion');
  const stats = top.field('Stats');
  if (stats !== undefined && stats !== null) {
    const so = jsonObject(stats, 'Stats');
    for (const f of STATS_FIELDS) s.stats[f] = num(so.field(f), `Stats ${f}`);
  }
  collectTtlNodes(s, s.root);
  return s;
}
