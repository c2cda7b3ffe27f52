// Crash and corruption tests: a torn last write is cut away; damage to anything before it is refused.
import assert from 'node:assert/strict';
import { appendFile, cp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Wal, WalCorruptError, type WalOptions } from './index.js';
import { capturingLogger, entries, withTempDir } from './testkit.js';

const META = new Uint8Array([9, 9]);
const ZERO = { index: 0, term: 0 };
// Small preallocated segments keep the tests fast.
const OPTS = { segmentBytes: 16 * 1024 };
const HS = { term: 1, vote: 3n, commit: 8 };

interface Fixture {
  dir: string;
  file: string;
  /** Byte range of the final record (one entry, index 11). */
  lastStart: number;
  lastEnd: number;
  /** Byte range of entry 5's record, well before the tail. */
  midStart: number;
  midEnd: number;
}

/** Entries 1..10 in one-entry saves plus a hardState, then entry 11 alone as the last record. */
async function buildFixture(root: string, lastSize = 300, opts: WalOptions = OPTS): Promise<Fixture> {
  const dir = join(root, 'orig');
  const wal = await Wal.create(dir, META, undefined, opts);
  const file = join(dir, (await readdir(dir)).find((n) => n.endsWith('.wal'))!);
  let midStart = 0;
  let midEnd = 0;
  for (let i = 1; i <= 10; i++) {
    const before = wal.stats().tailOffset;
    await wal.save(undefined, entries(i, i, 1, 100), true);
    if (i === 5) [midStart, midEnd] = [before, wal.stats().tailOffset];
  }
  await wal.save(HS, [], true);
  const lastStart = wal.stats().tailOffset;
  await wal.save(undefined, entries(11, 11, 1, lastSize), true);
  const lastEnd = wal.stats().tailOffset;
  await wal.close();
  return { dir, file, lastStart, lastEnd, midStart, midEnd };
}

async function copyOf(fx: Fixture, root: string, name: string): Promise<{ dir: string; file: string }> {
  const dir = join(root, name);
  await cp(fx.dir, dir, { recursive: true });
  return { dir, file: join(dir, fx.file.slice(fx.dir.length + 1)) };
}

async function assertRecoversTen(dir: string): Promise<void> {
  const { log, lines } = capturingLogger();
  const { wal, replay } = await Wal.open(dir, ZERO, log, OPTS);
  assert.deepEqual(replay.entries, entries(1, 10, 1, 100));
  assert.deepEqual(replay.hardState, HS);
  assert.ok(
    lines.some((l) => l.level === 'warn' && /torn/.test(l.msg)),
    'the repair is logged as a warning',
  );
  // The repaired WAL takes new writes and reopens cleanly with them.
  await wal.save(undefined, entries(11, 12, 2, 20), true);
  await wal.close();
  const again = await Wal.open(dir, ZERO, capturingLogger().log, OPTS);
  assert.deepEqual(again.replay.entries, [...entries(1, 10, 1, 100), ...entries(11, 12, 2, 20)]);
  await again.wal.close();
}

