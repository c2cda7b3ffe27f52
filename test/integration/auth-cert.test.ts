// --client-cert-auth: without a token, the common name of the client's
// verified certificate is the user (etcd's AuthInfoFromTLS); a token wins over
// it. The same etcdctl commands run against etcd-ts and, when installed,
// against the real etcd 3.4 with the same flags and certificates; both must
// answer the same, and etcd-ts must answer what etcd is known to answer.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { REAL_CTL, REAL_ETCD, runCommand } from '../interop/twins.js';
import { eventually, MemberProcess, memberSpec, removeDir, tempDir } from './harness.js';
import { type CertFiles, CfsslCa, cfsslMissing } from './tls-certs.js';

const OUR_CTL = fileURLToPath(new URL('../../src/cmd/etcdctl/main.js', import.meta.url));
const PYTHON = '/usr/bin/python3';

class HttpsMember extends MemberProcess {
  constructor(
    spec: ConstructorParameters<typeof MemberProcess>[0],
    private readonly program: 'ours' | 'real',
  ) {
    super(spec);
  }

  get url(): string {
    return `https://127.0.0.1:${this.spec.clientPort}`;
  }

  override args(): string[] {
    const s = this.spec;
    const peer = `http://127.0.0.1:${s.peerPort}`;
    return [
      `--name=${s.name}`,
      `--data-dir=${s.dataDir}`,
      `--listen-client-urls=${this.url}`,
      `--advertise-client-urls=${this.url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=${s.name}=${peer}`,
      ...(s.extraArgs ?? []),
    ];
  }

  override command(): [string, string[]] {
    return this.program === 'real' ? [REAL_ETCD, this.args()] : super.command();
  }
}

/** A file of the source tree, found upwards from this compiled test (dist/ or another build dir). */
function sourceFile(relative: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, relative))) return join(dir, relative);
    const up = dirname(dir);
    if (up === dir) throw new Error(`${relative} not found`);
    dir = up;
  }
}

interface Outcome {
  code: number;
  stdout: string;
  error: string;
}

const skip = cfsslMissing() ?? (existsSync(REAL_CTL) ? false : 'the real etcdctl 3.4 is not installed');

