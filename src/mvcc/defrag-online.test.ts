import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Backend } from './backend.js';
import type { DefragStep } from './defrag-lmdb.js';
import { hasOnlineDefrag } from './defrag-online.js';
import { digest, FILL, writeStep } from './defrag-testkit.js';
import { enc, removeDb, TestStore, tempDbPath } from './fixtures.js';
import { MemoryBackend } from './memory-backend.js';
import { MvccStore } from './store.js';
import type { StoreBackend } from './store-backend.js';

const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Fills, prepares a defragmentation while commits go on, swaps; returns the commits made meanwhile. */
async function defragUnderWrites(
  b: StoreBackend,
): Promise<{ during: number; steps: number; sizeBefore: number }> {
  assert.ok(hasOnlineDefrag(b));
  let i = 0;
  for (; i <= FILL; i++) writeStep(b, i);
  const sizeBefore = b.sizeBytes();
  let prepared = false;
  const preparing = b.prepareDefragment().then(() => {
    prepared = true;
  });
  const first = i;
  while (!prepared) {
    writeStep(b, i++);
    await yieldTurn();
  }
  await preparing;
  const during = i - first;
  // Commits after the copy caught up, and a batch left uncommitted: the swap must take both.
  for (let n = 0; n < 5; n++) writeStep(b, i++);
  b.putRecord({ main: i + 1, sub: 0 }, false, enc('in the batch'));
  b.setMeta('consistent_index', i + 1);
  assert.equal(await b.defragmented(), b, 'the same backend object stays valid');
  return { during, steps: i, sizeBefore };
}

function modelDigest(steps: number, extra?: (m: MemoryBackend) => void): string {
  const m = new MemoryBackend();
  for (let i = 0; i < steps; i++) writeStep(m, i);
  extra?.(m);
  return digest(m);
}

describe('online defragmentation', () => {
  test('LMDB: commits during the copy all reach the compacted file; it is smaller', async () => {
    const q = tempDbPath();
    const lm = Backend.open(q);
    const { during, steps, sizeBefore } = await defragUnderWrites(lm);
    assert.ok(during > 0, 'commits happened while the copy was made');
    const expected = modelDigest(steps, (m) => {
      m.putRecord({ main: steps + 1, sub: 0 }, false, enc('in the batch'));
      m.setMeta('consistent_index', steps + 1);
    });
    assert.equal(digest(lm), expected);
    const after = lm.sizeBytes();
    // 280 of 300 records of 4 KB were deleted before: the file must have shrunk to a fraction.
    assert.ok(after < sizeBefore / 2, `size after defrag ${after}, before ${sizeBefore}`);
    writeStep(lm, steps + 1); // still writable after the swap
    await lm.close();
    const reopened = Backend.open(q);
    assert.equal(reopened.getMeta('consistent_index'), steps + 2);
    await reopened.close();
    removeDb(q);
  });

  test('MemoryBackend keeps the same semantics', async () => {
    const m = new MemoryBackend();
    const { steps } = await defragUnderWrites(m);
    const expected = modelDigest(steps, (x) => {
      x.putRecord({ main: steps + 1, sub: 0 }, false, enc('in the batch'));
      x.setMeta('consistent_index', steps + 1);
    });
    assert.equal(digest(m), expected);
    assert.equal(m.sizeBytes(), m.sizeInUseBytes());
    // Everything is durable after the swap, as the synced LMDB copy is.
    assert.equal(digest(m.crash('flushed')), expected);
  });

  test('the store stays usable while the copy is made; values and revisions exact after', async () => {
    const t = TestStore.create();
    const big = 'x'.repeat(4000);
    for (let i = 0; i < 400; i++) t.put(`k${i % 10}`, `${big}${i}`);
    await t.store.compact(t.next++, t.store.currentRevision()).done;
    await t.store.flush();
    const before = t.store.sizeBytes();
    let prepared = false;
    const preparing = t.store.prepareDefragment().then(() => {
      prepared = true;
    });
    let writes = 0;
    while (!prepared) {
      t.put(`w${writes % 50}`, `v${writes}`);
      assert.equal(t.get(`w${writes % 50}`)?.modRevision, t.store.currentRevision());
      writes++;
      await yieldTurn();
    }
    await preparing;
    const hash = t.store.hashKV(0);
    const rev = t.store.currentRevision();
    await t.store.defragment();
    assert.ok(writes > 0);
    assert.ok(t.store.sizeBytes() < before / 4, `${t.store.sizeBytes()} < ${before} / 4`);
    assert.deepEqual(t.store.hashKV(0), hash);
    assert.equal(t.store.currentRevision(), rev);
    assert.equal(t.put('k1', 'after').rev, rev + 1);
    await t.store.close();
    const r = MvccStore.open(t.dbPath);
    assert.deepEqual(r.hashKV(0), { ...hash, revision: rev + 1, hash: r.hashKV(0).hash });
    assert.equal(r.range({ key: enc('k1') }).kvs[0]?.modRevision, rev + 1);
    await r.close();
    removeDb(t.dbPath);
  });

  test('a cancelled preparation (close) leaves the file as it was and no copy behind', async () => {
    const p = tempDbPath();
    const b = Backend.open(p);
    for (let i = 0; i <= FILL; i++) writeStep(b, i);
    const preparing = b.prepareDefragment();
    writeStep(b, FILL + 1);
    await preparing;
    await b.close();
    const r = Backend.open(p);
    assert.equal(digest(r), modelDigest(FILL + 2));
    await r.close();
    const fs = await import('node:fs');
    assert.equal(fs.existsSync(`${p}.defrag`), false);
    removeDb(p);
  });

  const child = fileURLToPath(new URL('./defrag-crash-child.js', import.meta.url));
  for (const step of ['copied', 'caught-up', 'synced', 'old-closed', 'renamed', 'never'] as const) {
    test(`a crash at "${step}" leaves a valid file holding every commit made`, () => {
      const p = tempDbPath();
      const run = spawnSync(
        process.execPath,
        [child, 'defrag-crash-child', p, step satisfies DefragStep | 'never'],
        {
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
      if (step === 'never') assert.equal(run.status, 0, run.stderr);
      else assert.equal(run.signal, 'SIGKILL', `killed at ${step}: ${run.stderr}`);
      const r = Backend.open(p);
      const ci = r.getMeta('consistent_index') ?? 0;
      assert.ok(ci > FILL, `consistent index ${ci}`);
      assert.equal(digest(r), modelDigest(ci));
      void r.close().then(() => removeDb(p));
    });
  }
});
