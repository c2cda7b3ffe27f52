// The v2 store (etcd 3.4's v2store), pure: a tree of keys and directories
// under "/", one store index bumped by every change, TTLs kept as absolute
// expire times and removed only by deleteExpiredKeys (the leader's SYNC
// request through raft), the last 1000 events for watches that start in the
// past, and etcd's operation counters -- quirks included, since a mixed
// cluster must agree on every index. No clock: every call that shows a TTL
// takes `now` (Unix nanoseconds).
import { V2Error, V2ErrorCode } from './errors.js';
import { newEvent, V2Action, type V2Event } from './event.js';
import { listing, type NodeExtern, V2Node } from './node.js';
import { cleanPath, components, joinPath, splitPath } from './path.js';
import { newStats, statsJson, type V2Stats } from './stats.js';
import { MIN_EXPIRE_TIME_NS } from './time.js';
import { TtlHeap } from './ttl-heap.js';
import { type V2Watcher, WatcherHub } from './watcher-hub.js';

/** etcd's TTLOptionSet: the new expire time (undefined = permanent) and whether this only refreshes it. */
export interface TtlOptions {
  expireTime?: bigint | undefined;
  refresh?: boolean | undefined;
}

/** The store's directories that always exist: "/" and etcd's namespaces. */
export const ETCD_NAMESPACES = ['/0', '/1'] as const;

/** v2store's defaultVersion. */
export const STORE_VERSION = 2;

export class V2Store {
  root: V2Node;
  currentIndex = 0;
  version = STORE_VERSION;
  stats: V2Stats = newStats();
  hub: WatcherHub;
  ttlHeap = new TtlHeap();
  private readonly readOnly: Set<string>;

  constructor(namespaces: readonly string[] = ETCD_NAMESPACES) {
    this.root = V2Node.dir('/', 0, undefined);
    for (const ns of namespaces) this.root.children!.set(splitPath(ns)[1], V2Node.dir(ns, 0, this.root));
    this.hub = new WatcherHub();
    this.readOnly = new Set(['/', ...namespaces]);
  }

  get index(): number {
    return this.currentIndex;
  }

  hasTtlKeys(): boolean {
    return this.ttlHeap.size > 0;
  }

  /** /v2/stats/store: the counters, with the number of waiting watchers. */
  statsJson(): string {
    return statsJson({ ...this.stats, watchers: this.hub.count });
  }

  // ---------------------------------------------------------------- reads

  get(nodePath: string, recursive: boolean, sorted: boolean, now: bigint): V2Event {
    let n: V2Node;
    try {
      n = this.internalGet(nodePath);
    } catch (err) {
      this.stats.getsFail++;
      throw err;
    }
    const e = newEvent(V2Action.Get, nodePath, n.modifiedIndex, n.createdIndex);
    e.etcdIndex = this.currentIndex;
    loadInternalNode(e.node, n, recursive, sorted, now);
    this.stats.getsSuccess++;
    return e;
  }

  /** A watcher for changes at or below `key` from `sinceIndex` (0: from the next change). */
  watch(key: string, recursive: boolean, stream: boolean, sinceIndex: number): V2Watcher {
    key = cleanPath(joinPath('/', key));
    if (sinceIndex === 0) sinceIndex = this.currentIndex + 1;
    return this.hub.watch(key, recursive, stream, sinceIndex, this.currentIndex);
  }

  // ---------------------------------------------------------------- writes

  /** Creates a key or directory (with missing parents); unique appends a name from the next index (POST). */
  create(
    nodePath: string,
    dir: boolean,
    value: string,
    unique: boolean,
    opts: TtlOptions,
    now: bigint,
  ): V2Event {
    let e: V2Event;
    try {
      e = this.internalCreate(nodePath, dir, value, unique, false, opts.expireTime, V2Action.Create, now);
    } catch (err) {
      this.stats.createFail++;
      throw err;
    }
    e.etcdIndex = this.currentIndex;
    this.hub.notify(e);
    this.stats.createSuccess++;
    return e;
  }