describe('auth by client certificate (--client-cert-auth)', { skip, timeout: 90_000 }, () => {
  let dir = '';
  let ca: CfsslCa;
  const certs: Record<string, CertFiles> = {};
  const members: HttpsMember[] = [];

  before(async () => {
    dir = tempDir('auth-cert');
    ca = new CfsslCa(dir);
    const server = ca.issue('server', 'server', 'etcd-server', ['127.0.0.1', 'localhost'], 'ecdsa');
    for (const cn of ['root', 'alice', 'mallory']) certs[cn] = ca.issue(cn, 'client', cn, [''], 'ecdsa');
    const flags = [
      `--cert-file=${server.cert}`,
      `--key-file=${server.key}`,
      `--trusted-ca-file=${ca.ca}`,
      '--client-cert-auth',
      '--bcrypt-cost=4',
    ];
    const programs: Array<'ours' | 'real'> = existsSync(REAL_ETCD) ? ['ours', 'real'] : ['ours'];
    for (const p of programs) {
      const m = new HttpsMember(await memberSpec(`cert-${p}`, join(dir, p), flags), p);
      m.start();
      members.push(m);
    }
    for (const m of members) {
      await eventually(
        async () => {
          const r = await ctl(OUR_CTL, m, 'root', ['endpoint', 'health']);
          assert.equal(r.code, 0, r.error + m.output);
        },
        20_000,
        200,
      );
    }
  });

  after(async () => {
    for (const m of members) await m.stop();
    removeDir(dir);
  });

  async function ctl(program: string, m: HttpsMember, cn: string, args: string[]): Promise<Outcome> {
    const c = certs[cn] as CertFiles;
    const argv = [`--endpoints=${m.url}`, `--cacert=${ca.ca}`, `--cert=${c.cert}`, `--key=${c.key}`, ...args];
    const r =
      program === OUR_CTL
        ? await runCommand(process.execPath, [OUR_CTL, ...argv])
        : await runCommand(REAL_CTL, argv);
    const error = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('Error:'))
      .join('\n');
    return { code: r.code, stdout: r.stdout, error };
  }

  const STEPS: Array<[cn: string, args: string[], expected: Partial<Outcome>]> = [
    ['root', ['user', 'add', 'root:rootpw'], { code: 0, stdout: 'User root created\n' }],
    ['root', ['user', 'grant-role', 'root', 'root'], { code: 0 }],
    ['root', ['user', 'add', 'alice', '--no-password'], { code: 0, stdout: 'User alice created\n' }],
    ['root', ['role', 'add', 'r'], { code: 0 }],
    ['root', ['role', 'grant-permission', 'r', 'readwrite', '/a/', '--prefix'], { code: 0 }],
    ['root', ['user', 'grant-role', 'alice', 'r'], { code: 0 }],
    ['root', ['auth', 'enable'], { code: 0, stdout: 'Authentication Enabled\n' }],
    ['alice', ['put', '/a/x', '1'], { code: 0, stdout: 'OK\n' }],
    ['alice', ['get', '/a/x'], { code: 0, stdout: '/a/x\n1\n' }],
    ['alice', ['put', '/b', '1'], { code: 1, error: 'Error: etcdserver: permission denied' }],
    ['alice', ['user', 'list'], { code: 1, error: 'Error: etcdserver: permission denied' }],
    ['mallory', ['get', '/a/x'], { code: 1, error: 'Error: etcdserver: permission denied' }],
    ['mallory', ['user', 'list'], { code: 1, error: 'Error: etcdserver: user name not found' }],
    ['root', ['user', 'list'], { code: 0, stdout: 'alice\nroot\n' }],
    // A token wins over the certificate.
    ['alice', ['--user=root:rootpw', 'user', 'list'], { code: 0, stdout: 'alice\nroot\n' }],
    ['alice', ['--user=alice:x', 'get', '/a/x'], { code: 2 }],
  ];

  test('the certificate names the user; etcd-ts answers as etcd 3.4', async () => {
    const [ours, real] = members;
    for (const [cn, args, expected] of STEPS) {
      const got = await ctl(OUR_CTL, ours as HttpsMember, cn, args);
      for (const [k, v] of Object.entries(expected)) {
        assert.equal(
          got[k as keyof Outcome],
          v,
          `${cn}: etcdctl ${args.join(' ')} -> ${JSON.stringify(got)}`,
        );
      }
      if (real !== undefined) {
        const theirs = await ctl(REAL_CTL, real, cn, args);
        assert.deepEqual(got, theirs, `${cn}: etcdctl ${args.join(' ')} (etcd-ts vs etcd 3.4)`);
      }
    }
  });

  test('python3-etcd3 authenticates with a password over TLS and gets the same answers', async (t) => {
    if ((await runCommand(PYTHON, ['-c', 'import etcd3'])).code !== 0) {
      t.skip('python3-etcd3 is not installed (apt-get install python3-etcd3)');
      return;
    }
    const path = sourceFile('test/interop/etcd3_auth_check.py');
    const reports: unknown[] = [];
    for (const m of members) {
      for (const args of [
        ['user', 'add', 'py:pypw'],
        ['user', 'grant-role', 'py', 'r'],
        ['put', '/secret', 's'],
      ]) {
        assert.equal((await ctl(OUR_CTL, m, 'root', args)).code, 0);
      }
      const c = certs.mallory as CertFiles;
      const r = await runCommand(
        PYTHON,
        [path, '127.0.0.1', String(m.spec.clientPort), 'py', 'pypw', ca.ca, c.cert, c.key],
        '',
        {},
        60_000,
      );
      assert.equal(r.code, 0, r.stderr);
      reports.push(JSON.parse(r.stdout));
    }
    const ours = reports[0] as Record<string, unknown>;
    assert.deepEqual(ours.get_allowed, { ok: '1' });
    assert.deepEqual(ours.get_denied, {
      code: 'PERMISSION_DENIED',
      details: 'etcdserver: permission denied',
    });
    if (reports.length > 1) assert.deepEqual(ours, reports[1]);
  });
});
