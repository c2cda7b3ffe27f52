// Model-based test: random puts, deletes, txns, compactions and reopens against a
// trivially correct model (a full copy of the key space per revision). After each
// step, reads at every revision must match the model. Runs on both backends (LMDB, memory).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../util/seeded-random.js';
import { ALL, dec, enc, opDel, opPut, removeDb, tempDbPath } from './fixtures.js';
import { MemoryBackend } from './memory-backend.js';
import { MvccStore, type MvccStoreOptions } from './store.js';
import type { RequestOp } from './types.js';

interface ModelKv {
  value: string;
  create: number;
  mod: number;
  version: number;
}
type State = Map<string, ModelKv>;

const rng = seededRandom;

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f'];

class Model {
  /** states[r] = key space at revision r (index 1 = empty store). */
  states: State[] = [new Map(), new Map()];
  compacted = -1;
  rev(): number {
    return this.states.length - 1;
  }
  /** Applies writes that share one new revision; returns false if nothing changed. */
  apply(writes: ({ put: string; value: string } | { del: string; end: string | null })[]): void {
    const rev = this.rev() + 1;
    const next = new Map(this.states[this.rev()]!);
    let changed = false;
    for (const w of writes) {
      if ('put' in w) {
        const prev = next.get(w.put);
        next.set(w.put, {
          value: w.value,
          create: prev ? prev.create : rev,
          mod: rev,
          version: prev ? prev.version + 1 : 1,
        });
        changed = true;
      } else {
        for (const k of [...next.keys()]) {
          const hit = w.end === null ? k === w.del : k >= w.del && k < w.end;
          if (hit) {
            next.delete(k);
            changed = true;
          }
        }
      }
    }
    if (changed) this.states.push(next);
  }
}

function snapshot(store: MvccStore, rev: number): string {
  const r = store.range({ key: enc('\0'), rangeEnd: ALL, revision: rev });
  return r.kvs
    .map((kv) => `${dec(kv.key)}=${dec(kv.value)}/${kv.createRevision}/${kv.modRevision}/${kv.version}`)
    .join(' ');
}

function modelSnapshot(state: State): string {
  return [...state.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v.value}/${v.create}/${v.mod}/${v.version}`)
    .join(' ');
}

/** Opens a store on a fresh backend, reopens it after a clean close, removes what it made. */
interface Backing {
  open(opts: MvccStoreOptions): MvccStore;
  reopen(opts: MvccStoreOptions): MvccStore;
  dispose(): void;
}

function lmdbBacking(): Backing {
  const dbPath = tempDbPath();
  return {
    open: (opts) => MvccStore.open(dbPath, opts),
    reopen: (opts) => MvccStore.open(dbPath, opts),
    dispose: () => removeDb(dbPath),
  };
}

function memoryBacking(): Backing {
  let backend = new MemoryBackend();
  return {
    open: (opts) => MvccStore.openOn(backend, opts),
    reopen: (opts) => {
      backend = backend.reopen();
      return MvccStore.openOn(backend, opts);
    },
    dispose: () => {},
  };
}

async function runSeed(seed: number, steps: number, backing: Backing): Promise<void> {
  const rand = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  let store = backing.open({ compactionBatchLimit: 50 });
  const model = new Model();
  let index = 0;
  for (let step = 0; step < steps; step++) {
    const dice = rand();
    const where = `seed ${seed} step ${step}`;
    if (dice < 0.4) {
      const key = pick(KEYS);
      const value = `${step}`;
      store.put(++index, { key: enc(key), value: enc(value) });
      model.apply([{ put: key, value }]);
    } else if (dice < 0.55) {
      const from = pick(KEYS);
      const end = rand() < 0.5 ? null : pick([...KEYS, 'z']);
      store.deleteRange(++index, { key: enc(from), ...(end ? { rangeEnd: enc(end) } : {}) });
      model.apply([{ del: from, end }]);
    } else if (dice < 0.82) {
      // A txn with distinct keys: a few puts, maybe one single-key delete.
      const keys = [...KEYS].sort(() => rand() - 0.5).slice(0, 3);
      const ops: RequestOp[] = [];
      const writes: Parameters<Model['apply']>[0] = [];
      keys.forEach((k, i) => {
        if (i === 2 && rand() < 0.5) {
          ops.push(opDel(k));
          writes.push({ del: k, end: null });
        } else {
          ops.push(opPut(k, `t${step}`));
          writes.push({ put: k, value: `t${step}` });
        }
      });
      const res = store.txn(++index, { success: ops });
      model.apply(writes);
      assert.equal(res.rev, model.rev(), `${where}: txn revision`);
    } else if (dice < 0.87) {
      const target = model.compacted + 1 + Math.floor(rand() * (model.rev() - model.compacted));
      if (target > model.compacted && target <= model.rev()) {
        const { done } = store.compact(++index, target);
        model.compacted = target;
        if (rand() < 0.5) await done;
      } else {
        store.markApplied(++index);
      }
    } else if (dice < 0.9) {
      await store.close();
      store = backing.reopen({ compactionBatchLimit: 50 });
      assert.equal(store.consistentIndex(), index, `${where}: consistent index after reopen`);
    } else {
      store.markApplied(++index);
    }
    assert.equal(store.currentRevision(), model.rev(), `${where}: current revision`);
    assert.equal(store.compactedRevision(), model.compacted, `${where}: compacted revision`);
    // Every revision every 30 steps; otherwise the ends and a few random ones.
    const lowest = Math.max(1, model.compacted);
    const revs =
      step % 30 === 29
        ? Array.from({ length: model.rev() - lowest + 1 }, (_, i) => lowest + i)
        : [
            lowest,
            model.rev(),
            ...[1, 2, 3].map(() => lowest + Math.floor(rand() * (model.rev() - lowest + 1))),
          ];
    for (const r of revs) {
      assert.equal(snapshot(store, r), modelSnapshot(model.states[r]!), `${where}: state at revision ${r}`);
    }
    if (model.compacted > 1) {
      assert.throws(() => store.range({ key: enc('a'), revision: model.compacted - 1 }), {
        code: 'compacted',
      });
    }
  }
  await store.close();
  backing.dispose();
}

describe('store against a model', () => {
  test('random histories (seeds 1-10, 150 steps each)', async () => {
    for (let seed = 1; seed <= 10; seed++) await runSeed(seed, 150, lmdbBacking());
  });

  test('random histories on the memory backend (seeds 1-10, 150 steps each)', async () => {
    for (let seed = 1; seed <= 10; seed++) await runSeed(seed, 150, memoryBacking());
  });
});
