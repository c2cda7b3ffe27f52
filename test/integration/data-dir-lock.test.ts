// One process per data dir: a second member started on a dir in use must fail
// at once with a clear message while the first keeps serving, and the lock
// must die with its holder (SIGKILL leaves nothing stale behind).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, MemberProcess, memberSpec, removeDir, tempDir } from './harness.js';
import { KvClient } from './kv-client.js';

const IN_USE = /data dir (\S+) is in use by another etcd-ts process \(pid (\d+), lock @etcd-ts\/\d+\/\d+\)/;

async function readValue(kv: KvClient, key: string): Promise<string | undefined> {
  const r = await kv.range(key);
  const first = r.kvs[0];
  return first === undefined ? undefined : Buffer.from(first.value).toString();
}

test('a second member on a data dir in use is refused; SIGKILL frees the dir', {
  timeout: 60_000,
}, async () => {
  const dir = tempDir('lock');
  const dataDir = join(dir, 'data');
  const first = new MemberProcess(await memberSpec('lock', dataDir));
  const second = new MemberProcess(await memberSpec('lock', dataDir));
  let kv = new KvClient(first.endpoint);
  try {
    first.start();
    await eventually(() => kv.put('before', 'one'), 15_000);

    const t0 = Date.now();
    second.start();
    // Node's start-up dominates (~0.2 s); the lock itself fails in well under a millisecond.
    const code = await second.waitExit(5000);
    const took = Date.now() - t0;
    assert.notEqual(code, undefined, `the second member still ran after ${took} ms:\n${second.output}`);
    assert.notEqual(code, 0);
    const m = IN_USE.exec(second.output);
    assert.ok(m !== null, `no in-use message in:\n${second.output}`);
    assert.equal(m[1], dataDir);
    assert.doesNotMatch(second.output, /ready to serve/);

    // The first member never noticed.
    await kv.put('during', 'two');
    assert.equal(await readValue(kv, 'before'), 'one');
    assert.equal(await readValue(kv, 'during'), 'two');

    await first.kill();
    kv.close();
    const t1 = Date.now();
    first.start();
    kv = new KvClient(first.endpoint);
    assert.equal(await eventually(() => readValue(kv, 'during'), 15_000), 'two');
    assert.equal(await readValue(kv, 'before'), 'one');
    assert.doesNotMatch(first.output, /in use by another/);
    assert.ok(Date.now() - t1 < 10_000, `restart after SIGKILL took ${Date.now() - t1} ms`);
  } finally {
    kv.close();
    await second.kill();
    await first.kill();
    removeDir(dir);
  }
});
