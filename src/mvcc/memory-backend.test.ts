import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SteppedDisk } from '../fs/stepped-disk.js';
import type { Timer } from '../runtime/clock.js';
import { seededRandom } from '../util/seeded-random.js';
import { ALL, applyGeneratedEntry, dec, enc, TestStore } from './fixtures.js';
import { type BackendCrash, MemoryBackend } from './memory-backend.js';
import type { BackendReadView } from './read-view.js';
import { decodeRevision } from './revision.js';
import { MvccStore } from './store.js';

/** Applies generated entries from..to, with a side-bucket write on every 4th. */
function apply(store: MvccStore, from: number, to: number): void {
  for (let i = from; i <= to; i++) {
    if (i % 4 === 0) store.putAux('lease', enc(`l${i % 3}`), enc(`${i}`));
    if (i % 12 === 0) store.deleteAux('lease', enc('l1'));
    applyGeneratedEntry(store, i);
  }
}

interface Digest {
  hash: number;
  revision: number;
  compact: number;
  index: number;
  keys: string;
  leases: string;
}

function digest(store: MvccStore): Digest {
  const h = store.hashKV(0);
  return {
    hash: h.hash,
    revision: h.revision,
    compact: h.compactRevision,
    index: store.consistentIndex(),
    keys: store
      .range({ key: enc('\0'), rangeEnd: ALL })
      .kvs.map((kv) => `${dec(kv.key)}=${dec(kv.value)}@${kv.modRevision}`)
      .join(' '),
    leases: store
      .scanAux('lease')
      .map(([k, v]) => `${dec(k)}=${dec(v)}`)
      .join(' '),
  };
}

/** The store an uninterrupted run leaves after entries 1..n. */
async function reference(n: number): Promise<Digest> {
  const s = MvccStore.openOn(new MemoryBackend());
  apply(s, 1, n);
  const d = digest(s);
  await s.close();
  return d;
}

function viewDump(v: BackendReadView): string {
  const hex = (e: { key: Buffer; value: Buffer }) => `${e.key.toString('hex')}:${e.value.toString('hex')}`;
  const parts = [
    [...v.records()].map(hex).join(','),
    ['consistent_index', 'scheduledCompactRev', 'finishedCompactRev'].map((m) =>
      v.metaValue(m as 'consistent_index'),
    ),
    v.auxBuckets().join(','),
    [...v.aux('lease')].map(hex).join(','),
  ];
  v.close();
  return JSON.stringify(parts);
}

/** True once the store's scheduled compaction has finished (its meta marks agree). */
function compactionDone(store: MvccStore): boolean {
  const v = store.exportView();
  const done = v.metaValue('scheduledCompactRev') === v.metaValue('finishedCompactRev');
  v.close();
  return done;
}

/** Waits for background compactions (they finish on their own; the store has no public hook). */
const settle = async (...stores: MvccStore[]) => {
  for (let i = 0; i < 5 || (i < 10_000 && !stores.every(compactionDone)); i++) {
    await new Promise<void>((r) => setImmediate(r));
  }
};

