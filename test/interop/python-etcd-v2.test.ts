import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCommand, startTwins, type Twins } from './twins.js';

/**
 * Debian's python3-etcd (a v2 keys API client written against the real etcd) runs
 * etcd2_check.py against etcd-ts and the real etcd 3.4, both with --enable-v2: the two
 * reports must be identical, and hold the expected values.
 */
const PYTHON = '/usr/bin/python3';

function checkScript(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [
    join(here, 'etcd2_check.py'),
    join(here, '..', '..', '..', 'test', 'interop', 'etcd2_check.py'),
    join(here, '..', '..', '..', '..', 'test', 'interop', 'etcd2_check.py'),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new Error(`etcd2_check.py not found in ${candidates.join(', ')}`);
  return found;
}

type Report = Record<string, unknown>;

async function runCheck(endpoint: string): Promise<Report> {
  const [host, port] = endpoint.split(':') as [string, string];
  const r = await runCommand(PYTHON, [checkScript(), host, port], '', {}, 90_000);
  assert.equal(r.code, 0, `etcd2_check.py against ${endpoint} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as Report;
}

describe('python3-etcd (v2 client) against etcd-ts and the real etcd', { timeout: 180_000 }, () => {
  let twins: Twins | undefined;

  before(async () => {
    const probe = await runCommand(PYTHON, ['-c', 'import etcd']);
    if (probe.code !== 0) {
      throw new Error(
        `python3-etcd is missing (${PYTHON} -c 'import etcd' failed: ${probe.stderr.trim()}); ` +
          'install it with: apt-get install python3-etcd',
      );
    }
    twins = await startTwins(['--enable-v2']);
  });

  after(async () => {
    await twins?.stop();
  });

  test('the same script gives the same, expected results on both servers', async () => {
    const t = twins;
    if (t === undefined) throw new Error('servers not started');
    const [ours, real] = await Promise.all([runCheck(t.oursEndpoint), runCheck(t.realEndpoint)]);
    assert.deepEqual(ours.write, {
      action: 'set',
      node: { key: '/k1', value: 'v1', dir: false, modified: 0, created: 0 },
    });
    assert.equal(ours.create_existing, 'EtcdAlreadyExist');
    assert.equal(ours.update_missing, 'EtcdKeyNotFound');
    assert.equal(ours.cas_wrong_value, 'EtcdCompareFailed');
    assert.equal(ours.cas_wrong_index, 'EtcdCompareFailed');
    assert.deepEqual(ours.recursive, ['/dir/a', '/dir/b', '/dir/sub/c']);
    assert.equal(ours.delete_dir_without_recursive, 'EtcdNotFile');
    assert.deepEqual(ours.queue, ['first', 'second']);
    assert.equal(ours.append_in_order, true);
    assert.deepEqual(ours.watch_next, { action: 'set', value: 'changed' });
    assert.equal((ours.watch_from_index as { value: string }).value, 'changed');
    assert.equal(ours.version_is_3_4, true);
    assert.deepEqual(ours, real);
  });
});