describe('wal torn tail repair', () => {
  test('a cut at every byte offset inside the last record recovers exactly the earlier records', async () => {
    await withTempDir(async (root) => {
      const fx = await buildFixture(root);
      assert.ok(fx.lastEnd - fx.lastStart > 300);
      const pristine = await readFile(fx.file);
      const c = await copyOf(fx, root, 'cut');
      for (let cut = fx.lastStart; cut < fx.lastEnd; cut++) {
        // The file as a crash could leave it: everything up to `cut`, nothing after.
        await writeFile(c.file, pristine.subarray(0, cut));
        if (cut === fx.lastStart) {
          // Nothing torn: the last record is simply absent.
          const { wal, replay } = await Wal.open(c.dir, ZERO, undefined, OPTS);
          assert.deepEqual(replay.entries, entries(1, 10, 1, 100));
          await wal.close();
          continue;
        }
        await assertRecoversTen(c.dir).catch((err: Error) => {
          throw new Error(`cut at ${cut}: ${err.message}`);
        });
      }
    });
  });

  test('power loss at any sector boundary inside the last record (zeros after it) recovers the earlier records', async () => {
    await withTempDir(async (root) => {
      const fx = await buildFixture(root, 1500);
      const pristine = await readFile(fx.file);
      let tried = 0;
      for (let s = Math.ceil((fx.lastStart + 1) / 512) * 512; s < fx.lastEnd; s += 512) {
        const c = await copyOf(fx, root, `sector-${s}`);
        const buf = Buffer.from(pristine);
        buf.fill(0, s);
        await writeFile(c.file, buf);
        await assertRecoversTen(c.dir);
        tried++;
      }
      assert.ok(tried >= 2, `the last record spans ${tried} sector boundaries`);
    });
  });

  test('a whole unwritten sector inside the last record (later sectors written) is cut away', async () => {
    await withTempDir(async (root) => {
      const fx = await buildFixture(root, 1500);
      const c = await copyOf(fx, root, 'zero-sector');
      const buf = await readFile(c.file);
      const sector = Math.ceil((fx.lastStart + 1) / 512) * 512;
      assert.ok(sector + 512 < fx.lastEnd, 'fixture spans a whole sector');
      buf.fill(0, sector, sector + 512);
      await writeFile(c.file, buf);
      await assertRecoversTen(c.dir);
    });
  });

  test('a last record that never reached the disk (all zeros) is simply absent', async () => {
    await withTempDir(async (root) => {
      const fx = await buildFixture(root);
      const c = await copyOf(fx, root, 'zeroed-last');
      const buf = await readFile(c.file);
      buf.fill(0, fx.lastStart, fx.lastEnd);
      await writeFile(c.file, buf);
      const { wal, replay } = await Wal.open(c.dir, ZERO, undefined, OPTS);
      assert.deepEqual(replay.entries, entries(1, 10, 1, 100));
      await wal.save(undefined, entries(11, 11, 3, 5), true);
      await wal.close();
      const again = await Wal.open(c.dir, ZERO, undefined, OPTS);
      assert.deepEqual(again.replay.entries.at(-1), entries(11, 11, 3, 5)[0]);
      await again.wal.close();
    });
  });

  test('a zero-filled tail on a non-preallocated segment is treated as free space', async () => {
    await withTempDir(async (root) => {
      const opts = { segmentBytes: 16 * 1024, preallocate: false };
      const fx = await buildFixture(root, 300, opts);
      assert.equal(
        (await stat(fx.file)).size,
        fx.lastEnd,
        'not preallocated: the file ends at the last record',
      );
      const c = await copyOf(fx, root, 'zeros');
      await appendFile(c.file, Buffer.alloc(8192));
      const { log, lines } = capturingLogger();
      const { wal, replay } = await Wal.open(c.dir, ZERO, log, opts);
      assert.deepEqual(replay.entries, [...entries(1, 10, 1, 100), ...entries(11, 11, 1, 300)]);
      assert.deepEqual(
        lines.filter((l) => l.level !== 'info'),
        [],
      );
      await wal.save(undefined, entries(12, 12), true);
      await wal.close();
      const again = await Wal.open(c.dir, ZERO, undefined, opts);
      assert.equal(again.replay.entries.length, 12);
      await again.wal.close();
    });
  });

  test('segments are preallocated to the segment size; the next one is prepared ahead', async () => {
    await withTempDir(async (root) => {
      const fx = await buildFixture(root);
      assert.equal((await stat(fx.file)).size, 16 * 1024);
      const { wal } = await Wal.open(fx.dir, ZERO, undefined, OPTS);
      await wal.save(undefined, entries(12, 12), true);
      assert.ok(!(await readdir(fx.dir)).includes('next.wal.tmp'), 'not before the tail is half full');
      await wal.save(undefined, entries(13, 80, 1, 100), true);
      await wal.close(); // waits for the background allocation, then removes it
      assert.ok(!(await readdir(fx.dir)).includes('next.wal.tmp'));
      assert.equal(wal.lastIndex(), 80);
      const again = await Wal.open(fx.dir, ZERO, undefined, OPTS);
      await again.wal.save(undefined, entries(81, 81), true);
      // The allocation runs in the background: poll (bounded) for its file.
      let seen = false;
      for (let i = 0; i < 200 && !seen; i++) {
        seen = (await readdir(fx.dir)).includes('next.wal.tmp');
        if (!seen) await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(seen, 'prepared once the tail is past half');
      await again.wal.close();
      assert.ok(!(await readdir(fx.dir)).includes('next.wal.tmp'), 'close removes the prepared file');
    });
  });

  test('a torn tail in the newest of several segments is repaired', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'wal');
      const opts = { segmentBytes: 1024 };
      const wal = await Wal.create(dir, META, undefined, opts);
      for (let i = 1; i <= 40; i++) await wal.save(undefined, entries(i, i, 1, 64), true);
      await wal.close();
      const names = (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
      assert.ok(names.length > 2);
      const last = join(dir, names[names.length - 1]!);
      await appendFile(last, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]));
      const r = await Wal.open(dir, ZERO, undefined, opts);
      assert.deepEqual(r.replay.entries, entries(1, 40, 1, 64));
      await r.wal.close();
    });
  });
});

