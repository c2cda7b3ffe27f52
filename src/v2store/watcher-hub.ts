// Watchers of the v2 store (etcd's watcherHub): keyed by the watched path,
// notified along every prefix of an event's key. A watcher that is not a
// stream is done after its first event; a stream watcher that falls 100
// events behind is dropped, as etcd drops a watcher whose channel is full.
import { V2Error } from './errors.js';
import { eventIndex, type V2Event } from './event.js';
import { EventHistory } from './event-history.js';
import { cleanPath, joinPath } from './path.js';

/** etcd's per-watcher channel capacity. */
export const WATCHER_BUFFER = 100;

export class V2Watcher {
  private readonly queue: V2Event[] = [];
  private listener: (() => void) | undefined;
  /** Set once the watcher left the hub (done, dropped for lagging, or removed by its owner). */
  removed = false;
  /** The watcher lagged and was dropped: the owner should end the stream. */
  overflowed = false;
  /** Unlinks it from the hub; set by the hub while it is registered. */
  unlink: (() => void) | undefined;

  constructor(
    readonly recursive: boolean,
    readonly stream: boolean,
    readonly sinceIndex: number,
    /** The store index when the watch was made (X-Etcd-Index of the answer). */
    readonly startIndex: number,
  ) {}

  /** Takes the next queued event. */
  take(): V2Event | undefined {
    return this.queue.shift();
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Called whenever an event was queued or the watcher was dropped. */
  onChange(listener: (() => void) | undefined): void {
    this.listener = listener;
  }

  /** The owner is done with it (client gone, answer written). */
  remove(): void {
    this.listener = undefined;
    this.unlink?.();
    this.unlink = undefined;
    this.removed = true;
  }

  /** Queues an event already found in the history. */
  deliver(e: V2Event): void {
    this.queue.push(e);
    this.listener?.();
  }

  /** etcd's watcher.notify: true when the watcher took (or overflowed on) the event. */
  notify(e: V2Event, originalPath: boolean, deleted: boolean): boolean {
    if (!(this.recursive || originalPath || deleted) || eventIndex(e) < this.sinceIndex) return false;
    if (this.queue.length >= WATCHER_BUFFER) {
      this.overflowed = true;
      this.unlink?.();
      this.unlink = undefined;
      this.removed = true;
    } else {
      this.queue.push(e);
    }
    this.listener?.();
    return true;
  }
}

export class WatcherHub {
  history: EventHistory;
  private readonly watchers = new Map<string, V2Watcher[]>();
  private watcherCount = 0;

  constructor(capacity?: number) {
    this.history = new EventHistory(capacity);
  }

  get count(): number {
    return this.watcherCount;
  }

  /** Registers a watcher, or answers at once from the history (then it is not registered). */
  watch(key: string, recursive: boolean, stream: boolean, index: number, storeIndex: number): V2Watcher {
    let found: V2Event | undefined;
    try {
      found = this.history.scan(key, recursive, index);
    } catch (err) {
      if (err instanceof V2Error) err.index = storeIndex;
      throw err;
    }
    const w = new V2Watcher(recursive, stream, index, storeIndex);
    if (found !== undefined) {
      w.deliver({ ...found, etcdIndex: storeIndex });
      return w;
    }
    let list = this.watchers.get(key);
    if (list === undefined) {
      list = [];
      this.watchers.set(key, list);
    }
    list.push(w);
    this.watcherCount++;
    w.unlink = () => this.unregister(key, w);
    return w;
  }

  private unregister(key: string, w: V2Watcher): void {
    const list = this.watchers.get(key);
    if (list === undefined) return;
    const i = list.indexOf(w);
    if (i < 0) return;
    list.splice(i, 1);
    this.watcherCount--;
    if (list.length === 0) this.watchers.delete(key);
  }

  /** Keeps an event in the history without telling anyone (TTL refreshes). */
  add(e: V2Event): void {
    this.history.add(e);
  }

  /** Records the event and tells the watchers of every prefix of its key. */
  notify(e: V2Event): void {
    this.history.add(e);
    let current = '/';
    for (const segment of e.node.key.split('/')) {
      current = joinPath(current, segment);
      this.notifyWatchers(e, current, false);
    }
  }

  /** Tells the watchers of exactly `nodePath` (deleted: a removal reached that path). */
  notifyWatchers(e: V2Event, nodePath: string, deleted: boolean): void {
    const list = this.watchers.get(nodePath);
    if (list === undefined) return;
    for (const w of [...list]) {
      if (w.removed) continue;
      const originalPath = e.node.key === nodePath;
      if ((originalPath || !isHidden(nodePath, e.node.key)) && w.notify(e, originalPath, deleted)) {
        if (!w.stream && !w.removed) {
          w.unlink?.();
          w.unlink = undefined;
          w.removed = true;
        }
      }
    }
  }

  /** Keeps the registered watchers, takes the other hub's history (snapshot recovery). */
  adoptHistory(other: WatcherHub): void {
    this.history = other.history;
  }

  cloneHistoryOnly(): WatcherHub {
    const h = new WatcherHub(this.history.capacity);
    h.history = this.history.clone();
    return h;
  }
}

/** An event below a hidden node ("/_x") is not shown to watchers above it. */
function isHidden(watchPath: string, keyPath: string): boolean {
  if (watchPath.length > keyPath.length) return false;
  return cleanPath(`/${keyPath.slice(watchPath.length)}`).includes('/_');
}
