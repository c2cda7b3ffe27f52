import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseEtcdCommandLine, parseServerConfig } from './parse.js';
import { ConfigError } from './types.js';

const YAML = `
# etcd.conf.yml, etcd's own sample layout
name: 'infra1'
data-dir: /var/lib/etcd/infra1
snapshot-count: 10000
heartbeat-interval: 200
election-timeout: 2000
listen-peer-urls: https://127.0.0.1:12380
listen-client-urls: https://127.0.0.1:12379,http://127.0.0.1:22379
initial-advertise-peer-urls: https://127.0.0.1:12380
advertise-client-urls: https://127.0.0.1:12379
initial-cluster: infra1=https://127.0.0.1:12380,infra2=https://127.0.0.1:22380
initial-cluster-token: 'tok'
initial-cluster-state: 'new'
enable-v2: yes
grpc-keepalive-min-time: 3000000000
log-outputs: [stdout]
logger: zap
cert-file: /ignored/at/top/level.pem
unknown-key: whatever
client-transport-security:
  cert-file: /c.pem
  key-file: /c-key.pem
  client-cert-auth: true
  trusted-ca-file: /ca.pem
  auto-tls: false
peer-transport-security:
  cert-file: /p.pem
  key-file: /p-key.pem
  client-cert-auth: true
  trusted-ca-file: /pca.pem
  auto-tls: true
`;

function withFile(text: string) {
  return {
    readFile: (path: string): string => {
      assert.equal(path, '/etc/etcd.yml');
      return text;
    },
  };
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  return assert.fail('expected a ConfigError');
}

describe('--config-file', () => {
  test('reads etcd key names, TLS sections, YAML 1.1 booleans, nanosecond durations', () => {
    const c = parseServerConfig(['--config-file', '/etc/etcd.yml'], {}, withFile(YAML));
    assert.equal(c.configFile, '/etc/etcd.yml');
    assert.equal(c.name, 'infra1');
    assert.equal(c.dataDir, '/var/lib/etcd/infra1');
    assert.equal(c.snapshotCount, 10000);
    assert.equal(c.heartbeatIntervalMs, 200);
    assert.equal(c.electionTimeoutMs, 2000);
    assert.deepEqual(c.listenClientUrls, ['http://127.0.0.1:22379', 'https://127.0.0.1:12379']);
    assert.deepEqual(c.advertiseClientUrls, ['https://127.0.0.1:12379']);
    assert.deepEqual([...c.initialCluster.keys()], ['infra1', 'infra2']);
    assert.equal(c.initialClusterToken, 'tok');
    assert.equal(c.enableV2, true);
    assert.equal(c.grpcKeepAliveMinTimeMs, 3000);
    assert.deepEqual(c.logOutputs, ['stdout']);
    assert.equal(c.clientTls.certFile, '/c.pem');
    assert.equal(c.clientTls.clientCertAuth, true);
    assert.equal(c.clientTls.trustedCaFile, '/ca.pem');
    assert.equal(c.peerTls.keyFile, '/p-key.pem');
    assert.equal(c.peerTls.autoTls, true);
  });
  test('flags and ETCD_* variables are ignored when a file is given (even conflicting ones)', () => {
    const o = parseEtcdCommandLine(
      ['--config-file=/etc/etcd.yml', '--name', 'flagname'],
      { ETCD_NAME: 'envname', ETCD_SNAPSHOT_COUNT: '5' },
      withFile(YAML),
    );
    assert.equal(o.kind, 'run');
    if (o.kind !== 'run') return;
    assert.equal(o.config.name, 'infra1');
    assert.equal(o.config.snapshotCount, 10000);
    assert.match(
      o.warnings.at(-1)?.msg ?? '',
      /other configuration command line flags and environment variables will be ignored/,
    );
  });
  test('ETCD_CONFIG_FILE selects the file too', () => {
    const c = parseServerConfig([], { ETCD_CONFIG_FILE: '/etc/etcd.yml' }, withFile(YAML));
    assert.equal(c.name, 'infra1');
  });
  test('listening on explicit client URLs keeps the default advertise URL in a file (as etcd does)', () => {
    const c = parseServerConfig(
      ['--config-file', '/etc/etcd.yml'],
      {},
      withFile('listen-client-urls: http://127.0.0.1:5\n'),
    );
    assert.deepEqual(c.advertiseClientUrls, ['http://localhost:2379']);
    assert.equal(c.name, 'default');
    assert.equal(c.dataDir, 'default.etcd');
  });
  test('an empty file means all defaults', () => {
    const c = parseServerConfig(['--config-file', '/etc/etcd.yml'], {}, withFile(''));
    assert.equal(c.snapshotCount, 100000);
  });
  test('wrong value types are rejected with Go JSON wording', () => {
    const e = configError(() =>
      parseServerConfig(['--config-file', '/etc/etcd.yml'], {}, withFile('snapshot-count: lots\n')),
    );
    assert.equal(
      e.message,
      'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field configYAML.snapshot-count of type uint64',
    );
    assert.equal(e.exitCode, 1);
  });
  test('bad URL in a file', () => {
    const e = configError(() =>
      parseServerConfig(['--config-file', '/etc/etcd.yml'], {}, withFile('listen-peer-urls: localhost:1\n')),
    );
    assert.equal(
      e.message,
      'unexpected error setting up listen-peer-urls: URL scheme must be http, https, unix, or unixs: localhost:1',
    );
  });
  test('missing file', () => {
    const missing = {
      readFile: (): string => {
        throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      },
    };
    const e = configError(() => parseServerConfig(['--config-file', '/nope.yml'], {}, missing));
    assert.equal(e.message, 'open /nope.yml: no such file or directory');
  });
  test('validation applies to files as well', () => {
    const e = configError(() =>
      parseServerConfig(['--config-file', '/etc/etcd.yml'], {}, withFile('election-timeout: 100\n')),
    );
    assert.match(e.message, /should be at least as 5 times/);
  });
});
