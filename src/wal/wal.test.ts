import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Wal } from './index.js';
import { entries, withTempDir } from './testkit.js';

const META = new Uint8Array([1, 2, 3, 4, 5]);
const ZERO = { index: 0, term: 0 };
// Small preallocated segments keep the tests fast.
const OPTS = { segmentBytes: 16 * 1024 };

function pick(s: { writes: number; syncs: number; saves: number }) {
  return { writes: s.writes, syncs: s.syncs, saves: s.saves };
}

async function walFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
}

describe('wal round trip', () => {
  test('metadata, hardState and entries survive close and reopen', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'wal');
      assert.equal(Wal.exists(dir), false);
      const wal = await Wal.create(dir, META, undefined, OPTS);
      assert.equal(Wal.exists(dir), true);
      const ents = entries(1, 20);
      await wal.save({ term: 3, vote: 0xfedcba9876543210n, commit: 7 }, ents.slice(0, 10), true);
      await wal.save({ term: 3, vote: 0xfedcba9876543210n, commit: 15 }, ents.slice(10), true);
      assert.equal(wal.lastIndex(), 20);
      await wal.close();

      const { wal: again, replay } = await Wal.open(dir, ZERO, undefined, OPTS);
      assert.deepEqual(replay.metadata, META);
      assert.deepEqual(replay.hardState, { term: 3, vote: 0xfedcba9876543210n, commit: 15 });
      assert.deepEqual(replay.entries, ents);
      assert.deepEqual(replay.snapshot, ZERO);
      assert.equal(again.lastIndex(), 20);
      await again.close();
      assert.deepEqual(await readdir(root), ['wal'], 'no temp dir left behind');
    });
  });

  test('a fresh WAL replays empty state', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'wal');
      await (await Wal.create(dir, META, undefined, OPTS)).close();
      const { wal, replay } = await Wal.open(dir, ZERO, undefined, OPTS);
      assert.deepEqual(replay.hardState, { term: 0, vote: 0n, commit: 0 });
      assert.deepEqual(replay.entries, []);
      assert.equal(wal.lastIndex(), 0);
      await wal.close();
    });
  });

  test('a rewritten index replaces that entry and everything after it', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'wal');
      const wal = await Wal.create(dir, META, undefined, OPTS);
      await wal.save(undefined, entries(1, 10, 1), true);
      await wal.save({ term: 2, vote: 2n, commit: 5 }, entries(6, 8, 2), true);
      assert.equal(wal.lastIndex(), 8);
      await wal.close();
      const { wal: again, replay } = await Wal.open(dir, ZERO, undefined, OPTS);
      assert.deepEqual(replay.entries, [...entries(1, 5, 1), ...entries(6, 8, 2)]);
      assert.equal(again.lastIndex(), 8);
      await again.save(undefined, entries(9, 9, 2), true);
      await again.close();
    });
  });

  test('save refuses a gap and non-contiguous entries', async () => {
    await withTempDir(async (root) => {
      const wal = await Wal.create(join(root, 'wal'), META, undefined, OPTS);
      await wal.save(undefined, entries(1, 2), true);
      await assert.rejects(wal.save(undefined, entries(4, 5), true), /gap/);
      await assert.rejects(wal.save(undefined, [...entries(3, 3), ...entries(5, 5)], true), /contiguous/);
      await wal.close();
    });
  });

  test('create refuses a non-empty directory', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'wal');
      await mkdir(dir);
      await writeFile(join(dir, 'stray'), 'x');
      await assert.rejects(Wal.create(dir, META, undefined, OPTS), /non-empty/);
      const ok = await Wal.create(join(root, 'empty-ok'), META, undefined, OPTS);
      await ok.close();
    });
  });

  test('each synced save is one write and one fdatasync', async () => {
    await withTempDir(async (root) => {
      const wal = await Wal.create(join(root, 'wal'), META, undefined, OPTS);
      await wal.save({ term: 1, vote: 1n, commit: 1 }, entries(1, 64), true);
      assert.deepEqual(pick(wal.stats()), { writes: 1, syncs: 1, saves: 1 });
      await wal.save(undefined, entries(65, 65), false);
      assert.deepEqual(pick(wal.stats()), { writes: 2, syncs: 1, saves: 2 });
      await wal.close();
    });
  });

  test('saves issued without awaiting land in order', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'wal');
      const wal = await Wal.create(dir, META, undefined, OPTS);
      const inFlight: Promise<void>[] = [];
      for (let i = 1; i <= 100; i++)
        inFlight.push(wal.save({ term: 1, vote: 1n, commit: i }, entries(i, i), true));
      await Promise.all(inFlight);
      const { syncs, saves } = wal.stats();
      assert.equal(saves, 100);
      assert.ok(syncs < saves, `queued saves share fdatasyncs (${syncs} for ${saves})`);
      await wal.close();
      const { wal: again, replay } = await Wal.open(dir, ZERO, undefined, OPTS);
      assert.deepEqual(replay.entries, entries(1, 100));
      assert.equal(replay.hardState.commit, 100);
      await again.close();
    });
  });
});

