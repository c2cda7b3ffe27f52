import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCommand, startTwins, type Twins } from './twins.js';

/**
 * Debian's python3-etcd3 client (a gRPC client written against the real
 * etcd) runs etcd3_check.py against etcd-ts and against the real etcd 3.4;
 * both must report the same results, which must also be the expected ones.
 */
const PYTHON = '/usr/bin/python3';

/** The script lives in the source tree; the compiled test runs from dist/test/interop. */
function checkScript(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [
    join(here, 'etcd3_check.py'),
    join(here, '..', '..', '..', 'test', 'interop', 'etcd3_check.py'),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new Error(`etcd3_check.py not found in ${candidates.join(', ')}`);
  return found;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Report {
  [step: string]: Json;
}

/** Runs the script against one endpoint; ids are 64-bit, so the JSON is parsed with exact integers kept as strings. */
async function runCheck(endpoint: string): Promise<Report> {
  const [host, port] = endpoint.split(':') as [string, string];
  const r = await runCommand(PYTHON, [checkScript(), host, port], '', {}, 90_000);
  assert.equal(r.code, 0, `etcd3_check.py against ${endpoint} failed:\n${r.stderr}`);
  const exact = r.stdout.replace(/(:\s*|\[\s*|,\s*)(\d{16,})/g, '$1"$2"');
  const report = JSON.parse(exact.split(`http://${endpoint}`).join('http://ENDPOINT')) as Report;
  return report;
}

describe('python3-etcd3 against etcd-ts and the real etcd', { timeout: 180_000 }, () => {
  let twins: Twins | undefined;

  before(async () => {
    const probe = await runCommand(PYTHON, ['-c', 'import etcd3']);
    if (probe.code !== 0) {
      throw new Error(
        `python3-etcd3 is missing (${PYTHON} -c 'import etcd3' failed: ${probe.stderr.trim()}); ` +
          'install it with: apt-get install python3-etcd3',
      );
    }
    twins = await startTwins();
  });

  after(async () => {
    await twins?.stop();
  });

  test('the same script gives the same, expected results on both servers', async () => {
    const t = twins;
    if (t === undefined) throw new Error('servers not started');
    const [ours, real] = await Promise.all([runCheck(t.oursEndpoint), runCheck(t.realEndpoint)]);

    // Expected values first, so a failure says what is wrong rather than only "different".
    assert.deepEqual(ours.get_k1, {
      value: 'v1.1',
      meta: { key: '/k1', create_revision: 2, mod_revision: 4, version: 2, lease_id: 0 },
    });
    assert.deepEqual(ours.get_missing, { value: null, meta: null });
    assert.deepEqual(ours.put_prev_kv, {
      revision: 9,
      prev_key: '/k2',
      prev_value: 'v2',
      prev_mod_revision: 3,
    });
    assert.equal(ours.delete_one, true);
    assert.equal(ours.delete_missing, false);
    assert.deepEqual(ours.delete_prev_kv, { deleted: 1, prev: [{ key: '/dir/b', value: 'b' }] });
    assert.equal(ours.delete_prefix, 1);
    assert.equal(ours.replace_ok, true);
    assert.equal(ours.replace_wrong_value, false);
    assert.equal((ours.txn_success as { succeeded: boolean }).succeeded, true);
    assert.equal((ours.txn_failure_on_value as { succeeded: boolean }).succeeded, false);
    assert.equal((ours.txn_version_create_mod as { succeeded: boolean }).succeeded, true);
    assert.equal((ours.txn_failure_on_mod as { succeeded: boolean }).succeeded, false);
    const keys = (ours.final_all as { meta: { key: string } }[]).map((p) => p.meta.key);
    assert.deepEqual(keys, ['/k1', '/t', 'other']);
    const status = ours.status as { version: string; leader_name: string };
    assert.match(status.version, /^3\.4\./);
    assert.equal(status.leader_name, 'twin');

    // Watch: one response per revision while synced, the whole history in ONE response when
    // catching up from a start revision, a compacted start revision cancels the watch.
    type Responses = { header_revision: number; events: { key: string; type: string }[] }[];
    const sizes = (step: string): number[] => (ours[step] as Responses).map((r) => r.events.length);
    assert.deepEqual(sizes('watch_prefix'), [1, 1, 1, 1, 3, 2]);
    assert.deepEqual(sizes('watch_key_prev_kv'), [1, 1, 1, 1]);
    assert.deepEqual(sizes('watch_replay'), [12]);
    assert.deepEqual(sizes('watch_replay_key_prev_kv'), [4]);
    assert.deepEqual(sizes('watch_at_compaction'), [9]);
    assert.deepEqual(
      (ours.watch_prefix as Responses)[4]!.events.map((e) => `${e.type} ${e.key}`),
      ['PUT /pw/a', 'PUT /pw/c', 'DELETE /pw/start'],
    );
    assert.equal((ours.watch_compacted as { error: string }).error, 'RevisionCompactedError');
    assert.equal(ours.watch_after_cancel_quiet, true);
    assert.equal(ours.watch_once_timeout, 'WatchTimedOut');
    assert.equal((ours.watch_iterator as Json[]).length, 2);

    // Leases.
    assert.deepEqual(ours.lease_grant, { ttl: 30, id_nonzero: true });
    assert.deepEqual(ours.lease_on_keys, { a: true, c: 0 });
    assert.deepEqual(ours.lease_info, {
      same_id: true,
      granted_ttl: 30,
      ttl_in_range: true,
      keys: ['/pl/a', '/pl/b'],
    });
    assert.deepEqual(ours.lease_refresh, [{ same_id: true, ttl: 30 }]);
    assert.deepEqual(ours.lease_fixed_id, { id: 0x1234abcd, ttl: 20 });
    assert.deepEqual(ours.lease_duplicate_id, { exception: 'PreconditionFailedError' });
    assert.deepEqual(ours.lease_ttl_too_large, {
      code: 'OUT_OF_RANGE',
      details: 'etcdserver: too large lease TTL',
    });
    assert.deepEqual(ours.lease_ttl_1, { ttl: 2 });
    assert.deepEqual(ours.lease_expiry, { key_deleted: true, not_before_1s: true });
    assert.deepEqual(ours.lease_expired_info, { ttl: -1, granted_ttl: 0, keys: [] });
    assert.deepEqual(ours.lease_revoked_info, { ttl: -1, granted_ttl: 0 });
    const notFound = { code: 'NOT_FOUND', details: 'etcdserver: requested lease not found' };
    assert.deepEqual(ours.lease_revoke_again, notFound);
    assert.deepEqual(ours.lease_put_revoked, notFound);
    assert.deepEqual(ours.lease_refresh_revoked, [{ same_id: true, ttl: 0 }]);
    assert.deepEqual(ours.lease_unknown_info, { ttl: -1 });

    // Locks: a second holder times out, then waits and gets the lock once the first releases it.
    assert.equal(ours.lock_acquire, true);
    assert.deepEqual(ours.lock_key, { key: '/locks/pylock', lease_is_the_locks: true, version: 1 });
    assert.deepEqual(ours.lock_second_times_out, { acquired: false, waited_1s: true });
    assert.equal(ours.lock_second_is_acquired, false);
    assert.equal(ours.lock_release, true);
    assert.deepEqual(ours.lock_second_acquires, { acquired: true, after_release: true });
    assert.deepEqual(ours.lock_owners, { first: false, second: true });
    assert.deepEqual(ours.lock_refresh, [20]);
    assert.equal(ours.lock_release_again, false);
    assert.deepEqual(ours.lock_after_expiry, { acquired: true, not_before_1s: true });
    assert.equal(ours.lock_context_manager, true);
    assert.deepEqual(ours.lock_context_manager_after, { value: null, meta: null });

    // Then every step, field by field, against the real etcd.
    for (const step of Object.keys(real)) {
      assert.deepEqual(ours[step], real[step], `step ${step} differs from the real etcd`);
    }
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(real).sort());
  });
});
