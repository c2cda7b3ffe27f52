import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { EtcdClient, type TlsOptions } from '../../src/client/index.js';
import { REAL_CTL, runCommand } from '../interop/twins.js';
import { eventually, MemberProcess, memberSpec, removeDir, tempDir } from './harness.js';
import { type CertFiles, CfsslCa, cfsslMissing, type KeyAlgo, serialOf } from './tls-certs.js';

/**
 * etcd-ts with https client URLs and certificates made by cfssl as etcd's
 * tutorial makes them; driven by our etcdctl, the real etcdctl 3.4, curl,
 * python3-etcd3 and a bare TLS socket (for the served certificate's serial).
 */

const OUR_CTL = fileURLToPath(new URL('../../src/cmd/etcdctl/main.js', import.meta.url));
const PYTHON = '/usr/bin/python3';
/** Refused clients wait for the command timeout; keep it short. */
const SHORT = ['--dial-timeout=1s', '--command-timeout=1500ms'];

const skipReason = cfsslMissing();

/** A member whose client URL is https. */
class HttpsMember extends MemberProcess {
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
}

async function startMember(
  dir: string,
  name: string,
  flags: string[],
  tlsForReady: TlsOptions,
): Promise<HttpsMember> {
  const member = new HttpsMember(await memberSpec(name, join(dir, name), flags));
  member.start();
  const client = new EtcdClient({ endpoints: [member.url], tls: tlsForReady });
  try {
    await eventually(
      () =>
        client.put({ key: Buffer.from('/ready'), value: Buffer.from('y') }, { deadline: Date.now() + 1000 }),
      15_000,
      100,
    );
  } catch (e) {
    await member.stop();
    throw new Error(`member did not get ready: ${(e as Error).message}\n${member.output}`);
  } finally {
    client.close();
  }
  return member;
}

function ours(args: string[], env: Record<string, string> = {}) {
  return runCommand(process.execPath, [OUR_CTL, ...args], '', env);
}

function real(args: string[], env: Record<string, string> = {}) {
  return runCommand(REAL_CTL, args, '', env);
}

const hasRealCtl = existsSync(REAL_CTL);

/** Serial of the certificate a fresh TLS connection is served. */
function servedSerial(port: number, opts: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...opts }, () => {
      const serial = socket.getPeerX509Certificate()?.serialNumber;
      socket.destroy();
      if (serial === undefined) reject(new Error('no certificate'));
      else resolve(serial);
    });
    socket.on('error', reject);
  });
}

