import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Backend } from './backend.js';
import { ALL, applyGeneratedEntry, dec, enc, removeDb, TestStore, tempDbPath } from './fixtures.js';
import { MvccStore } from './store.js';

const WRITER = fileURLToPath(new URL('./crash-writer.js', import.meta.url));

/** A store that applied entries 1..n without interruption. */
async function reference(n: number): Promise<{ hash: number; revision: number; compact: number }> {
  const t = TestStore.create();
  for (let i = 1; i <= n; i++) applyGeneratedEntry(t.store, i);
  const h = t.store.hashKV(0);
  await t.close();
  return { hash: h.hash, revision: h.revision, compact: h.compactRevision };
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = buf.match(pattern);
      if (m) resolve(m[0]);
    });
    child.on('exit', (code) => reject(new Error(`writer exited early (${code})`)));
  });
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('reopen', () => {
  test('restores keys, history, revisions, compaction and consistent index', async () => {
    const p = tempDbPath();
    const s = MvccStore.open(p);
    s.put(1, { key: enc('a'), value: enc('1'), lease: 5n });
    s.put(2, { key: enc('b'), value: enc('1') });
    s.put(3, { key: enc('a'), value: enc('2'), lease: 5n });
    s.deleteRange(4, { key: enc('b') });
    await s.compact(5, 3).done;
    s.put(6, { key: enc('c'), value: enc('1') });
    s.markApplied(7);
    const hash = s.hashKV(0);
    await s.close();

    const r = MvccStore.open(p);
    assert.equal(r.consistentIndex(), 7);
    assert.equal(r.currentRevision(), 6);
    assert.equal(r.compactedRevision(), 3);
    assert.deepEqual(r.hashKV(0), hash);
    assert.deepEqual(
      r.range({ key: enc('a'), rangeEnd: ALL }).kvs.map((kv) => [dec(kv.key), dec(kv.value), kv.version]),
      [
        ['a', '2', 2],
        ['c', '1', 1],
      ],
    );
    assert.equal(r.range({ key: enc('b'), revision: 4 }).kvs.length, 1);
    assert.deepEqual(r.keysWithLeases(), [{ key: enc('a'), lease: 5n }]);
    assert.equal(r.put(8, { key: enc('a'), value: enc('3') }).rev, 7);
    assert.equal(r.range({ key: enc('a') }).kvs[0]!.version, 3);
    await r.close();
    removeDb(p);
  });

  test('snapshotTo writes a copy that opens to the same state', async () => {
    const t = TestStore.create();
    for (let i = 0; i < 20; i++) t.put(`k${i % 4}`, `${i}`);
    t.del('k1');
    const copy = `${t.dbPath}.snap`;
    await t.store.snapshotTo(copy);
    t.put('after', 'x');
    const r = MvccStore.open(copy);
    assert.equal(r.consistentIndex(), 21);
    assert.equal(r.currentRevision(), 22);
    assert.deepEqual(
      r.range({ key: enc('k'), rangeEnd: ALL }).kvs.map((kv) => dec(kv.key)),
      ['k0', 'k2', 'k3'],
    );
    await r.close();
    await t.close();
  });

  test('side buckets share the batch and the consistent index', async () => {
    const p = tempDbPath();
    const s = MvccStore.open(p);
    s.putAux('lease', enc('0001'), enc('ttl=5'));
    s.putAux('lease', enc('0002'), enc('ttl=9'));
    s.markApplied(1);
    s.deleteAux('lease', enc('0001'));
    s.putAux('members', enc('m1'), enc('x'));
    assert.equal(s.getAux('lease', enc('0001')), undefined, 'reads see the batch');
    s.markApplied(2);
    await s.close();
    const r = MvccStore.open(p);
    assert.equal(r.consistentIndex(), 2);
    assert.deepEqual(
      r.scanAux('lease').map(([k, v]) => [dec(k), dec(v)]),
      [['0002', 'ttl=9']],
    );
    assert.equal(dec(r.getAux('members', enc('m1'))!), 'x');
    r.putAux('lease', enc('0000'), enc('new'));
    assert.deepEqual(
      r.scanAux('lease').map(([k]) => dec(k)),
      ['0000', '0002'],
    );
    await r.close();
    removeDb(p);
  });

  test('defragment shrinks the file and keeps the state', async () => {
    const t = TestStore.create();
    const big = 'x'.repeat(4000);
    for (let i = 0; i < 400; i++) t.put(`k${i % 10}`, `${big}${i}`);
    await t.store.compact(t.next++, t.store.currentRevision()).done;
    await t.store.flush();
    const before = t.store.sizeBytes();
    const hash = t.store.hashKV(0);
    const pending = t.store.defragment();
    assert.throws(() => t.get('k1'), /defragmenting/);
    await pending;
    assert.ok(t.store.sizeBytes() < before / 4, `${t.store.sizeBytes()} < ${before} / 4`);
    assert.deepEqual(t.store.hashKV(0), hash);
    assert.equal(t.put('k1', 'after').rev, 402);
    assert.equal(t.keys('k', 'l').length, 10);
    await t.close();
  });

  test('after deleting the newest keys and compacting, the revision survives a reopen', async () => {
    const p = tempDbPath();
    const s = MvccStore.open(p);
    s.put(1, { key: enc('a'), value: enc('1') });
    s.deleteRange(2, { key: enc('a') });
    await s.compact(3, 3).done;
    await s.close();
    const r = MvccStore.open(p);
    assert.equal(r.currentRevision(), 3);
    assert.equal(r.put(4, { key: enc('x'), value: enc('1') }).rev, 4);
    await r.close();
    removeDb(p);
  });

  test('a compaction scheduled but not finished is resumed on open', async () => {
    const p = tempDbPath();
    const s = MvccStore.open(p);
    for (let i = 1; i <= 5; i++) s.put(i, { key: enc('a'), value: enc(`${i}`) });
    await s.close();
    // Simulate a crash right after the schedule mark was committed.
    const b = Backend.open(p);
    b.setMeta('scheduledCompactRev', 4);
    await b.close();
    const r = MvccStore.open(p);
    assert.equal(r.compactedRevision(), 4);
    assert.throws(() => r.range({ key: enc('a'), revision: 3 }), { code: 'compacted' });
    await r.close();
    const again = MvccStore.open(p);
    assert.deepEqual(
      again.readEvents(0, 10).map((e) => e.kv.modRevision),
      [4, 5, 6],
      'records below the compaction point are gone, except the one it keeps',
    );
    await again.close();
    removeDb(p);
  });
});