  /** Creates or replaces a key (a directory only if none is there). */
  set(nodePath: string, dir: boolean, value: string, opts: TtlOptions, now: bigint): V2Event {
    let prev: V2Node | undefined;
    let e: V2Event;
    try {
      try {
        prev = this.internalGet(nodePath);
      } catch (err) {
        if (!(err instanceof V2Error) || err.errorCode !== V2ErrorCode.KeyNotFound) throw err;
        if (opts.refresh === true) throw err;
      }
      if (opts.refresh === true) value = prev!.value;
      e = this.internalCreate(nodePath, dir, value, false, true, opts.expireTime, V2Action.Set, now);
    } catch (err) {
      this.stats.setsFail++;
      throw err;
    }
    e.etcdIndex = this.currentIndex;
    if (prev !== undefined) {
      const p = newEvent(V2Action.Get, nodePath, prev.modifiedIndex, prev.createdIndex);
      loadInternalNode(p.node, prev, false, false, now);
      e.prevNode = p.node;
    }
    this.record(e, opts.refresh === true);
    this.stats.setsSuccess++;
    return e;
  }

  /** Changes an existing key's value (or a directory's TTL). */
  update(nodePath: string, newValue: string, opts: TtlOptions, now: bigint): V2Event {
    nodePath = cleanPath(joinPath('/', nodePath));
    // etcd counts these two refusals as successes (its deferred counter never sees them).
    if (this.readOnly.has(nodePath)) {
      this.stats.updateSuccess++;
      throw new V2Error(V2ErrorCode.RootReadOnly, '/', this.currentIndex);
    }
    const currIndex = this.currentIndex;
    const nextIndex = currIndex + 1;
    let n: V2Node;
    try {
      n = this.internalGet(nodePath);
    } catch (err) {
      this.stats.updateFail++;
      throw err;
    }
    if (n.isDir && newValue.length !== 0) {
      this.stats.updateSuccess++;
      throw new V2Error(V2ErrorCode.NotFile, nodePath, currIndex);
    }
    if (opts.refresh === true) newValue = n.value;
    const e = newEvent(V2Action.Update, nodePath, nextIndex, n.createdIndex);
    e.etcdIndex = nextIndex;
    e.prevNode = n.repr(false, false, now);
    // A directory's Write fails and is ignored: its modified index stays.
    if (!n.isDir) {
      n.value = newValue;
      n.modifiedIndex = nextIndex;
      e.node.value = newValue;
    } else {
      e.node.dir = true;
    }
    this.updateTtl(n, opts.expireTime);
    Object.assign(e.node, n.ttlFields(now));
    this.record(e, opts.refresh === true);
    this.currentIndex = nextIndex;
    this.stats.updateSuccess++;
    return e;
  }

  compareAndSwap(
    nodePath: string,
    prevValue: string,
    prevIndex: number,
    value: string,
    opts: TtlOptions,
    now: bigint,
  ): V2Event {
    nodePath = cleanPath(joinPath('/', nodePath));
    if (this.readOnly.has(nodePath)) {
      this.stats.compareAndSwapSuccess++;
      throw new V2Error(V2ErrorCode.RootReadOnly, '/', this.currentIndex);
    }
    let n: V2Node;
    try {
      n = this.internalGet(nodePath);
      if (n.isDir) throw new V2Error(V2ErrorCode.NotFile, nodePath, this.currentIndex);
      const cause = compareFailure(n, prevValue, prevIndex);
      if (cause !== undefined) throw new V2Error(V2ErrorCode.TestFailed, cause, this.currentIndex);
    } catch (err) {
      this.stats.compareAndSwapFail++;
      throw err;
    }
    if (opts.refresh === true) value = n.value;
    this.currentIndex++;
    const e = newEvent(V2Action.CompareAndSwap, nodePath, this.currentIndex, n.createdIndex);
    e.etcdIndex = this.currentIndex;
    e.prevNode = n.repr(false, false, now);
    n.value = value;
    n.modifiedIndex = this.currentIndex;
    this.updateTtl(n, opts.expireTime);
    e.node.value = value;
    Object.assign(e.node, n.ttlFields(now));
    this.record(e, opts.refresh === true);
    this.stats.compareAndSwapSuccess++;
    return e;
  }

  /** Deletes a key, or a directory with dir (empty) or recursive (anything). */
  delete(nodePath: string, dir: boolean, recursive: boolean, now: bigint): V2Event {
    nodePath = cleanPath(joinPath('/', nodePath));
    if (this.readOnly.has(nodePath)) {
      this.stats.deleteSuccess++;
      throw new V2Error(V2ErrorCode.RootReadOnly, '/', this.currentIndex);
    }
    if (recursive) dir = true;
    let e: V2Event;
    try {
      const n = this.internalGet(nodePath);
      const nextIndex = this.currentIndex + 1;
      e = newEvent(V2Action.Delete, nodePath, nextIndex, n.createdIndex);
      e.etcdIndex = nextIndex;
      e.prevNode = n.repr(false, false, now);
      if (n.isDir) e.node.dir = true;
      const event = e;
      this.removeNode(n, dir, recursive, (p) => this.hub.notifyWatchers(event, p, true));
    } catch (err) {
      this.stats.deleteFail++;
      throw err;
    }
    this.currentIndex++;
    this.hub.notify(e);
    this.stats.deleteSuccess++;
    return e;
  }

