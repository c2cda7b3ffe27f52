// The v2 store that etcd 3.4 puts, as JSON, in raftpb.Snapshot.Data (and in member/snap/*.snap):
// json.Marshal of v2store's store {Root, WatcherHub, CurrentIndex, Stats, CurrentVersion}.
// A 3.4 member that receives a snapshot rebuilds its membership *only* from this tree
// (membership.Recover reads /0/members/<hex>/{raftAttributes,attributes},
// /0/removed_members/<hex> and /0/version), so the encoder writes exactly that tree plus an
// empty /1 (the v2 user keyspace) and the bookkeeping fields in the shape etcd writes them.
//
// Why the bookkeeping matters: Recovery json.Unmarshals into the receiver's live store, and
// the watcher hub's event queue indexes Events[Back] on the next v2 write, so Events must be
// Capacity (1000) slots long. A directory needs a non-null Children ({} when empty): a node
// with null Children is a key.
import {
  goJsonString,
  type JsonObject,
  type JsonValue,
  jsonObject,
  jsonString,
  parseGoJson,
} from '../../peer/wire/go-json.js';
import { WireError } from '../../peer/wire/gogo-wire.js';
import {
  encodeAttributes,
  encodeRaftAttributes,
  type MemberRecord,
  parseAttributes,
  parseRaftAttributes,
} from '../member-json.js';

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

/** v2store's Permanent expire time, as Go's time.Time marshals the zero value. */
const PERMANENT = '"0001-01-01T00:00:00Z"';
/** v2store's defaultVersion. */
const STORE_VERSION = 2;
/** newWatchHub(1000) in etcdserver: the event history's capacity. */
const EVENT_HISTORY_CAPACITY = 1000;
const STATS_FIELDS = [
  'getsSuccess',
  'getsFail',
  'setsSuccess',
  'setsFail',
  'deleteSuccess',
  'deleteFail',
  'updateSuccess',
  'updateFail',
  'createSuccess',
  'createFail',
  'compareAndSwapSuccess',
  'compareAndSwapFail',
  'compareAndDeleteSuccess',
  'compareAndDeleteFail',
  'expireCount',
  'watchers',
];

// ---------------------------------------------------------------- encoding

interface TreeNode {
  path: string;
  createdIndex: number;
  value: string;
  /** Present for directories. */
  children?: Map<string, TreeNode>;
}

/** Builds the tree the way etcd's applies would: every write takes the next store index. */
class TreeBuilder {
  index = 0;
  readonly root: TreeNode = { path: '/', createdIndex: 0, value: '', children: new Map() };

  constructor() {
    this.dir('/0');
    this.dir('/1');
  }

  /** Creates missing directories along `path` at the current index. */
  dir(path: string): TreeNode {
    let node = this.root;
    let at = '';
    for (const name of path.split('/').filter((p) => p !== '')) {
      at += `/${name}`;
      let child = node.children!.get(name);
      if (child === undefined) {
        child = { path: at, createdIndex: this.index, value: '', children: new Map() };
        node.children!.set(name, child);
      }
      node = child;
    }
    return node;
  }

  /** One v2 write: the next index, then the key (and its parent directories). */
  put(dirPath: string, name: string, value: string): void {
    this.index++;
    this.dir(dirPath).children!.set(name, { path: `${dirPath}/${name}`, createdIndex: this.index, value });
  }
}

function nodeJson(n: TreeNode): string {
  let children = 'null';
  if (n.children !== undefined) {
    // Go writes map keys sorted.
    const names = [...n.children.keys()].sort();
    children = `{${names.map((k) => `${goJsonString(k)}:${nodeJson(n.children!.get(k)!)}`).join(',')}}`;
  }
  return (
    `{"Path":${goJsonString(n.path)},"CreatedIndex":${n.createdIndex},"ModifiedIndex":${n.createdIndex},` +
    `"ExpireTime":${PERMANENT},"Value":${goJsonString(n.value)},"Children":${children}}`
  );
}

function hex(id: bigint): string {
  if (id < 0n || id >= 1n << 64n) throw new WireError(`member id ${id} is outside uint64`);
  return id.toString(16);
}

export function encodeV2StoreSnapshot(s: V2StoreMembership): Uint8Array {
  const tree = new TreeBuilder();
  const members = [...s.members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const m of members) {
    const dir = `/0/members/${hex(m.id)}`;
    tree.put(dir, 'raftAttributes', encodeRaftAttributes(m));
    // Written by the member's publish; an unstarted member has none.
    if (m.name !== '' || m.clientUrls.length > 0) tree.put(dir, 'attributes', encodeAttributes(m));
  }
  for (const id of [...s.removed].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    tree.put('/0/removed_members', hex(id), '');
  }
  if (s.clusterVersion !== undefined) tree.put('/0', 'version', s.clusterVersion);

  const events = new Array<string>(EVENT_HISTORY_CAPACITY).fill('null').join(',');
  const watcherHub =
    `{"EventHistory":{"Queue":{"Events":[${events}],"Size":0,"Front":0,"Back":0,` +
    `"Capacity":${EVENT_HISTORY_CAPACITY}},"StartIndex":0,"LastIndex":0}}`;
  const stats = `{${STATS_FIELDS.map((f) => `"${f}":0`).join(',')}}`;
  const json =
    `{"Root":${nodeJson(tree.root)},"WatcherHub":${watcherHub},"CurrentIndex":${tree.index},` +
    `"Stats":${stats},"CurrentVersion":${STORE_VERSION}}`;
  return new TextEncoder().encode(json);
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
