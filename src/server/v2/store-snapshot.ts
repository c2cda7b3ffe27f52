// The v2 store that etcd 3.4 puts, as JSON, in raftpb.Snapshot.Data (and in member/snap/*.snap):
// json.Marshal of v2store's store {Root, WatcherHub, CurrentIndex, Stats, CurrentVersion}.
// A 3.4 member that receives a snapshot rebuilds its membership *only* from this tree
// (membership.Recover reads /0/members/<hex>/{raftAttributes,attributes},
// /0/removed_members/<hex> and /0/version) and its v2 keys from /1; the store JSON itself is
// src/v2store's (json.ts). This file reads the membership out of it and writes the store of a
// bare membership.
//
// Why the bookkeeping matters: Recovery json.Unmarshals into the receiver's live store, and
// the watcher hub's event queue indexes Events[Back] on the next v2 write, so Events must be
// Capacity (1000) slots long. A directory needs a non-null Children ({} when empty): a node
// with null Children is a key.
import {
  type JsonObject,
  type JsonValue,
  jsonObject,
  jsonString,
  parseGoJson,
} from '../../peer/wire/go-json.js';
import { WireError } from '../../peer/wire/gogo-wire.js';
import { decodeStoreJson, encodeStoreJson, StoreJsonError, V2Store } from '../../v2store/index.js';
import { type MemberRecord, parseAttributes, parseRaftAttributes } from '../member-json.js';
import {
  storeAddMember,
  storeRemoveMember,
  storeSetAttributes,
  storeSetClusterVersion,
} from './membership-store.js';

export interface V2StoreMembership {
  members: MemberRecord[];
  removed: bigint[];
  /** The /0/version value, e.g. "3.4.0"; absent before the cluster version is decided. */
  clusterVersion?: string;
}

export interface DecodedV2StoreSnapshot extends V2StoreMembership {
  /** The snapshot holds keys under /1 (v2 API data), which we do not keep. */
  userKeysPresent: boolean;
}

// ---------------------------------------------------------------- encoding

/**
 * A v2 store holding just this membership, written the way etcd's applies
 * would have written it (members by id: raftAttributes, then attributes of the
 * started ones; removed ids; the cluster version), each write its own index.
 */
export function membershipStore(s: V2StoreMembership): V2Store {
  const store = new V2Store();
  const members = [...s.members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const m of members) {
    if (m.id < 0n || m.id >= 1n << 64n) throw new WireError(`member id ${m.id} is outside uint64`);
    storeAddMember(store, m);
    // Written by the member's publish; an unstarted member has none.
    if (m.name !== '' || m.clientUrls.length > 0) storeSetAttributes(store, m);
  }
  for (const id of [...s.removed].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (id < 0n || id >= 1n << 64n) throw new WireError(`member id ${id} is outside uint64`);
    storeRemoveMember(store, id);
  }
  if (s.clusterVersion !== undefined) storeSetClusterVersion(store, s.clusterVersion);
  return store;
}

/** The snapshot JSON of a store holding only this membership. */
export function encodeV2StoreSnapshot(s: V2StoreMembership): Uint8Array {
  return encodeV2Store(membershipStore(s));
}

/** The snapshot JSON of a whole v2 store: membership under /0, v2 keys under /1, TTLs, indexes, history. */
export function encodeV2Store(store: V2Store): Uint8Array {
  return new TextEncoder().encode(encodeStoreJson(store));
}

/** The whole v2 store out of a snapshot's JSON (a real etcd 3.4's or ours); throws WireError. */
export function decodeV2Store(data: Uint8Array): V2Store {
  try {
    return decodeStoreJson(data);
  } catch (err) {
    if (err instanceof StoreJsonError) throw new WireError(err.message);
    throw err;
  }
}

// ---------------------------------------------------------------- decoding

interface StoreNode {
  path: string;
  value: string;
  /** Null for a key (Go: Children == nil). */
  children: JsonObject | null;
}

function readNode(v: JsonValue | undefined, what: string): StoreNode {
  const o = jsonObject(v, what);
  const children = o.field('Children');
  return {
    path: jsonString(o.field('Path'), `${what} Path`) ?? '',
    value: jsonString(o.field('Value'), `${what} Value`) ?? '',
    children: children === undefined || children === null ? null : jsonObject(children, `${what} Children`),
  };
}

/** The child stored under `name` (Go's map: the last duplicate key wins). */
function child(dir: StoreNode, name: string): StoreNode | undefined {
  if (dir.children === null) return undefined;
  let found: JsonValue | undefined;
  for (const [k, v] of dir.children.entries) if (k === name) found = v;
  return found === undefined ? undefined : readNode(found, name);
}

function childNodes(dir: StoreNode): StoreNode[] {
  if (dir.children === null) return [];
  const byName = new Map<string, JsonValue>();
  for (const [k, v] of dir.children.entries) byName.set(k, v);
  return [...byName].map(([k, v]) => readNode(v, k)).filter((n) => !baseName(n.path).startsWith('_'));
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** etcd's MustParseMemberIDFromKey: the hex id in the last path element. */
function idFromPath(path: string): bigint {
  const h = baseName(path);
  if (!/^[0-9a-fA-F]{1,16}$/.test(h)) throw new WireError(`v2 store snapshot: bad member key ${path}`);
  return BigInt(`0x${h}`);
}

function readMember(dir: StoreNode): MemberRecord {
  const id = idFromPath(dir.path);
  let raft: StoreNode | undefined;
  let attrs: StoreNode | undefined;
  for (const n of childNodes(dir)) {
    if (n.path === `${dir.path}/raftAttributes`) raft = n;
    else if (n.path === `${dir.path}/attributes`) attrs = n;
    else throw new WireError(`v2 store snapshot: unknown key ${n.path}`);
  }
  if (raft === undefined) throw new WireError(`v2 store snapshot: ${dir.path} has no raftAttributes`);
  const r = parseRaftAttributes(raft.value);
  const a = attrs === undefined ? { name: '', clientUrls: [] } : parseAttributes(attrs.value);
  return { id, name: a.name, peerUrls: r.peerUrls, clientUrls: a.clientUrls, isLearner: r.isLearner };
}

/** Reads the membership out of a real etcd 3.4's (or our) v2 store snapshot JSON. */
export function decodeV2StoreSnapshot(data: Uint8Array): DecodedV2StoreSnapshot {
  const top = jsonObject(parseGoJson(data, 'v2 store snapshot'), 'v2 store snapshot');
  const root = readNode(top.field('Root'), 'Root');
  const ns0 = child(root, '0');
  const ns1 = child(root, '1');
  const membersDir = ns0 && child(ns0, 'members');
  const removedDir = ns0 && child(ns0, 'removed_members');
  const versionNode = ns0 && child(ns0, 'version');

  const members = membersDir === undefined ? [] : childNodes(membersDir).map(readMember);
  members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const removed = removedDir === undefined ? [] : childNodes(removedDir).map((n) => idFromPath(n.path));
  removed.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: DecodedV2StoreSnapshot = {
    members,
    removed,
    userKeysPresent: ns1 !== undefined && ns1.children !== null && ns1.children.entries.length > 0,
  };
  if (versionNode !== undefined) {
    if (versionNode.children !== null) throw new WireError('v2 store snapshot: /0/version is a directory');
    out.clusterVersion = versionNode.value;
  }
  return out;
}
