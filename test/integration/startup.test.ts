// Start-up on data dirs that do not fit together: the member must refuse with a
// clear message, exit non-zero, and leave every file exactly as it was.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { eventually, MemberProcess, memberSpec, removeDir, tempDir } from './harness.js';
import { KvClient } from './kv-client.js';

/**
 * Digest of every data file. LMDB's lock file (reader table, rewritten by any
 * open) and the WAL's preallocated next-segment temp file carry no data and are
 * left out.
 */
function digestTree(dir: string): string {
  const h = createHash('sha256');
  const entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  entries.sort((x, y) => join(x.parentPath, x.name).localeCompare(join(y.parentPath, y.name)));
  for (const e of entries) {
    if (!e.isFile() || e.name.endsWith('-lock') || e.name.endsWith('.tmp')) continue;
    const p = join(e.parentPath, e.name);
    h.update(p).update(readFileSync(p));
  }
  return h.digest('hex');
}

async function runWrites(dataDir: string, name: string, count: number): Promise<MemberProcess> {
  const m = new MemberProcess(await memberSpec(name, dataDir));
  m.start();
  const kv = new KvClient(m.endpoint);
  try {
    await eventually(() => kv.range('probe'), 15_000);
    for (let i = 0; i < count; i++) await kv.put(`k${i}`, 'v');
  } finally {
    kv.close();
  }
  assert.equal(await m.stop(), 0);
  return m;
}

describe('stopping', () => {
  test('SIGTERM stops the member promptly even while a client stays connected', {
    timeout: 20_000,
  }, async () => {
    const dir = tempDir('stop');
    const m = new MemberProcess(await memberSpec('s', join(dir, 'data')));
    m.start();
    const kv = new KvClient(m.endpoint);
    try {
      await eventually(() => kv.range('probe'), 15_000);
      const t0 = Date.now();
      assert.equal(await m.stop(), 0);
      assert.ok(Date.now() - t0 < 5000, `stop took ${Date.now() - t0} ms`);
    } finally {
      kv.close();
      await m.kill();
      removeDir(dir);
    }
  });
});

describe('refusing data dirs that do not fit', () => {
  const dir = tempDir('startup');
  after(() => removeDir(dir));

  test('a backend from another data dir (ahead of this WAL) is refused, nothing changes', async () => {
    await runWrites(join(dir, 'a'), 'a', 30);
    const b = await runWrites(join(dir, 'b'), 'b', 1);
    copyFileSync(join(dir, 'a', 'member', 'snap', 'db'), join(dir, 'b', 'member', 'snap', 'db'));
    const before = digestTree(join(dir, 'b'));
    b.start();
    const code = await b.waitExit(15_000);
    assert.notEqual(code, undefined, 'the member kept running');
    assert.notEqual(code, 0);
    assert.match(b.output, /beyond the WAL's last index/);
    assert.equal(digestTree(join(dir, 'b')), before);
  });

  test('an unreadable WAL is refused, nothing changes', async () => {
    const c = await runWrites(join(dir, 'c'), 'c', 5);
    const walDir = join(dir, 'c', 'member', 'wal');
    const seg = readdirSync(walDir).find((f) => f.endsWith('.wal'));
    assert.ok(seg !== undefined);
    const bytes = readFileSync(join(walDir, seg));
    bytes.fill(0x5a, 0, 64);
    writeFileSync(join(walDir, seg), bytes);
    const before = digestTree(join(dir, 'c'));
    c.start();
    const code = await c.waitExit(15_000);
    assert.notEqual(code, undefined, 'the member kept running');
    assert.notEqual(code, 0);
    assert.match(c.output, /cannot open WAL/);
    assert.equal(digestTree(join(dir, 'c')), before);
  });
});
