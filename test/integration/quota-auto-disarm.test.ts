// --experimental-auto-disarm-nospace (beyond etcd, docs/decisions/0018): with a 16 MiB quota as in
// the tutorials, writes fill the backend until NOSPACE; after compact + defrag the alarm stays
// without the flag (etcd's behaviour: only `alarm disarm` lifts it) and goes by itself with it,
// after which writes work again and `etcdctl alarm list` prints nothing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AlarmRequest_AlarmAction, AlarmType } from '../../src/pb/etcdserverpb/rpc.js';
import { eventually, MemberProcess, memberSpec, removeDir, sleep, tempDir } from './harness.js';
import { KvClient } from './kv-client.js';

const NOSPACE = 'etcdserver: mvcc: database space exceeded';
const QUOTA = 16 * 1024 * 1024;
/** More than one check period of the auto-disarm (1 s). */
const LONGER_THAN_A_CHECK_MS = 2500;
const OUR_CTL = fileURLToPath(new URL('../../src/cmd/etcdctl/main.js', import.meta.url));

function ctl(endpoint: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [OUR_CTL, `--endpoints=${endpoint}`, ...args],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ETCDCTL_API: '3' }, timeout: 20_000 },
      (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
    );
  });
}

const isNoSpace = (e: { details?: string }): boolean => e.details === NOSPACE;

/** Puts 1 MiB values under one key until the quota refuses one; returns how many fitted. */
async function fillUntilNoSpace(kv: KvClient): Promise<number> {
  const value = 'x'.repeat(1024 * 1024);
  for (let i = 0; i < 40; i++) {
    try {
      await kv.put('big', value, {}, 15_000);
    } catch (err) {
      assert.ok(isNoSpace(err as { details?: string }), `unexpected error: ${(err as Error).message}`);
      return i;
    }
  }
  throw new Error('the quota was never hit');
}

async function noSpaceAlarms(kv: KvClient): Promise<bigint[]> {
  const r = await kv.alarm({ action: AlarmRequest_AlarmAction.GET, alarm: AlarmType.NOSPACE });
  return r.alarms.map((a) => a.memberID);
}

/** Fills to NOSPACE, checks the refusal, compacts and defragments; returns the member's id. */
async function fillAndReclaim(kv: KvClient): Promise<bigint> {
  await eventually(() => kv.range('probe'), 15_000);
  const fitted = await fillUntilNoSpace(kv);
  assert.ok(fitted >= 8, `only ${fitted} MiB fitted in a 16 MiB quota`);
  const me = (await kv.status()).header!.memberId;
  assert.deepEqual(await noSpaceAlarms(kv), [me]);
  await assert.rejects(kv.put('small', 'v'), isNoSpace);
  const rev = (await kv.range('big', { keysOnly: true })).header!.revision;
  await kv.compact(rev, true);
  await kv.defragment();
  const st = await kv.status();
  assert.ok(st.dbSize < QUOTA * 0.8, `db is still ${st.dbSize} bytes after defrag`);
  return me;
}

describe('NOSPACE auto-disarm (--experimental-auto-disarm-nospace)', { timeout: 120_000 }, () => {
  test('without the flag the alarm stays after compact + defrag, as in etcd', async () => {
    const dir = tempDir('quota-no-disarm');
    const member = new MemberProcess(
      await memberSpec('q', join(dir, 'data'), [`--quota-backend-bytes=${QUOTA}`]),
    );
    member.start();
    const kv = new KvClient(member.endpoint);
    try {
      const me = await fillAndReclaim(kv);
      await sleep(LONGER_THAN_A_CHECK_MS);
      assert.deepEqual(await noSpaceAlarms(kv), [me]);
      await assert.rejects(kv.put('small', 'v'), isNoSpace);
    } finally {
      kv.close();
      await member.stop();
      removeDir(dir);
    }
  });

  test('with the flag the alarm clears by itself once space is back, and writes work again', async () => {
    const dir = tempDir('quota-auto-disarm');
    const member = new MemberProcess(
      await memberSpec('q', join(dir, 'data'), [
        `--quota-backend-bytes=${QUOTA}`,
        '--experimental-auto-disarm-nospace',
      ]),
    );
    member.start();
    const kv = new KvClient(member.endpoint);
    try {
      await eventually(() => kv.range('probe'), 15_000);
      await fillUntilNoSpace(kv);
      // Still full: the alarm is not disarmed while the db is above 80% of the quota.
      await sleep(LONGER_THAN_A_CHECK_MS);
      const me = (await kv.status()).header!.memberId;
      assert.deepEqual(await noSpaceAlarms(kv), [me]);
      await assert.rejects(kv.put('small', 'v'), isNoSpace);

      const rev = (await kv.range('big', { keysOnly: true })).header!.revision;
      await kv.compact(rev, true);
      await kv.defragment();
      await eventually(async () => assert.deepEqual(await noSpaceAlarms(kv), []), 10_000, 200);
      const put = await kv.put('small', 'v');
      assert.ok(put.header!.revision > rev);
      assert.deepEqual((await kv.status()).errors, []);
      const list = await ctl(member.endpoint, ['alarm', 'list']);
      assert.equal(list.code, 0, list.stderr);
      assert.equal(list.stdout, '');
      assert.match(member.output, /disarmed NOSPACE alarm/);
    } finally {
      kv.close();
      await member.stop();
      removeDir(dir);
    }
  });
});