  compareAndDelete(nodePath: string, prevValue: string, prevIndex: number, now: bigint): V2Event {
    nodePath = cleanPath(joinPath('/', nodePath));
    let n: V2Node;
    try {
      n = this.internalGet(nodePath);
    } catch (err) {
      this.stats.compareAndDeleteFail++;
      throw err;
    }
    // etcd counts these refusals as successes.
    if (n.isDir) {
      this.stats.compareAndDeleteSuccess++;
      throw new V2Error(V2ErrorCode.NotFile, nodePath, this.currentIndex);
    }
    const cause = compareFailure(n, prevValue, prevIndex);
    if (cause !== undefined) {
      this.stats.compareAndDeleteSuccess++;
      throw new V2Error(V2ErrorCode.TestFailed, cause, this.currentIndex);
    }
    this.currentIndex++;
    const e = newEvent(V2Action.CompareAndDelete, nodePath, this.currentIndex, n.createdIndex);
    e.etcdIndex = this.currentIndex;
    e.prevNode = n.repr(false, false, now);
    this.removeNode(n, false, false, (p) => this.hub.notifyWatchers(e, p, true));
    this.hub.notify(e);
    this.stats.compareAndDeleteSuccess++;
    return e;
  }

  /** Removes every node whose expire time is not after `cutoff`, one "expire" event each. */
  deleteExpiredKeys(cutoff: bigint, now: bigint = cutoff): void {
    for (;;) {
      const n = this.ttlHeap.top();
      if (n === undefined || n.expireTime! > cutoff) break;
      this.currentIndex++;
      const e = newEvent(V2Action.Expire, n.path, this.currentIndex, n.createdIndex);
      e.etcdIndex = this.currentIndex;
      e.prevNode = n.repr(false, false, now);
      if (n.isDir) e.node.dir = true;
      this.ttlHeap.pop();
      this.removeNode(n, true, true, (p) => this.hub.notifyWatchers(e, p, true));
      this.stats.expireCount++;
      this.hub.notify(e);
    }
  }

  /** Takes over a recovered store's contents (a raft snapshot); registered watchers stay. */
  restoreFrom(other: V2Store): void {
    this.root = other.root;
    this.currentIndex = other.currentIndex;
    this.version = other.version;
    this.stats = other.stats;
    this.ttlHeap = other.ttlHeap;
    this.hub.adoptHistory(other.hub);
  }

  // ---------------------------------------------------------------- internals

  private record(e: V2Event, refresh: boolean): void {
    if (refresh) {
      e.refresh = true;
      this.hub.add(e);
    } else {
      this.hub.notify(e);
    }
  }

  internalGet(nodePath: string): V2Node {
    nodePath = cleanPath(joinPath('/', nodePath));
    let node = this.root;
    for (const name of components(nodePath)) {
      if (!node.isDir) throw new V2Error(V2ErrorCode.NotDir, node.path, this.currentIndex);
      const child = node.children!.get(name);
      if (child === undefined) {
        throw new V2Error(V2ErrorCode.KeyNotFound, joinPath(node.path, name), this.currentIndex);
      }
      node = child;
    }
    return node;
  }

