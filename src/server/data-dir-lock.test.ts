import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { acquireDataDirLock, DataDirInUseError, lockNameFor } from './data-dir-lock.js';

const root = mkdtempSync(join(tmpdir(), 'etcd-ts-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));

// Linux only, like the lock itself (abstract UNIX sockets).
describe('data dir lock', () => {
  test('a second acquire fails with the holder named; after release it succeeds', async () => {
    const dir = join(root, 'a');
    const first = await acquireDataDirLock(dir);
    assert.equal(first.enforced, true);
    const st = statSync(dir, { bigint: true });
    assert.equal(first.name, `@etcd-ts/${st.dev}/${st.ino}`);
    await assert.rejects(acquireDataDirLock(dir), (err: unknown) => {
      assert.ok(err instanceof DataDirInUseError);
      assert.equal(
        err.message,
        `etcd-ts: data dir ${dir} is in use by another etcd-ts process (pid ${process.pid}, lock ${first.name})`,
      );
      return true;
    });
    await first.release();
    await first.release(); // idempotent
    const again = await acquireDataDirLock(dir);
    await again.release();
  });

  test('every path to the same dir maps to one lock', async () => {
    const dir = join(root, 'b');
    const lock = await acquireDataDirLock(dir);
    try {
      const link = join(root, 'b-link');
      symlinkSync(dir, link);
      assert.equal(lockNameFor(link), lockNameFor(join(root, 'x', '..', 'b')));
      await assert.rejects(acquireDataDirLock(link), DataDirInUseError);
      await assert.rejects(acquireDataDirLock(`${dir}/`), DataDirInUseError);
    } finally {
      await lock.release();
    }
  });

  test('different dirs do not block each other', async () => {
    const a = await acquireDataDirLock(join(root, 'c1'));
    const b = await acquireDataDirLock(join(root, 'c2'));
    assert.notEqual(a.name, b.name);
    await a.release();
    await b.release();
  });

  test('a missing dir is created (private) and a refused acquire leaves it empty', async () => {
    const dir = join(root, 'new', 'nested');
    const lock = await acquireDataDirLock(dir);
    try {
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      await assert.rejects(acquireDataDirLock(dir), DataDirInUseError);
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      await lock.release();
    }
  });

  test('a file where the dir should be is refused', async () => {
    const dir = join(root, 'd');
    const lock = await acquireDataDirLock(dir);
    await lock.release();
    const file = join(dir, 'f');
    writeFileSync(file, '');
    await assert.rejects(acquireDataDirLock(file), /EEXIST|not a directory/);
  });
});
