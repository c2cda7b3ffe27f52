// The backend quota: a write past --quota-backend-bytes raises the NOSPACE
// alarm and fails; reads and deletes go on; the alarm survives a restart and
// only `alarm disarm` (DEACTIVATE) lets writes in again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AlarmRequest_AlarmAction, AlarmType } from '../../src/pb/etcdserverpb/rpc.js';
import { eventually, MemberProcess, memberSpec, removeDir, tempDir } from './harness.js';
import { KvClient } from './kv-client.js';

const NOSPACE = 'etcdserver: mvcc: database space exceeded';

test('NOSPACE alarm: raised by the quota, kept across restart, lifted by disarm', async () => {
  const dir = tempDir('quota');
  const member = new MemberProcess(await memberSpec('q', `${dir}/data`, ['--quota-backend-bytes=1048576']));
  member.start();
  let kv = new KvClient(member.endpoint);
  try {
    await eventually(() => kv.range('probe'), 15_000);
    const big = 'x'.repeat(100 * 1024);
    let accepted = 0;
    let failure: { code: number; details: string } | undefined;
    for (let i = 0; i < 40 && failure === undefined; i++) {
      try {
        await kv.put('big', big);
        accepted++;
      } catch (err) {
        failure = err as { code: number; details: string };
      }
    }
    assert.ok(failure !== undefined, 'the quota was never hit');
    assert.equal(failure.details, NOSPACE);
    assert.equal(failure.code, 8);
    assert.ok(accepted >= 2, `only ${accepted} writes fitted`);
    const alarms = await kv.alarm({ action: AlarmRequest_AlarmAction.GET });
    // etcd 3.4 answers Alarm without a header: this member's id comes from Status.
    const me = (await kv.status()).header?.memberId;
    assert.equal(alarms.header, undefined);
    assert.deepEqual(
      alarms.alarms.map((a) => [a.memberID, a.alarm]),
      [[me, AlarmType.NOSPACE]],
    );
    const st = await kv.status();
    assert.deepEqual(st.errors, [`memberID:${st.header?.memberId} alarm:NOSPACE `]);
    await assert.rejects(kv.put('small', 'v'), (e: { details: string }) => e.details === NOSPACE);
    assert.equal((await kv.range('big', { keysOnly: true })).count, 1, 'reads still work');

    kv.close();
    assert.equal(await member.stop(), 0);
    member.start();
    kv = new KvClient(member.endpoint);
    await eventually(() => kv.range('probe'), 15_000);
    await assert.rejects(kv.put('small', 'v'), (e: { details: string }) => e.details === NOSPACE);

    const rev = (await kv.range('big')).header?.revision ?? 0;
    await kv.compact(rev, true);
    await kv.defragment();
    const cleared = await kv.alarm({
      action: AlarmRequest_AlarmAction.DEACTIVATE,
      memberID: me ?? 0n,
      alarm: AlarmType.NOSPACE,
    });
    assert.equal(cleared.alarms.length, 1);
    assert.deepEqual((await kv.status()).errors, []);
    const p = await kv.put('small', 'v');
    assert.equal(p.header?.revision, rev + 1);
  } finally {
    kv.close();
    await member.stop();
    removeDir(dir);
  }
});
