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
  const r = await runCommand(PYTHON, [checkScript(), host, port], '', {}, 30_000);
  assert.equal(r.code, 0, `etcd3_check.py against ${endpoint} failed:\n${r.stderr}`);
  const exact = r.stdout.replace(/(:\s*|\[\s*|,\s*)(\d{16,})/g, '$1"$2"');
  const report = JSON.parse(exact.split(`http://${endpoint}`).join('http://ENDPOINT')) as Report;
  return report;
}

describe('python3-etcd3 against etcd-ts and the real etcd', { timeout: 60_000 }, () => {
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

    // Then every step, field by field, against the real etcd.
    for (const step of Object.keys(real)) {
      assert.deepEqual(ours[step], real[step], `step ${step} differs from the real etcd`);
    }
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(real).sort());
  });
});