describe('wal snapshots and segments', () => {
  test('snapshot records: newest at or below the requested one, with confState', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'wal');
      const wal = await Wal.create(dir, META, undefined, OPTS);
      await wal.save(undefined, entries(1, 30), true);
      const confState = { voters: [1n, 2n, 0xffffffffffffffffn], learners: [9n] };
      await wal.saveSnapshot({ index: 10, term: 1, confState });
      await wal.saveSnapshot({ index: 20, term: 1 });
      await wal.close();

      const r15 = await Wal.open(dir, { index: 15, term: 1 }, undefined, OPTS);
      assert.deepEqual(r15.replay.snapshot, { index: 10, term: 1, confState });
      assert.deepEqual(r15.replay.entries, entries(16, 30));
      await r15.wal.close();
      const r20 = await Wal.open(dir, { index: 20, term: 1 }, undefined, OPTS);
      assert.deepEqual(r20.replay.snapshot, { index: 20, term: 1 });
      await r20.wal.close();
      await assert.rejects(Wal.open(dir, { index: 20, term: 7 }, undefined, OPTS), /does not match/);
    });
  });

  test('segments are cut at the size limit and replay spans them', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'wal');
      const opts = { segmentBytes: 4096 };
      const wal = await Wal.create(dir, META, undefined, opts);
      for (let i = 1; i <= 300; i += 10)
        await wal.save({ term: 1, vote: 1n, commit: i }, entries(i, i + 9), true);
      await wal.saveSnapshot({ index: 150, term: 1 });
      await wal.close();
      const files = await walFiles(dir);
      assert.ok(files.length >= 4, `expected several segments, got ${files.length}`);
      for (const [seq, f] of files.entries()) {
        assert.match(f, new RegExp(`^${seq.toString(16).padStart(16, '0')}-[0-9a-f]{16}\\.wal$`));
      }

      const all = await Wal.open(dir, ZERO, undefined, opts);
      assert.deepEqual(all.replay.entries, entries(1, 300));
      assert.equal(all.replay.hardState.commit, 291);
      await all.wal.save(undefined, entries(301, 310), true);
      await all.wal.close();

      const mid = await Wal.open(dir, { index: 150, term: 1 }, undefined, opts);
      assert.deepEqual(mid.replay.entries, entries(151, 310));
      assert.deepEqual(mid.replay.snapshot, { index: 150, term: 1 });
      assert.equal(mid.replay.hardState.commit, 291);
      await mid.wal.close();
    });
  });

  test('releaseTo deletes only segments wholly below index-1 and keeps replay from there working', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'wal');
      const opts = { segmentBytes: 2048 };
      const wal = await Wal.create(dir, META, undefined, opts);
      for (let i = 1; i <= 200; i += 5) await wal.save(undefined, entries(i, i + 4), true);
      await wal.saveSnapshot({ index: 120, term: 1 });
      const before = await walFiles(dir);
      await wal.releaseTo(120);
      const after = await walFiles(dir);
      assert.ok(after.length < before.length, 'something was released');
      const firsts = after.map((f) => Number.parseInt(f.slice(17, 33), 16));
      assert.ok(firsts[0]! <= 119, `the segment holding 119 is kept (first kept starts at ${firsts[0]})`);
      const removed = before.filter((f) => !after.includes(f));
      const nextAfterRemoved = Number.parseInt(after[0]!.slice(17, 33), 16);
      assert.ok(nextAfterRemoved <= 119 && removed.length > 0);
      await wal.save(undefined, entries(201, 210), true);
      await wal.close();

      const r = await Wal.open(dir, { index: 120, term: 1 }, undefined, opts);
      assert.deepEqual(r.replay.entries, entries(121, 210));
      await r.wal.close();
      await assert.rejects(Wal.open(dir, ZERO, undefined, opts), /no segment/);
    });
  });

  test('many saves in flight across several segment cuts replay in order', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'wal');
      const opts = { segmentBytes: 2048 };
      const wal = await Wal.create(dir, META, undefined, opts);
      // Waves of 20 saves in flight: each wave shares a write or two, and the waves cross segment cuts.
      for (let wave = 0; wave < 15; wave++) {
        const inFlight: Promise<void>[] = [];
        for (let i = wave * 20 + 1; i <= wave * 20 + 20; i++) {
          inFlight.push(wal.save({ term: 2, vote: 1n, commit: i }, entries(i, i, 2), i % 3 === 0));
        }
        await Promise.all(inFlight);
      }
      await wal.close();
      await assert.rejects(wal.save(undefined, entries(301, 301), true), /closed/);
      assert.ok((await walFiles(dir)).length > 3);
      const r = await Wal.open(dir, ZERO, undefined, opts);
      assert.deepEqual(r.replay.entries, entries(1, 300, 2));
      assert.equal(r.replay.hardState.commit, 300);
      await r.wal.close();
    });
  });

  test('releaseTo never deletes the tail segment', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'wal');
      const wal = await Wal.create(dir, META, undefined, OPTS);
      await wal.save(undefined, entries(1, 10), true);
      await wal.releaseTo(1000);
      assert.equal((await walFiles(dir)).length, 1);
      await wal.close();
    });
  });
});

