// ETCDCTL_API=2: our etcdctl against etcd-ts beside the real etcdctl against
// the real etcd 3.4 (twins: same member and cluster ids, both --enable-v2).
// The same commands in the same order must print the same bytes and exit the
// same way; only times, TTLs and each twin's own client URL are masked.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { REAL_CTL, runCommand, startTwins, type Twins } from './twins.js';

const OUR_CTL = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cmd', 'etcdctl', 'main.js');

const SCRIPT: string[][] = [
  ['set', 'foo', 'bar'],
  ['get', 'nope'],
  ['mk', 'foo', 'x'],
  ['mk', 'newk', 'v'],
  ['update', 'foo', 'baz'],
  ['update', 'nope', 'v'],
  ['mkdir', 'd'],
  ['setdir', 'd2'],
  ['ls', '--recursive', '-p', '--sort'],
  ['set', 'd/x', '1'],
  ['get', 'd'],
  ['rm', 'foo'],
  ['rm', 'd', '--recursive'],
  ['set', 't', 'v', '--ttl', '50'],
  ['-o', 'json', 'get', 't'],
  ['-o', 'extended', 'get', 't'],
  ['set', 'a', 'b', '--swap-with-value', 'x'],
  ['set', 'a', 'b'],
  ['set', 'a', 'c', '--swap-with-value', 'b'],
  ['set', 'a', 'd', '--swap-with-index', '1'],
  ['mk', '--in-order', 'q', 'job1'],
  ['rm', 'a', '--with-value', 'c'],
  ['-o', 'extended', 'rm', 'newk'],
  ['set', 'onlykey'],
  ['bogus'],
  ['--help'],
  ['set', '--help'],
  ['member', 'list'],
  ['cluster-health'],
  ['watch', '--after-index', '3', 'foo'],
  ['watch', '--after-index', '1', '-r', '/'],
];

function mask(s: string, endpoint: string): string {
  return s
    .replaceAll(`http://${endpoint}`, '<client url>')
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>')
    .replace(/"ttl":\d+/g, '"ttl":<ttl>')
    .replace(/TTL: \d+/g, 'TTL: <ttl>');
}

describe('etcdctl with ETCDCTL_API=2 prints what the real one prints', { timeout: 120_000 }, () => {
  let twins: Twins;
  before(async () => {
    twins = await startTwins(['--enable-v2']);
  });
  after(async () => {
    await twins?.stop();
  });

  test('keys, directories, TTLs, compare-and-swap, watches, members, help', async () => {
    for (const args of SCRIPT) {
      const [real, ours] = await Promise.all([
        runCommand(REAL_CTL, [`--endpoints=http://${twins.realEndpoint}`, ...args], '', { ETCDCTL_API: '2' }),
        runCommand(process.execPath, [OUR_CTL, `--endpoints=http://${twins.oursEndpoint}`, ...args], '', {
          ETCDCTL_API: '2',
        }),
      ]);
      assert.deepEqual(
        {
          code: ours.code,
          stdout: mask(ours.stdout, twins.oursEndpoint),
          stderr: mask(ours.stderr, twins.oursEndpoint),
        },
        {
          code: real.code,
          stdout: mask(real.stdout, twins.realEndpoint),
          stderr: mask(real.stderr, twins.realEndpoint),
        },
        `etcdctl ${args.join(' ')}`,
      );
    }
  });
});
