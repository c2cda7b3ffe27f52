// etcdctl's auth, user and role commands, byte for byte: the real etcdctl
// 3.4 against the real etcd 3.4 and our etcdctl against etcd-ts run the same
// commands (same arguments, same stdin for the password prompts) and must
// print the same stdout, the same error line and exit the same way. The two
// servers are twins (same member and cluster ids), so JSON output matches too.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { REAL_CTL, REAL_ETCD, runCommand, twinsForSuite } from './twins.js';

const skip =
  existsSync(REAL_ETCD) && existsSync(REAL_CTL) ? false : 'real etcd/etcdctl 3.4 are not installed';
const OUR_CTL = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cmd', 'etcdctl', 'main.js');

interface Step {
  args: string[];
  stdin?: string;
}

const ROOT = '--user=root:rootpw';

const STEPS: Step[] = [
  { args: ['auth', 'enable'] },
  { args: ['user', 'add', 'root:rootpw'] },
  { args: ['user', 'add', 'root:x'] },
  { args: ['role', 'add', 'r1'] },
  { args: ['role', 'grant-permission', 'r1', 'readwrite', 'foo'] },
  { args: ['role', 'grant-permission', 'r1', 'read', '/p/', '--prefix'] },
  { args: ['role', 'grant-permission', 'r1', 'write', 'a', 'z'] },
  { args: ['role', 'grant-permission', 'r1', 'readwrite', 'k', '--from-key'] },
  { args: ['role', 'grant-permission', 'r1', 'bogus', 'k'] },
  { args: ['role', 'get', 'r1'] },
  { args: ['role', 'get', 'r1', '-w', 'json'] },
  { args: ['role', 'get', 'r1', '-w', 'fields'] },
  { args: ['role', 'get', 'nope'] },
  { args: ['role', 'list'] },
  { args: ['role', 'list', '-w', 'json'] },
  { args: ['user', 'add', 'alice'], stdin: 'apw\napw\n' },
  { args: ['user', 'add', 'bob'], stdin: 'x\ny\n' },
  { args: ['user', 'add', 'bob'], stdin: '\n' },
  { args: ['user', 'add', 'carol', '--interactive=false'], stdin: 'cpw\n' },
  { args: ['user', 'add', 'dave', '--new-user-password=dpw'] },
  { args: ['user', 'add', 'cn', '--no-password'] },
  { args: ['user', 'grant-role', 'alice', 'r1'] },
  { args: ['user', 'grant-role', 'alice', 'nope'] },
  { args: ['user', 'get', 'alice'] },
  { args: ['user', 'get', 'alice', '--detail'] },
  { args: ['user', 'get', 'alice', '-w', 'json'] },
  { args: ['user', 'list'] },
  { args: ['user', 'list', '-w', 'json'] },
  { args: ['user', 'delete', 'dave'] },
  { args: ['user', 'delete', 'dave'] },
  { args: ['role', 'revoke-permission', 'r1', 'zz'] },
  { args: ['role', 'revoke-permission', 'r1', 'a', 'z'] },
  { args: ['role', 'revoke-permission', 'r1', 'k', '--from-key'] },
  { args: ['user', 'revoke-role', 'alice', 'r9'] },
  { args: ['auth', 'enable'] },
  { args: ['get', 'foo'] },
  { args: [ROOT, 'put', 'foo', 'v'] },
  { args: ['--user=alice:apw', 'get', 'foo'] },
  { args: ['--user=alice', 'get', 'foo'], stdin: 'apw\n' },
  { args: ['--user=alice', '--password=apw', 'get', 'foo', '-w', 'json'] },
  { args: ['--user=alice:wrong', 'get', 'foo'] },
  { args: ['--user=alice:', 'get', 'foo'] },
  { args: ['--user=alice:apw', 'put', 'zz', 'v'] },
  { args: ['--user=alice:apw', 'user', 'list'] },
  { args: ['--user=alice:apw', 'user', 'get', 'alice'] },
  { args: [ROOT, 'user', 'passwd', 'alice'], stdin: 'n1\nn1\n' },
  { args: [ROOT, 'user', 'passwd', 'alice', '--interactive=false'], stdin: 'n2\n' },
  { args: ['--user=alice:apw', 'get', 'foo'] },
  { args: ['--user=alice:n2', 'get', 'foo'] },
  { args: [ROOT, 'user', 'delete', 'root'] },
  { args: [ROOT, 'role', 'delete', 'r1'] },
  { args: [ROOT, 'user', 'get', 'alice'] },
  { args: [ROOT, 'auth', 'disable'] },
  { args: ['get', 'foo'] },
  // With auth off, credentials are not an error (the Go client ignores "not enabled").
  { args: [ROOT, 'get', 'foo'] },
];

interface Outcome {
  code: number;
  stdout: string;
  /** The "Error: ..." lines of stderr (the rest has timestamps and random client ids). */
  errors: string;
}

async function runAll(ctl: string[], endpoint: string): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const s of STEPS) {
    const [file, ...pre] = ctl as [string, ...string[]];
    const r = await runCommand(file, [...pre, `--endpoints=${endpoint}`, ...s.args], s.stdin ?? '');
    const errors = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('Error:'))
      .join('\n');
    out.push({ code: r.code, stdout: r.stdout, errors });
  }
  return out;
}

describe('etcdctl auth, user and role commands: ours on etcd-ts, byte for byte as etcdctl 3.4 on etcd 3.4', {
  skip,
  timeout: 120_000,
}, () => {
  const twins = twinsForSuite(() => ['--bcrypt-cost=4']);

  test('same output, error lines and exit codes, step by step', async () => {
    const t = twins();
    const [ours, real] = await Promise.all([
      runAll([process.execPath, OUR_CTL], t.oursEndpoint),
      runAll([REAL_CTL], t.realEndpoint),
    ]);
    for (const [i, s] of STEPS.entries()) {
      assert.deepEqual(ours[i], real[i], `step ${i}: etcdctl ${s.args.join(' ')}`);
    }
    // A few outcomes spelled out.
    assert.equal(real[16]?.errors, 'Error: given passwords are different');
    assert.equal(real[38]?.stdout, 'Password: \nfoo\nv\n');
  });

  test('auth status (etcdctl 3.5 has it; 3.4 does not)', async () => {
    const t = twins();
    const r = await runCommand(process.execPath, [
      OUR_CTL,
      `--endpoints=${t.oursEndpoint}`,
      'auth',
      'status',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Authentication Status: false\nAuthRevision: \d+\n$/);
  });
});

describe('the real etcdctl 3.4 authenticating against etcd-ts: the same as against etcd 3.4', {
  skip,
  timeout: 120_000,
}, () => {
  const twins = twinsForSuite(() => ['--bcrypt-cost=4']);

  test('--user name[:password], --password and the prompt: same output, errors and exit codes', async () => {
    const t = twins();
    const [ours, real] = await Promise.all([
      runAll([REAL_CTL], t.oursEndpoint),
      runAll([REAL_CTL], t.realEndpoint),
    ]);
    for (const [i, s] of STEPS.entries()) {
      assert.deepEqual(ours[i], real[i], `step ${i}: etcdctl ${s.args.join(' ')}`);
    }
    assert.equal(ours[37]?.stdout, 'foo\nv\n');
    assert.equal(ours[40]?.errors, 'Error: etcdserver: authentication failed, invalid user ID or password');
  });
});
