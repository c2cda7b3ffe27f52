// The revisions of one key, grouped in generations. A generation runs from the
// put that (re)creates the key to the tombstone that deletes it; the last
// generation is the current one and is empty while the key is deleted.
// Example: put@2, put@3, delete@4, put@6 gives [{2,3,4(t)}, {6}].
// Pure data structure: no I/O.

import { assertInvariant } from './errors.js';
import { compareRevisions, type Revision, revisionId } from './revision.js';

export interface KeyAtRevision {
  /** The revision of the record holding the key's value at the asked revision. */
  modified: Revision;
  created: Revision;
  version: number;
}

interface Generation {
  /** Number of puts in this generation so far, including any already compacted away. */
  version: number;
  created: Revision;
  revs: Revision[];
}

function emptyGeneration(): Generation {
  return { version: 0, created: { main: 0, sub: 0 }, revs: [] };
}

function lastOf<T>(items: T[]): T {
  assertInvariant(items.length > 0, 'lastOf on an empty list');
  return items[items.length - 1]!;
}

/** Index of the newest revision with main <= atRev, or -1. */
function newestAtOrBelow(g: Generation, atRev: number): number {
  for (let i = g.revs.length - 1; i >= 0; i--) {
    if (g.revs[i]!.main <= atRev) return i;
  }
  return -1;
}

export class KeyHistory {
  private generations: Generation[] = [emptyGeneration()];
  private modified: Revision = { main: 0, sub: 0 };

  /** `key` is the key's bytes as a latin1 string (one char per byte, so it sorts like the bytes). */
  constructor(readonly key: string) {}

  /** True when no revision is left at all (the index drops such keys). */
  isEmpty(): boolean {
    return this.generations.length === 1 && this.generations[0]!.revs.length === 0;
  }

  /** True when the key currently exists (its newest generation has not been ended by a tombstone). */
  isLive(): boolean {
    return lastOf(this.generations).revs.length > 0;
  }

  lastModified(): Revision {
    return this.modified;
  }

  put(rev: Revision): void {
    assertInvariant(compareRevisions(rev, this.modified) > 0, 'put with a revision not above the last one');
    const g = lastOf(this.generations);
    if (g.revs.length === 0) g.created = rev;
    g.revs.push(rev);
    g.version++;
    this.modified = rev;
  }

  /** Ends the current generation. Returns false (and changes nothing) when the key is not live. */
  tombstone(rev: Revision): boolean {
    if (!this.isLive()) return false;
    this.put(rev);
    this.generations.push(emptyGeneration());
    return true;
  }

  /**
   * Seeds a key rebuilt from the backend whose earlier history was compacted away:
   * created revision and version come from the stored KeyValue.
   */
  restore(created: Revision, modified: Revision, version: number): void {
    assertInvariant(this.isEmpty(), 'restore on a key that already has revisions');
    assertInvariant(version >= 1, 'restored version must be >= 1');
    this.generations = [{ version, created, revs: [modified] }];
    this.modified = modified;
  }

  /** The key's state at revision `atRev`, or undefined when it did not exist then. */
  get(atRev: number): KeyAtRevision | undefined {
    const g = this.findGeneration(atRev);
    if (g === undefined) return undefined;
    const n = newestAtOrBelow(g, atRev);
    if (n === -1) return undefined;
    return { modified: g.revs[n]!, created: g.created, version: g.version - (g.revs.length - n - 1) };
  }

  private findGeneration(atRev: number): Generation | undefined {
    const last = this.generations.length - 1;
    for (let i = last; i >= 0; i--) {
      const g = this.generations[i]!;
      if (g.revs.length === 0) continue;
      // A closed generation whose tombstone is at or below atRev means the key was deleted then.
      if (i !== last && lastOf(g.revs).main <= atRev) return undefined;
      if (g.revs[0]!.main <= atRev) return g;
    }
    return undefined;
  }

  /**
   * First generation that still matters at `atRev`: the first whose tombstone is above atRev,
   * or the current one. Everything before it was deleted at or before atRev.
   */
  private compactionStart(atRev: number): number {
    let i = 0;
    while (i < this.generations.length - 1 && lastOf(this.generations[i]!.revs).main <= atRev) i++;
    return i;
  }

  /**
   * Drops every revision <= atRev except the newest one of the generation alive at atRev
   * (which is added to `keep`); a tombstone is not kept. Afterwards isEmpty() may hold.
   */
  compact(atRev: number, keep: Set<string>): void {
    let start = this.compactionStart(atRev);
    const g = this.generations[start]!;
    const n = newestAtOrBelow(g, atRev);
    if (n !== -1) {
      g.revs = g.revs.slice(n);
      const isClosed = start !== this.generations.length - 1;
      if (isClosed && g.revs.length === 1) {
        // Only the tombstone is left: the key did not exist at atRev, nothing to keep.
        start++;
      } else {
        keep.add(revisionId(g.revs[0]!.main, g.revs[0]!.sub));
      }
    }
    this.generations = this.generations.slice(start);
  }

  /** Adds to `keep` the revision compact(atRev) would keep, without changing anything. */
  keep(atRev: number, keep: Set<string>): void {
    if (this.isEmpty()) return;
    const start = this.compactionStart(atRev);
    const g = this.generations[start]!;
    const n = newestAtOrBelow(g, atRev);
    if (n === -1) return;
    const isTombstone = start !== this.generations.length - 1 && n === g.revs.length - 1;
    if (!isTombstone) keep.add(revisionId(g.revs[n]!.main, g.revs[n]!.sub));
  }

  /** Debug/test view: each generation's revisions as "main.sub". */
  describe(): string[][] {
    return this.generations.map((g) => g.revs.map((r) => revisionId(r.main, r.sub)));
  }
}