  private internalCreate(
    nodePath: string,
    dir: boolean,
    value: string,
    unique: boolean,
    replace: boolean,
    expireTime: bigint | undefined,
    action: V2Action,
    now: bigint,
  ): V2Event {
    const currIndex = this.currentIndex;
    const nextIndex = currIndex + 1;
    if (unique) nodePath += `/${String(nextIndex).padStart(20, '0')}`;
    nodePath = cleanPath(joinPath('/', nodePath));
    if (this.readOnly.has(nodePath)) throw new V2Error(V2ErrorCode.RootReadOnly, '/', currIndex);
    // Times before 2000 mean "none" (zero times that went through JavaScript, says etcd).
    if (expireTime !== undefined && expireTime < MIN_EXPIRE_TIME_NS) expireTime = undefined;
    const [dirName, nodeName] = splitPath(nodePath);
    let d: V2Node;
    try {
      d = this.walkCreatingDirs(dirName);
    } catch (err) {
      // etcd counts a set failure here on top of the caller's own.
      this.stats.setsFail++;
      if (err instanceof V2Error) err.index = currIndex;
      throw err;
    }
    const e = newEvent(action, nodePath, nextIndex, nextIndex);
    const existing = d.children!.get(nodeName);
    if (existing !== undefined) {
      if (!replace) throw new V2Error(V2ErrorCode.NodeExist, nodePath, currIndex);
      if (existing.isDir) throw new V2Error(V2ErrorCode.NotFile, nodePath, currIndex);
      e.prevNode = existing.repr(false, false, now);
      this.removeNode(existing, false, false, undefined);
    }
    let n: V2Node;
    if (!dir) {
      e.node.value = value;
      n = V2Node.key(nodePath, value, nextIndex, d, expireTime);
    } else {
      e.node.dir = true;
      n = V2Node.dir(nodePath, nextIndex, d, expireTime);
    }
    d.children!.set(nodeName, n);
    if (!n.isPermanent) {
      this.ttlHeap.push(n);
      Object.assign(e.node, n.ttlFields(now));
    }
    this.currentIndex = nextIndex;
    return e;
  }

  /** etcd's walk with checkDir: the directory at dirPath, creating missing ones at the next index. */
  private walkCreatingDirs(dirPath: string): V2Node {
    let node = this.root;
    for (const name of components(dirPath)) {
      const child = node.children!.get(name);
      if (child !== undefined) {
        if (!child.isDir) throw new V2Error(V2ErrorCode.NotDir, child.path, this.currentIndex);
        node = child;
        continue;
      }
      const created = V2Node.dir(joinPath(node.path, name), this.currentIndex + 1, node);
      node.children!.set(name, created);
      node = created;
    }
    return node;
  }

  /** etcd's node.Remove: unlinks the node (and, recursively, a directory's children), telling `notify`. */
  private removeNode(
    n: V2Node,
    dir: boolean,
    recursive: boolean,
    notify: ((path: string) => void) | undefined,
  ): void {
    if (!n.isDir) {
      if (n.parent !== undefined && n.parent.children!.get(n.name) === n) n.parent.children!.delete(n.name);
      notify?.(n.path);
      if (!n.isPermanent) this.ttlHeap.remove(n);
      return;
    }
    if (!dir) throw new V2Error(V2ErrorCode.NotFile, n.path, this.currentIndex);
    if (n.children!.size !== 0 && !recursive) {
      throw new V2Error(V2ErrorCode.DirNotEmpty, n.path, this.currentIndex);
    }
    for (const child of [...n.children!.values()]) this.removeNode(child, true, true, notify);
    if (n.parent !== undefined && n.parent.children!.get(n.name) === n) {
      n.parent.children!.delete(n.name);
      notify?.(n.path);
      if (!n.isPermanent) this.ttlHeap.remove(n);
    }
  }

  private updateTtl(n: V2Node, expireTime: bigint | undefined): void {
    if (!n.isPermanent) {
      n.expireTime = expireTime;
      if (expireTime === undefined) this.ttlHeap.remove(n);
      else this.ttlHeap.update(n);
      return;
    }
    if (expireTime === undefined) return;
    n.expireTime = expireTime;
    this.ttlHeap.push(n);
  }
}

/** etcd's loadInternalNode: a Get's node, a directory listing its (visible) children. */
function loadInternalNode(
  out: NodeExtern,
  n: V2Node,
  recursive: boolean,
  sorted: boolean,
  now: bigint,
): void {
  if (n.isDir) {
    out.dir = true;
    out.nodes = listing(n, recursive, sorted, now);
  } else {
    out.value = n.value;
  }
  Object.assign(out, n.ttlFields(now));
}

/** The cause etcd gives a failed compare, or undefined when it holds. */
function compareFailure(n: V2Node, prevValue: string, prevIndex: number): string | undefined {
  const indexMatch = prevIndex === 0 || n.modifiedIndex === prevIndex;
  const valueMatch = prevValue === '' || n.value === prevValue;
  if (indexMatch && valueMatch) return undefined;
  if (indexMatch) return `[${prevValue} != ${n.value}]`;
  if (valueMatch) return `[${prevIndex} != ${n.modifiedIndex}]`;
  return `[${prevValue} != ${n.value}] [${prevIndex} != ${n.modifiedIndex}]`;
}
