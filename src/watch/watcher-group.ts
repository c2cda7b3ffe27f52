// A set of watchers indexed for "who watches this key": single-key watchers in a map by
// key (one watcher stored bare, more in a Set, so a lone watcher costs one map entry),
// range watchers in an interval tree with one Set per distinct range (prefix watchers on
// the same prefix share a node).

import { IntervalTree } from './interval-tree.js';
import type { Watcher } from './watcher.js';

/** One watcher stored bare, several in a Set: a lone watcher costs no Set. */
type Entry = Watcher | Set<Watcher>;

export class WatcherGroup {
  private readonly keys = new Map<string, Entry>();
  private readonly ranges = new IntervalTree<Entry>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(w: Watcher): void {
    if (w.end === undefined) {
      const entry = this.keys.get(w.key);
      if (entry === undefined) this.keys.set(w.key, w);
      else {
        // Share the key string with the watchers already there.
        w.key = entry instanceof Set ? first(entry).key : entry.key;
        const grown = withAdded(entry, w);
        if (grown !== entry) this.keys.set(w.key, grown);
      }
    } else {
      const entry = this.ranges.get(w.key, w.end);
      if (entry === undefined) this.ranges.insert(w.key, w.end, w);
      else {
        const grown = withAdded(entry, w);
        if (grown !== entry) this.ranges.set(w.key, w.end, grown);
      }
    }
    this.count++;
  }

  /** Removes the watcher; it must be in the group. */
  delete(w: Watcher): void {
    if (w.end === undefined) {
      const rest = withRemoved(this.keys.get(w.key), w);
      if (rest === undefined) this.keys.delete(w.key);
      else this.keys.set(w.key, rest);
    } else {
      const rest = withRemoved(this.ranges.get(w.key, w.end), w);
      if (rest === undefined) this.ranges.delete(w.key, w.end);
      else this.ranges.set(w.key, w.end, rest);
    }
    this.count--;
  }

  /** Appends every watcher whose range holds `key` to `out` (a watcher at most once). */
  collect(key: string, out: Watcher[]): void {
    const entry = this.keys.get(key);
    if (entry !== undefined) pushAll(entry, out);
    if (this.ranges.size > 0) this.ranges.stab(key, (e) => pushAll(e, out));
  }

  forEach(visit: (w: Watcher) => void): void {
    const all: Watcher[] = [];
    for (const entry of this.keys.values()) pushAll(entry, all);
    this.ranges.forEach((entry) => {
      pushAll(entry, all);
    });
    for (const w of all) visit(w);
  }
}

function first(set: Set<Watcher>): Watcher {
  return set.values().next().value!;
}

function pushAll(entry: Entry, out: Watcher[]): void {
  if (entry instanceof Set) for (const w of entry) out.push(w);
  else out.push(entry);
}

function withAdded(entry: Entry, w: Watcher): Entry {
  if (entry === w || (entry instanceof Set && entry.has(w))) {
    throw new Error('watch: watcher added to a group twice');
  }
  if (entry instanceof Set) {
    entry.add(w);
    return entry;
  }
  return new Set([entry, w]);
}

/** The entry without `w` (undefined when it was the last one); `w` must be there. */
function withRemoved(entry: Entry | undefined, w: Watcher): Entry | undefined {
  if (entry === w) return undefined;
  if (entry instanceof Set && entry.delete(w)) return entry.size === 1 ? first(entry) : entry;
  throw new Error('watch: removing a watcher that is not in the group');
}