describe('MemoryBackend', () => {
  test('the store on memory matches the store on LMDB, hash, reads, side buckets and export', async () => {
    const lmdb = TestStore.create({ batchLimit: 37, compactionBatchLimit: 20 });
    const mem = MvccStore.openOn(new MemoryBackend({ batchLimit: 37 }), { compactionBatchLimit: 20 });
    apply(lmdb.store, 1, 400);
    apply(mem, 1, 400);
    await settle(mem, lmdb.store);
    assert.deepEqual(digest(mem), digest(lmdb.store));
    assert.deepEqual(mem.readEvents(100, 300), lmdb.store.readEvents(100, 300));
    assert.equal(viewDump(mem.exportView()), viewDump(lmdb.store.exportView()));
    assert.ok(mem.sizeBytes() > 0 && mem.sizeInUseBytes() <= mem.sizeBytes());
    await mem.close();
    await lmdb.close();
  });

  test('a crash keeps what was flushed (power loss) or committed (process kill); replay converges', async () => {
    const total = 300;
    const want = await reference(total);
    const kinds: string[] = [];
    for (let seed = 1; seed <= 24; seed++) {
      const random = seededRandom(seed);
      const backend = new MemoryBackend({
        batchLimit: 1 + Math.floor(random() * 40),
        batchIntervalMs: 3_600_000,
      });
      const store = MvccStore.openOn(backend);
      const flushAt = Math.floor(random() * 200);
      const stopAt = flushAt + Math.floor(random() * 100);
      apply(store, 1, flushAt);
      await store.flush();
      apply(store, flushAt + 1, stopAt);
      const committed = backend.unflushedCommits();
      const keep: BackendCrash = [{ random }, 'flushed', 'committed'][seed % 3] as BackendCrash;
      const after = backend.crash(keep);
      assert.throws(() => store.range({ key: enc('k1') }), /used after crash/);
      const reopened = MvccStore.openOn(after);
      const ci = reopened.consistentIndex();
      const where = `seed ${seed}: flushed at ${flushAt}, stopped at ${stopAt}, keep ${JSON.stringify(keep)}, index ${ci}`;
      if (keep === 'flushed') assert.equal(ci, flushAt, where);
      else assert.ok(ci >= flushAt && ci <= stopAt, where);
      if (keep === 'committed' && committed > 0) assert.ok(ci > flushAt, where);
      kinds.push(ci === flushAt ? 'flushed' : ci === stopAt ? 'all' : 'some');
      // What is on disk is exactly the state after entry ci; replaying the rest converges.
      assert.deepEqual(digest(reopened), await reference(ci), where);
      apply(reopened, ci + 1, total);
      await settle();
      assert.deepEqual(digest(reopened), want, where);
      await reopened.close();
    }
    assert.ok(new Set(kinds).size === 3, `crashes kept flushed, some and all commits: ${kinds}`);
  });

  test('flush waits for the disk; a crash before it completes keeps nothing new', async () => {
    const disk = new SteppedDisk();
    const backend = new MemoryBackend({ disk });
    const store = MvccStore.openOn(backend);
    apply(store, 1, 10);
    const flushing = store.flush();
    assert.equal(disk.pending().length, 1);
    disk.step();
    await flushing;
    apply(store, 11, 20);
    void store.flush();
    const after = backend.crash('flushed');
    disk.step();
    assert.equal(MvccStore.openOn(after).consistentIndex(), 10);
  });

  test('the batch timer runs on the injected clock', () => {
    const armed: (() => void)[] = [];
    const clock = {
      after: (_ms: number, fn: () => void): Timer => {
        armed.push(fn);
        return { cancel: () => armed.splice(armed.indexOf(fn), 1) };
      },
    };
    const backend = new MemoryBackend({ clock, batchIntervalMs: 100 });
    const store = MvccStore.openOn(backend);
    apply(store, 1, 3);
    assert.equal(armed.length, 1);
    assert.equal(backend.unflushedCommits(), 0);
    armed.shift()!();
    assert.equal(backend.unflushedCommits(), 1);
    assert.equal(backend.crash('committed') instanceof MemoryBackend, true);
  });

  test('a read view stays at its point in time while the store goes on', async () => {
    const store = MvccStore.openOn(new MemoryBackend());
    apply(store, 1, 50);
    const view = store.exportView();
    const before = [...view.records()].length;
    apply(store, 51, 120);
    await settle();
    assert.equal([...view.records()].length, before);
    assert.equal(view.metaValue('consistent_index'), 50);
    view.close();
    assert.throws(() => [...view.records()], /used after close/);
    await store.close();
  });

  test('replaceFrom(backend) takes the other content in place; the handle stays valid', async () => {
    const backend = new MemoryBackend();
    const store = MvccStore.openOn(backend);
    apply(store, 1, 30);
    const other = new MemoryBackend();
    const source = MvccStore.openOn(other);
    apply(source, 1, 80);
    const want = digest(source);
    await source.close();
    await store.replaceFrom(other);
    assert.deepEqual(digest(store), want);
    // Durable at once: a power loss right after keeps the new content.
    const after = backend.crash('flushed');
    assert.deepEqual(digest(MvccStore.openOn(after)), want);
  });

  test('defragment shrinks the accounted size to what is live; copy() and path-based calls', async () => {
    const store = MvccStore.openOn(new MemoryBackend());
    for (let i = 1; i <= 200; i++) store.put(i, { key: enc(`k${i % 5}`), value: Buffer.alloc(100, i) });
    await store.compact(201, 190).done;
    const before = store.sizeBytes();
    assert.ok(store.sizeInUseBytes() < before);
    await store.defragment();
    assert.equal(store.sizeBytes(), store.sizeInUseBytes());
    assert.ok(store.sizeBytes() < before);
    await assert.rejects(store.snapshotTo('/tmp/x'), /no file/);
    await assert.rejects(store.replaceFrom('/tmp/x'), /cannot take the file/);
    await store.close();
  });

  test('loadRecords and copy(): an imported or copied backend opens to the same store', async () => {
    const backend = new MemoryBackend();
    const store = MvccStore.openOn(backend);
    apply(store, 1, 120);
    await settle();
    const want = digest(store);
    // What an import does: records as they are, then meta and side buckets in one commit.
    const view = store.exportView();
    const target = new MemoryBackend();
    target.loadRecords(
      [...view.records()].map((e) => {
        const rev = decodeRevision(e.key);
        return { rev: { main: rev.main, sub: rev.sub }, tombstone: rev.tombstone, value: e.value };
      }),
    );
    for (const m of ['consistent_index', 'scheduledCompactRev', 'finishedCompactRev'] as const) {
      const v = view.metaValue(m);
      if (v !== undefined) target.setMeta(m, v);
    }
    for (const e of view.aux('lease')) target.setAux('lease', e.key, e.value);
    view.close();
    target.commit();
    assert.deepEqual(digest(MvccStore.openOn(target)), want);
    const copy = backend.copy();
    assert.deepEqual(digest(MvccStore.openOn(copy.crash('flushed'))), want, 'a copy is durable at once');
  });

  test('reopen after a clean close sees everything', async () => {
    const backend = new MemoryBackend({ batchIntervalMs: 3_600_000 });
    const store = MvccStore.openOn(backend);
    apply(store, 1, 40);
    const want = digest(store);
    await store.close();
    assert.deepEqual(digest(MvccStore.openOn(backend.reopen())), want);
  });
});
