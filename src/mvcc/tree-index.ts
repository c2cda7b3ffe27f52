// In-memory ordered index: key → KeyHistory, sorted by key bytes. Answers
// "which record holds key K at revision R" without touching the backend.
// Keys are latin1 strings (one char per byte) so JS string order is byte order.
// Pure: no I/O.

import { assertInvariant } from './errors.js';
import { type KeyAtRevision, KeyHistory } from './key-history.js';
import type { Revision } from './revision.js';
import { SortedKeys } from './sorted-keys.js';

/** Where a range ends: `null` = only `key` itself, `''` = every key >= key, else exclusive end. */
export type RangeEnd = string | null;

export interface IndexedRevision {
  key: string;
  rev: Revision;
}

export function bytesToKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}

export function keyToBytes(key: string): Uint8Array {
  return new Uint8Array(Buffer.from(key, 'latin1'));
}

export class TreeIndex {
  /** Ordered view for range scans. */
  private tree = new SortedKeys<KeyHistory>((h) => h.key);
  /** Same entries, hashed: point lookups (the common case) skip the tree walk. */
  private byKey = new Map<string, KeyHistory>();

  /** Number of keys with any revision left (live or with history). */
  size(): number {
    assertInvariant(this.tree.size === this.byKey.size, 'index tree and map disagree');
    return this.tree.size;
  }

  get(key: string, atRev: number): KeyAtRevision | undefined {
    return this.byKey.get(key)?.get(atRev);
  }

  history(key: string): KeyHistory | undefined {
    return this.byKey.get(key);
  }

  private insert(h: KeyHistory): void {
    this.tree.insert(h);
    this.byKey.set(h.key, h);
  }

  put(key: string, rev: Revision): void {
    let h = this.byKey.get(key);
    if (h === undefined) {
      h = new KeyHistory(key);
      this.insert(h);
    }
    h.put(rev);
  }

  /** Returns false when the key is not live (nothing to delete). */
  tombstone(key: string, rev: Revision): boolean {
    const h = this.byKey.get(key);
    if (h === undefined) return false;
    return h.tombstone(rev);
  }

  /** Rebuild step for one backend record, in revision order (see MvccStore.open). */
  restoreRecord(key: string, rev: Revision, tombstone: boolean, created: Revision, version: number): void {
    const h = this.byKey.get(key);
    if (h !== undefined) {
      if (tombstone) {
        assertInvariant(h.tombstone(rev), 'backend has a tombstone for a key that is not live');
      } else {
        h.put(rev);
      }
      return;
    }
    // First record seen for this key: older history was compacted. A leading tombstone
    // carries no information (the key is absent before and after it).
    if (tombstone) return;
    const fresh = new KeyHistory(key);
    fresh.restore(created, rev, version);
    this.insert(fresh);
  }

  /** Calls `visit` for each key in the range that exists at `atRev`, in key order; stop by returning false. */
  forEachAt(
    key: string,
    end: RangeEnd,
    atRev: number,
    visit: (key: string, at: KeyAtRevision) => boolean,
  ): void {
    if (end === null) {
      const at = this.get(key, atRev);
      if (at !== undefined) visit(key, at);
      return;
    }
    if (end !== '' && end <= key) return;
    for (const h of this.tree.from(key)) {
      if (end !== '' && h.key >= end) return;
      const at = h.get(atRev);
      if (at !== undefined && !visit(h.key, at)) return;
    }
  }

  /** Every key in the range that exists at `atRev`, with the revision holding its value, in key order. */
  range(key: string, end: RangeEnd, atRev: number): IndexedRevision[] {
    const out: IndexedRevision[] = [];
    this.forEachAt(key, end, atRev, (k, at) => {
      out.push({ key: k, rev: at.modified });
      return true;
    });
    return out;
  }

  /** Compacts every key at `atRev`; returns the ids (revisionId) of the records still needed. */
  compact(atRev: number): Set<string> {
    const keep = new Set<string>();
    const emptied: string[] = [];
    for (const h of this.tree.from()) {
      h.compact(atRev, keep);
      if (h.isEmpty()) emptied.push(h.key);
    }
    for (const k of emptied) {
      this.tree.delete(k);
      this.byKey.delete(k);
    }
    return keep;
  }

  /** The ids compact(atRev) would keep, without compacting. */
  keep(atRev: number): Set<string> {
    const keep = new Set<string>();
    for (const h of this.tree.from()) h.keep(atRev, keep);
    return keep;
  }
}