for (const algo of ['ecdsa', 'rsa'] as KeyAlgo[]) {
  /** Checks that do not depend on the server's key type run in the first variant only. */
  const full = algo === 'ecdsa';
  // Checks that do not depend on the key type run in the ECDSA pass only (not registered, so
  // not reported as skipped, in the RSA pass).
  const onceAcrossKeyTypes = (name: string, fn: () => Promise<void>): void => {
    if (full) test(name, fn);
  };
  describe(`client TLS with cfssl certificates (${algo} server key)`, {
    skip: skipReason,
    timeout: 120_000,
  }, () => {
    let dir = '';
    let ca: CfsslCa;
    let server: CertFiles;
    let client: CertFiles;
    let intruder: CertFiles;
    let member: HttpsMember | undefined;
    let tlsArgs: string[] = [];

    before(async () => {
      dir = tempDir(`tls-${algo}`);
      ca = new CfsslCa(dir);
      server = ca.issue('server', 'server', 'etcd-server', ['127.0.0.1', 'localhost'], algo);
      client = ca.issue('client', 'client', 'client', [''], 'rsa');
      const other = new CfsslCa(dir, 'other-ca', 'ecdsa');
      intruder = other.issue('intruder', 'client', 'intruder', [''], 'ecdsa');
      // The server reads its pair from files that the reload test replaces.
      copyFileSync(server.cert, join(dir, 'live.pem'));
      copyFileSync(server.key, join(dir, 'live-key.pem'));
      tlsArgs = ['--cacert', ca.ca, '--cert', client.cert, '--key', client.key];
      member = await startMember(
        dir,
        'm1',
        [
          `--cert-file=${join(dir, 'live.pem')}`,
          `--key-file=${join(dir, 'live-key.pem')}`,
          `--trusted-ca-file=${ca.ca}`,
          '--client-cert-auth',
        ],
        { ca: readFileSync(ca.ca), cert: readFileSync(client.cert), key: readFileSync(client.key) },
      );
    });

    after(async () => {
      await member?.stop();
      removeDir(dir);
    });

    test('our etcdctl and the real one put and get with --cacert/--cert/--key', async () => {
      const m = member as HttpsMember;
      const put = await ours(['--endpoints', m.url, ...tlsArgs, 'put', 'k1', 'v1']);
      assert.equal(put.code, 0, put.stderr);
      assert.equal(put.stdout, 'OK\n');
      if (hasRealCtl) {
        const got = await real(['--endpoints', m.url, ...tlsArgs, 'get', 'k1']);
        assert.equal(got.code, 0, got.stderr);
        assert.equal(got.stdout, 'k1\nv1\n');
        assert.equal((await real(['--endpoints', m.url, ...tlsArgs, 'put', 'k2', 'v2'])).code, 0);
      }
      const env = { ETCDCTL_CACERT: ca.ca, ETCDCTL_CERT: client.cert, ETCDCTL_KEY: client.key };
      const got = await ours(['--endpoints', m.url, 'get', 'k1'], env);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(got.stdout, 'k1\nv1\n');
    });

    onceAcrossKeyTypes(
      'no client certificate, or one from another CA, is refused; the server keeps serving',
      async () => {
        const m = member as HttpsMember;
        const cases = [
          ['--cacert', ca.ca],
          ['--cacert', ca.ca, '--cert', intruder.cert, '--key', intruder.key],
        ];
        // Each refused command waits out its deadline: run them side by side.
        const runs = cases.flatMap((args) => {
          const argv = ['--endpoints', m.url, ...SHORT, ...args, 'get', 'k1'];
          return hasRealCtl ? [ours(argv), real(argv)] : [ours(argv)];
        });
        for (const r of await Promise.all(runs)) {
          assert.equal(r.code, 1, r.stdout);
          assert.match(r.stderr, /Error: context deadline exceeded\n$/);
        }
        assert.match(
          m.output,
          /"msg":"rejected connection".*"error":"tls: client didn't provide a certificate"/,
        );
        assert.match(
          m.output,
          /"error":"tls: failed to verify client certificate: x509: certificate signed by unknown authority"/,
        );
        const again = await ours(['--endpoints', m.url, ...tlsArgs, 'get', 'k1', '--print-value-only']);
        assert.equal(again.stdout, 'v1\n');
      },
    );

    onceAcrossKeyTypes('a server certificate from an unknown CA is refused by both etcdctls', async () => {
      const m = member as HttpsMember;
      const args = [
        '--endpoints',
        m.url,
        ...SHORT,
        '--cacert',
        join(dir, 'other-ca.pem'),
        '--cert',
        client.cert,
        '--key',
        client.key,
        'get',
        'k1',
      ];
      const [r, rr] = await Promise.all([ours(args), hasRealCtl ? real(args) : undefined]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Error: context deadline exceeded\n$/);
      if (rr !== undefined) assert.equal(rr.code, 1);
    });

    onceAcrossKeyTypes('bad TLS arguments end etcdctl with exit 128 and the real etcdctl text', async () => {
      const m = member as HttpsMember;
      const cases = [
        ['--cert', client.cert],
        ['--key', client.key],
        ['--cert', client.cert, '--key', intruder.key],
        ['--cacert', join(dir, 'missing.pem')],
        ['--cacert='],
      ];
      for (const args of cases) {
        const r = await ours(['--endpoints', m.url, ...args, 'get', 'k1']);
        assert.equal(r.code, 128, args.join(' '));
        if (hasRealCtl) {
          const rr = await real(['--endpoints', m.url, ...args, 'get', 'k1']);
          assert.equal(rr.code, 128, args.join(' '));
          assert.equal(r.stderr, rr.stderr, args.join(' '));
        }
      }
    });

    test('curl gets /health, /version and /metrics over https with a client certificate', async () => {
      const m = member as HttpsMember;
      const curl = (path: string, extra: string[] = ['--cert', client.cert, '--key', client.key]) =>
        runCommand('curl', ['-sS', '--max-time', '5', '--cacert', ca.ca, ...extra, `${m.url}${path}`]);
      const health = await curl('/health');
      assert.equal(health.code, 0, health.stderr);
      assert.deepEqual(JSON.parse(health.stdout), { health: 'true' });
      assert.match((await curl('/version')).stdout, /"etcdserver":"3\.4\./);
      assert.match((await curl('/metrics')).stdout, /etcd_server_has_leader 1/);
      assert.notEqual((await curl('/health', [])).code, 0, 'no client certificate');
    });

    test('python3-etcd3 with ca_cert, cert_key and cert_cert', async (t) => {
      if ((await runCommand(PYTHON, ['-c', 'import etcd3'])).code !== 0) {
        t.skip('python3-etcd3 is not installed');
        return;
      }
      const m = member as HttpsMember;
      const script = [
        'import sys, etcd3',
        `c = etcd3.client(host="127.0.0.1", port=${m.spec.clientPort}, ca_cert=sys.argv[1], cert_key=sys.argv[2], cert_cert=sys.argv[3])`,
        'c.put("py", "thon")',
        'print(c.get("py")[0].decode())',
      ].join('\n');
      const r = await runCommand(PYTHON, ['-c', script, ca.ca, client.key, client.cert]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'thon\n');
    });

    test('a certificate replaced on disk is served to the next connection, without a restart', async () => {
      const m = member as HttpsMember;
      const opts = {
        ca: readFileSync(ca.ca),
        cert: readFileSync(client.cert),
        key: readFileSync(client.key),
      };
      assert.equal(await servedSerial(m.spec.clientPort, opts), serialOf(server.cert));
      const next = ca.issue('server2', 'server', 'etcd-server', ['127.0.0.1', 'localhost'], algo);
      // Replace the key first: until the certificate follows, the pair does not match and the old one stays.
      copyFileSync(next.key, join(dir, 'live-key.pem.tmp'));
      renameSync(join(dir, 'live-key.pem.tmp'), join(dir, 'live-key.pem'));
      assert.equal(await servedSerial(m.spec.clientPort, opts), serialOf(server.cert));
      copyFileSync(next.cert, join(dir, 'live.pem.tmp'));
      renameSync(join(dir, 'live.pem.tmp'), join(dir, 'live.pem'));
      assert.equal(await servedSerial(m.spec.clientPort, opts), serialOf(next.cert));
      const r = await ours(['--endpoints', m.url, ...tlsArgs, 'get', 'k1', '--print-value-only']);
      assert.equal(r.stdout, 'v1\n');
      assert.match(m.output, /"msg":"failed to reload TLS files; keeping the ones in use"/);
    });
  });
}

describe('--auto-tls and --cipher-suites', { timeout: 120_000 }, () => {
  let dir = '';

  before(() => {
    dir = tempDir('tls-auto');
  });

  after(() => removeDir(dir));

  test('auto-tls: a self-signed pair under <data-dir>/fixtures/client, used with --insecure-skip-tls-verify', async () => {
    const member = await startMember(dir, 'auto', ['--auto-tls'], { insecureSkipVerify: true });
    try {
      const fixtures = join(member.spec.dataDir, 'fixtures', 'client');
      assert.ok(existsSync(join(fixtures, 'cert.pem')) && existsSync(join(fixtures, 'key.pem')));
      const skip = ['--endpoints', member.url, '--insecure-transport=false', '--insecure-skip-tls-verify'];
      const put = await ours([...skip, 'put', 'a', 'b']);
      assert.equal(put.code, 0, put.stderr);
      if (hasRealCtl) {
        const got = await real([...skip, 'get', 'a', '--print-value-only']);
        assert.equal(got.stdout, 'b\n', got.stderr);
      }
      const env = { ETCDCTL_INSECURE_TRANSPORT: 'false', ETCDCTL_INSECURE_SKIP_TLS_VERIFY: 'true' };
      assert.equal(
        (await ours(['--endpoints', member.url, 'get', 'a', '--print-value-only'], env)).stdout,
        'b\n',
      );
      // Without a TLS setting --insecure-skip-tls-verify does nothing (etcdctl 3.4): the server is verified and refused.
      const verify = await ours([
        '--endpoints',
        member.url,
        ...SHORT,
        '--insecure-skip-tls-verify',
        'get',
        'a',
      ]);
      assert.equal(verify.code, 1);
      assert.match(verify.stderr, /Error: context deadline exceeded\n$/);
    } finally {
      await member.stop();
    }
  });

  test('an unknown --cipher-suites name fails start-up with etcd text', async () => {
    const member = new HttpsMember(
      await memberSpec('ciphers', join(dir, 'ciphers'), [
        '--auto-tls',
        '--cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,NOT_A_SUITE',
      ]),
    );
    member.start();
    const code = await member.waitExit(15_000);
    if (code === undefined) await member.kill();
    assert.equal(code, 1, member.output);
    assert.match(member.output, /unexpected TLS cipher suite \\"NOT_A_SUITE\\"/);
  });

  test('--cipher-suites limits TLS 1.2 to the listed suites', async () => {
    const member = await startMember(
      dir,
      'suites',
      ['--auto-tls', '--cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'],
      { insecureSkipVerify: true },
    );
    try {
      const hello = (ciphers: string) =>
        new Promise<string>((resolve) => {
          const s = tls.connect(
            {
              host: '127.0.0.1',
              port: member.spec.clientPort,
              rejectUnauthorized: false,
              maxVersion: 'TLSv1.2',
              ciphers,
            },
            () => {
              resolve(s.getCipher().standardName);
              s.destroy();
            },
          );
          s.on('error', () => resolve('refused'));
        });
      assert.equal(
        await hello('ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256'),
        'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
      );
      assert.equal(await hello('ECDHE-ECDSA-AES128-GCM-SHA256'), 'refused');
    } finally {
      await member.stop();
    }
  });
});