describe('wal power-loss model: any subset of the last batch sectors unwritten', () => {
  test('open never returns a wrong log: a prefix including every earlier save, or a refusal', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'orig');
      const wal = await Wal.create(dir, META, undefined, OPTS);
      const file = join(dir, (await readdir(dir)).find((n) => n.endsWith('.wal'))!);
      for (let i = 1; i <= 10; i++) await wal.save(HS, entries(i, i, 1, 100), true);
      const batchStart = wal.stats().tailOffset;
      await wal.save(undefined, entries(11, 30, 1, 100), true);
      const batchEnd = wal.stats().tailOffset;
      await wal.close();
      const pristine = await readFile(file);
      const sectors: number[] = [];
      for (let s = Math.floor(batchStart / 512) * 512; s < batchEnd; s += 512) sectors.push(s);
      assert.ok(sectors.length >= 5 && sectors.length <= 8, `batch spans ${sectors.length} sectors`);
      const all = entries(1, 10, 1, 100).concat(entries(11, 30, 1, 100));
      const outcomes = { full: 0, prefix: 0, refused: 0 };
      for (let mask = 0; mask < 1 << sectors.length; mask++) {
        const buf = Buffer.from(pristine);
        // An unwritten sector keeps its old content: the synced bytes before the batch, zeros after.
        sectors.forEach((s, k) => {
          if (mask & (1 << k)) buf.fill(0, Math.max(s, batchStart), Math.min(s + 512, batchEnd));
        });
        const c = join(root, `mask-${mask}`);
        await cp(dir, c, { recursive: true });
        await writeFile(join(c, file.slice(dir.length + 1)), buf);
        try {
          const { wal: w, replay } = await Wal.open(c, ZERO, undefined, OPTS);
          await w.close();
          const n = replay.entries.length;
          assert.ok(n >= 10, `mask ${mask}: lost synced entries (${n})`);
          assert.deepEqual(replay.entries, all.slice(0, n), `mask ${mask}: not a prefix`);
          if (n === all.length) outcomes.full++;
          else outcomes.prefix++;
        } catch (err) {
          assert.ok(err instanceof WalCorruptError, `mask ${mask}: ${(err as Error).message}`);
          outcomes.refused++;
        }
        await rm(c, { recursive: true, force: true });
      }
      assert.equal(outcomes.full, 1, 'only the fully written batch recovers everything');
      // Every "written up to sector k, nothing after" pattern must be repaired, not refused.
      assert.ok(outcomes.prefix >= sectors.length, JSON.stringify(outcomes));
    });
  });
});

describe('wal corruption before the tail', () => {
  test('a bit flip in ANY byte of an earlier record is refused, naming file and offset', async () => {
    await withTempDir(async (root) => {
      const fx = await buildFixture(root);
      const c = await copyOf(fx, root, 'flip');
      const pristine = await readFile(c.file);
      for (let at = fx.midStart; at < fx.midEnd; at++) {
        const buf = Buffer.from(pristine);
        buf[at]! ^= 1 << (at % 8);
        await writeFile(c.file, buf);
        const err = await Wal.open(c.dir, ZERO, undefined, OPTS).then(
          async (r) => {
            await r.wal.close();
            return undefined;
          },
          (e: unknown) => e,
        );
        assert.ok(err instanceof WalCorruptError, `flip at ${at} was not refused`);
        assert.equal(err.file, c.file);
        assert.equal(err.offset, fx.midStart);
        assert.ok(err.message.includes(c.file) && err.message.includes(`offset ${fx.midStart}`), err.message);
      }
      // The refusal left the file untouched: nothing was truncated.
      assert.equal((await stat(c.file)).size, pristine.length);
    });
  });

  test('a bit flip in the complete last record is refused too (it was synced, not torn)', async () => {
    await withTempDir(async (root) => {
      const fx = await buildFixture(root);
      const c = await copyOf(fx, root, 'flip-last');
      const pristine = await readFile(c.file);
      for (let at = fx.lastStart; at < fx.lastEnd; at += at < fx.lastStart + 16 ? 1 : 7) {
        const buf = Buffer.from(pristine);
        buf[at]! ^= 0x10;
        await writeFile(c.file, buf);
        await assert.rejects(Wal.open(c.dir, ZERO, undefined, OPTS), WalCorruptError, `flip at ${at}`);
      }
    });
  });

  test('damage in a sealed (non-last) segment is refused even at its end', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'wal');
      const opts = { segmentBytes: 1024 };
      const wal = await Wal.create(dir, META, undefined, opts);
      for (let i = 1; i <= 40; i++) await wal.save(undefined, entries(i, i, 1, 64), true);
      await wal.close();
      const names = (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
      const first = join(dir, names[0]!);
      await truncate(first, (await stat(first)).size - 3);
      await assert.rejects(Wal.open(dir, ZERO, undefined, opts), (e: unknown) => {
        assert.ok(e instanceof WalCorruptError);
        assert.equal(e.file, first);
        return true;
      });
    });
  });

  test('a leftover temp segment from an interrupted cut is removed at open', async () => {
    await withTempDir(async (root) => {
      const fx = await buildFixture(root);
      const c = await copyOf(fx, root, 'leftover');
      await writeFile(join(c.dir, '0000000000000001-000000000000000c.wal.tmp'), Buffer.alloc(100, 1));
      const { wal, replay } = await Wal.open(c.dir, ZERO, undefined, OPTS);
      assert.equal(replay.entries.length, 11);
      await wal.close();
      assert.deepEqual(
        (await readdir(c.dir)).filter((n) => n.endsWith('.tmp')),
        [],
      );
    });
  });

  test('a damaged segment header is refused', async () => {
    await withTempDir(async (root) => {
      const fx = await buildFixture(root);
      const c = await copyOf(fx, root, 'header');
      const buf = await readFile(c.file);
      buf[20]! ^= 0xff;
      await writeFile(c.file, buf);
      await assert.rejects(Wal.open(c.dir, ZERO, undefined, OPTS), /offset 0: segment header checksum/);
    });
  });
});
