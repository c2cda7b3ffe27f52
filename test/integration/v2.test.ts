// The v2 API of one etcd-ts member: off without --enable-v2 (etcd 3.4's 404),
// and a v2 store that survives restarts -- rebuilt from the raft snapshot's
// v2-store JSON and the WAL entries after it, as etcd's in-memory store is.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { eventually, MemberProcess, memberSpec, removeDir, tempDir } from './harness.js';

async function call(m: MemberProcess, method: string, path: string, form?: Record<string, string>) {
  const res = await fetch(`http://${m.endpoint}${path}`, {
    method,
    ...(form === undefined ? {} : { body: new URLSearchParams(form) }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, index: res.headers.get('x-etcd-index'), body: await res.text() };
}

async function ready(m: MemberProcess): Promise<void> {
  await eventually(async () => assert.equal((await call(m, 'GET', '/health')).status, 200), 15_000, 100);
}

describe('v2 API of one member', { timeout: 60_000 }, () => {
  const dirs: string[] = [];
  const members: MemberProcess[] = [];
  after(async () => {
    for (const m of members) await m.kill();
    for (const d of dirs) removeDir(d);
  });

  test('without --enable-v2, /v2 is "404 page not found"', async () => {
    const dir = tempDir('v2-off');
    dirs.push(dir);
    const m = new MemberProcess(await memberSpec('off', dir));
    members.push(m);
    m.start();
    await ready(m);
    for (const path of ['/v2/keys/message', '/v2/members', '/v2/stats/self', '/v2/machines']) {
      const r = await call(m, 'GET', path);
      assert.deepEqual([r.status, r.body], [404, '404 page not found\n'], path);
    }
    await m.stop();
  });

  test('the v2 store survives restarts: from the WAL alone, then from a snapshot and the WAL', async () => {
    const dir = tempDir('v2-restart');
    dirs.push(dir);
    const m = new MemberProcess(await memberSpec('v2', dir, ['--enable-v2', '--snapshot-count=30']));
    members.push(m);
    m.start();
    await ready(m);
    await call(m, 'PUT', '/v2/keys/dir/a', { value: '1' });
    await call(m, 'PUT', '/v2/keys/ttl', { value: 't', ttl: '600' });
    await call(m, 'POST', '/v2/keys/queue', { value: 'job' });
    await call(m, 'DELETE', '/v2/keys/dir/a');
    const listing = () => call(m, 'GET', '/v2/keys/?recursive=true&sorted=true');
    const scrub = (s: string) => s.replace(/"expiration":"[^"]+","ttl":\d+,/g, '');
    const before = await listing();
    await m.kill();
    m.start();
    await ready(m);
    const afterWal = await listing();
    // Each start publishes the member's attributes again: one more store write, as in etcd.
    assert.equal(Number(afterWal.index), Number(before.index) + 1);
    assert.equal(scrub(afterWal.body), scrub(before.body));
    // Enough writes for a raft snapshot, then some after it.
    for (let i = 0; i < 40; i++) await call(m, 'PUT', '/v2/keys/bulk', { value: String(i) });
    assert.ok(
      readdirSync(join(dir, 'member', 'snap')).some((f) => f.endsWith('.snap')),
      'no raft snapshot taken',
    );
    await call(m, 'PUT', '/v2/keys/last', { value: 'after the snapshot' });
    const beforeSnap = await listing();
    await m.kill();
    m.start();
    await ready(m);
    const afterSnap = await listing();
    assert.equal(Number(afterSnap.index), Number(beforeSnap.index) + 1);
    assert.equal(scrub(afterSnap.body), scrub(beforeSnap.body));
    const ttl = Number(/"ttl":(\d+)/.exec(afterSnap.body)?.[1]);
    assert.ok(ttl > 500 && ttl <= 600, `ttl ${ttl} after the restart`);
    // The history came back too: a wait from an old index is answered from it.
    const w = await call(m, 'GET', '/v2/keys/queue?wait=true&recursive=true&waitIndex=1');
    assert.match(w.body, /"action":"create"/);
    await m.stop();
  });
});