describe('crash safety', () => {
  test('uncommitted entries are lost together with their consistent index; replay converges', async () => {
    const p = tempDbPath();
    const child = spawn(process.execPath, [WRITER, p, 'partial', '300', '240'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await waitForLine(child, /ready/);
    await kill(child);
    const s = MvccStore.open(p);
    // Entries 301..540 were never committed by a batch, except that every compaction (each 50th
    // entry) commits the batch before deleting: 500 is the last entry surely on disk. The
    // compaction at 500 deletes in later chunks, and a chunk that runs before the kill lands
    // also commits what was batched behind it, so the disk may hold up to 540 -- but always
    // exactly a prefix, equal to a clean run up to its consistent index.
    const ci = s.consistentIndex();
    assert.ok(ci === 500 || ci === 540, `a committed prefix ending at a commit point, got ${ci}`);
    const mid = await reference(ci);
    assert.equal(s.hashKV(0).hash, mid.hash);
    for (let i = s.consistentIndex() + 1; i <= 540; i++) applyGeneratedEntry(s, i);
    const full = await reference(540);
    assert.deepEqual(
      { hash: s.hashKV(0).hash, revision: s.currentRevision(), compact: s.compactedRevision() },
      full,
    );
    await s.close();
    removeDb(p);
  });

  test('SIGKILL at arbitrary points leaves a state equal to a clean run up to the consistent index', async () => {
    const p = tempDbPath();
    let lastIndex = 0;
    for (const delayMs of [400, 600]) {
      const child = spawn(process.execPath, [WRITER, p, 'stream'], { stdio: ['ignore', 'pipe', 'inherit'] });
      await waitForLine(child, /start \d+/);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await kill(child);
      const s = MvccStore.open(p);
      const ci = s.consistentIndex();
      assert.ok(ci > lastIndex, `progress after restart (${ci} > ${lastIndex})`);
      lastIndex = ci;
      const ref = await reference(ci);
      assert.deepEqual(
        { hash: s.hashKV(0).hash, revision: s.currentRevision(), compact: s.compactedRevision() },
        ref,
        `state at consistent index ${ci}`,
      );
      await s.close();
    }
    removeDb(p);
  });
});