describe('wal write paths (docs/decisions/0005-put-path-performance.md)', () => {
  for (const inlineSyncBytes of [0, 512, 1024 * 1024]) {
    test(`mixed synced and unsynced saves replay in order across cuts (inlineSyncBytes ${inlineSyncBytes})`, async () => {
      await withTempDir(async (root) => {
        const dir = join(root, 'wal');
        const opts = { segmentBytes: 16 * 1024, inlineSyncBytes };
        const wal = await Wal.create(dir, META, undefined, opts);
        const pending: Promise<void>[] = [];
        let next = 1;
        let lastCommit = 0;
        for (let round = 0; round < 60; round++) {
          // Some saves queue behind a write in flight, some arrive one by one.
          const n = 1 + (round % 5);
          for (let k = 0; k < n; k++) {
            const count = 1 + ((round + k) % 4);
            const sync = (round + k) % 3 !== 0;
            pending.push(
              wal.save({ term: 1, vote: 1n, commit: next }, entries(next, next + count - 1), sync),
            );
            lastCommit = next;
            next += count;
          }
          if (round % 2 === 0) await Promise.all(pending.splice(0));
        }
        await Promise.all(pending);
        const last = next - 1;
        assert.ok((await walFiles(dir)).length > 1, 'the test crossed a segment cut');
        await wal.close();
        const { wal: again, replay } = await Wal.open(dir, ZERO, undefined, opts);
        assert.deepEqual(replay.entries, entries(1, last));
        assert.equal(replay.hardState.commit, lastCommit);
        await again.close();
      });
    });
  }

  test('a synced save resolves only after its group was written and synced', async () => {
    await withTempDir(async (root) => {
      const wal = await Wal.create(join(root, 'wal'), META, undefined, OPTS);
      for (let i = 1; i <= 20; i++) {
        const before = wal.stats().syncs;
        await wal.save({ term: 1, vote: 1n, commit: i }, entries(i, i), true);
        assert.equal(wal.stats().syncs, before + 1, `save ${i} resolved before its sync`);
      }
      await wal.close();
    });
  });
});
