// Shared helpers for the mvcc tests (not a test file itself).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MvccStore, type MvccStoreOptions } from './store.js';
import type { KeyValue, RequestOp } from './types.js';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export function tempDbPath(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mvcc-test-'));
  fs.mkdirSync(path.join(dir, 'member', 'snap'), { recursive: true });
  return path.join(dir, 'member', 'snap', 'db');
}

export function removeDb(dbPath: string): void {
  fs.rmSync(path.dirname(path.dirname(path.dirname(dbPath))), { recursive: true, force: true });
}

/** A store on a fresh temp file that numbers raft entries itself. */
export class TestStore {
  next = 1;
  constructor(
    readonly store: MvccStore,
    readonly dbPath: string,
  ) {}

  static create(opts: MvccStoreOptions = {}): TestStore {
    const p = tempDbPath();
    return new TestStore(MvccStore.open(p, opts), p);
  }

  put(key: string, value: string, extra: { lease?: bigint; prevKv?: boolean } = {}) {
    return this.store.put(this.next++, { key: enc(key), value: enc(value), ...extra });
  }

  del(key: string, rangeEnd?: string | Uint8Array, prevKv = false) {
    const end = typeof rangeEnd === 'string' ? enc(rangeEnd) : rangeEnd;
    return this.store.deleteRange(this.next++, { key: enc(key), ...(end ? { rangeEnd: end } : {}), prevKv });
  }

  /** Keys (as strings) of a range at the current revision. */
  keys(key: string, rangeEnd?: string | Uint8Array): string[] {
    const end = typeof rangeEnd === 'string' ? enc(rangeEnd) : rangeEnd;
    return this.store
      .range({ key: enc(key), ...(end ? { rangeEnd: end } : {}) })
      .kvs.map((kv) => dec(kv.key));
  }

  get(key: string, revision = 0): KeyValue | undefined {
    return this.store.range({ key: enc(key), revision }).kvs[0];
  }

  async close(): Promise<void> {
    await this.store.close();
    removeDb(this.dbPath);
  }
}

export const ALL = new Uint8Array([0]);

export const opPut = (key: string, value: string): RequestOp => ({
  request: { $case: 'requestPut', requestPut: { key: enc(key), value: enc(value) } },
});
export const opGet = (key: string, rangeEnd?: Uint8Array): RequestOp => ({
  request: { $case: 'requestRange', requestRange: { key: enc(key), ...(rangeEnd ? { rangeEnd } : {}) } },
});
export const opDel = (key: string, rangeEnd?: Uint8Array): RequestOp => ({
  request: {
    $case: 'requestDeleteRange',
    requestDeleteRange: { key: enc(key), ...(rangeEnd ? { rangeEnd } : {}) },
  },
});

/**
 * Deterministic stand-in for the raft log used by the crash tests: entry i is a txn writing two
 * keys, a delete every 7th entry, a compaction every 50th, a no-op every 11th.
 */
export function applyGeneratedEntry(store: MvccStore, i: number): void {
  if (i % 50 === 0) {
    const rev = store.currentRevision() - 5;
    if (rev > store.compactedRevision()) {
      void store.compact(i, rev).done.catch(() => {});
      return;
    }
    store.markApplied(i);
    return;
  }
  if (i % 11 === 0) {
    store.markApplied(i);
    return;
  }
  if (i % 7 === 0) {
    store.deleteRange(i, { key: enc(`k${(i + 3) % 10}`) });
    return;
  }
  store.txn(i, {
    success: [opPut(`k${i % 10}`, `${i}`), opPut('last', `${i}`)],
  });
}
