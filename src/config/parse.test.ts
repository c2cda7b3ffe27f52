import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseEtcdCommandLine, parseServerConfig } from './parse.js';
import { ConfigError, effectiveQuotaBackendBytes } from './types.js';

const noFile = { readFile: (): string => assert.fail('no config file expected') };

function cfg(argv: string[], env: NodeJS.ProcessEnv = {}) {
  return parseServerConfig(argv, env, noFile);
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

describe('defaults (no flags)', () => {
  const c = cfg([]);
  test('member identity and data dir', () => {
    assert.equal(c.name, 'default');
    assert.equal(c.dataDir, 'default.etcd');
    assert.equal(c.walDir, '');
  });
  test('URLs', () => {
    assert.deepEqual(c.listenClientUrls, ['http://localhost:2379']);
    assert.deepEqual(c.advertiseClientUrls, ['http://localhost:2379']);
    assert.deepEqual(c.listenPeerUrls, ['http://localhost:2380']);
    assert.deepEqual(c.initialAdvertisePeerUrls, ['http://localhost:2380']);
    assert.deepEqual(c.listenMetricsUrls, []);
  });
  test('cluster', () => {
    assert.equal(c.initialClusterRaw, 'default=http://localhost:2380');
    assert.deepEqual([...c.initialCluster], [['default', ['http://localhost:2380']]]);
    assert.equal(c.initialClusterToken, 'etcd-cluster');
    assert.equal(c.initialClusterState, 'new');
  });
  test('numbers', () => {
    assert.equal(c.snapshotCount, 100000);
    assert.equal(c.heartbeatIntervalMs, 100);
    assert.equal(c.electionTimeoutMs, 1000);
    assert.equal(c.quotaBackendBytes, 0);
    assert.equal(effectiveQuotaBackendBytes(c), 2 * 1024 ** 3);
    assert.equal(c.maxRequestBytes, 1572864);
    assert.equal(c.maxTxnOps, 128);
    assert.equal(c.maxConcurrentStreams, 0xffffffff);
    assert.equal(c.grpcKeepAliveIntervalMs, 2 * 3600 * 1000);
  });
  test('logging, security and misc', () => {
    assert.equal(c.logger, 'zap');
    assert.deepEqual(c.logOutputs, ['default']);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.autoCompactionMode, 'periodic');
    assert.equal(c.autoCompactionRetention, '0');
    assert.equal(c.enableV2, false);
    assert.equal(c.strictReconfigCheck, true);
    assert.equal(c.clientTls.certFile, '');
    assert.equal(c.clientTls.clientCertAuth, false);
    assert.deepEqual(c.cors, ['*']);
    assert.deepEqual(c.hostWhitelist, ['*']);
    assert.equal(c.authToken, 'simple');
    assert.equal(c.configFile, '');
  });
});

describe('Go flag syntax', () => {
  test('-flag v, --flag v, -flag=v, --flag=v are the same', () => {
    for (const argv of [['-name', 'a'], ['--name', 'a'], ['-name=a'], ['--name=a']]) {
      assert.equal(cfg(argv).name, 'a', argv.join(' '));
    }
  });
  test('boolean forms', () => {
    assert.equal(cfg(['--enable-v2']).enableV2, true);
    assert.equal(cfg(['-enable-v2=true']).enableV2, true);
    assert.equal(cfg(['--enable-v2=1']).enableV2, true);
    assert.equal(cfg(['--strict-reconfig-check=false']).strictReconfigCheck, false);
    assert.equal(cfg(['--strict-reconfig-check=F']).strictReconfigCheck, false);
  });
  test('a boolean flag does not swallow the next argument', () => {
    const e = configError(() => cfg(['--enable-v2', 'false']));
    assert.equal(e.kind, 'verify');
    assert.equal(e.message, "'false' is not a valid flag");
  });
  test('last occurrence wins', () => {
    assert.equal(cfg(['--name', 'a', '--name', 'b']).name, 'b');
  });
  test('"--" ends flags; what follows is rejected as etcd does', () => {
    const e = configError(() => cfg(['--name', 'a', '--', '--name', 'b']));
    assert.equal(e.message, "'--name' is not a valid flag");
  });
  test('unknown flag: Go message, exit code 2', () => {
    const e = configError(() => cfg(['--no-such-flag']));
    assert.equal(e.message, 'flag provided but not defined: -no-such-flag');
    assert.equal(e.kind, 'usage');
    assert.equal(e.exitCode, 2);
    assert.equal(configError(() => cfg(['-x=1'])).message, 'flag provided but not defined: -x');
  });
  test('missing value, bad syntax, bad values', () => {
    assert.equal(configError(() => cfg(['--name'])).message, 'flag needs an argument: -name');
    assert.equal(configError(() => cfg(['---name=a'])).message, 'bad flag syntax: ---name=a');
    const bad = configError(() => cfg(['--snapshot-count=abc']));
    assert.equal(bad.message, 'invalid value "abc" for flag -snapshot-count: parse error');
    assert.equal(bad.exitCode, 2);
    assert.equal(
      configError(() => cfg(['--enable-v2=maybe'])).message,
      'invalid boolean value "maybe" for -enable-v2: parse error',
    );
    assert.equal(
      configError(() => cfg(['--listen-client-urls', 'foo'])).message,
      'invalid value "foo" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: foo',
    );
    assert.equal(
      configError(() => cfg(['--initial-cluster-state', 'old'])).message,
      'invalid value "old" for flag -initial-cluster-state: invalid value',
    );
    assert.equal(
      configError(() => cfg(['--max-concurrent-streams', 'x'])).message,
      'invalid value "x" for flag -max-concurrent-streams: strconv.ParseUint: parsing "x": invalid syntax',
    );
  });
  test('Go integer literals', () => {
    assert.equal(cfg(['--snapshot-count=0x10']).snapshotCount, 16);
    assert.equal(cfg(['--snapshot-count=010']).snapshotCount, 8);
    assert.equal(cfg(['--snapshot-count=1_000']).snapshotCount, 1000);
    assert.equal(cfg(['--quota-backend-bytes=-1']).quotaBackendBytes, -1);
    assert.equal(configError(() => cfg(['--snapshot-count=-1'])).message.endsWith('parse error'), true);
  });
  test('durations', () => {
    assert.equal(cfg(['--grpc-keepalive-min-time=1m30s']).grpcKeepAliveMinTimeMs, 90000);
    assert.equal(cfg(['--backend-batch-interval=1.5ms']).backendBatchIntervalMs, 1.5);
    assert.match(configError(() => cfg(['--grpc-keepalive-timeout=5'])).message, /parse error$/);
  });
  test('-h and --help ask for help; --version for the version', () => {
    for (const a of ['-h', '--help', '-help']) {
      const o = parseEtcdCommandLine([a], {}, noFile);
      assert.equal(o.kind, 'help');
      if (o.kind === 'help') assert.match(o.text, /--listen-client-urls 'http:\/\/localhost:2379'/);
    }
    const v = parseEtcdCommandLine(['--version'], {}, noFile);
    assert.equal(v.kind, 'version');
    if (v.kind === 'version') {
      assert.match(
        v.text,
        /^etcd Version: 3\.4\.23\nGit SHA: .+\nGo Version: .+\nGo OS\/Arch: [a-z0-9]+\/[a-z0-9]+\n$/,
      );
    }
  });
  test('--version wins even with invalid other settings', () => {
    assert.equal(parseEtcdCommandLine(['--election-timeout=1', '--version'], {}, noFile).kind, 'version');
  });
  test('every etcd 3.4 flag name is accepted', () => {
    const names = [
      'wal-dir=/w',
      'max-snapshots=1',
      'max-wals=1',
      'initial-election-tick-advance=false',
      'backend-batch-interval=10ms',
      'backend-batch-limit=5',
      'max-txn-ops=10',
      'max-request-bytes=10',
      'grpc-keepalive-min-time=1s',
      'grpc-keepalive-interval=1s',
      'grpc-keepalive-timeout=1s',
      'max-concurrent-streams=10',
      'discovery-fallback=exit',
      'discovery-proxy=x',
      'discovery-srv-name=x',
      'pre-vote',
      'proxy-failure-wait=1',
      'proxy-refresh-interval=1',
      'proxy-dial-timeout=1',
      'proxy-write-timeout=1',
      'proxy-read-timeout=1',
      'cert-file=c',
      'key-file=k',
      'client-cert-auth',
      'client-crl-file=x',
      'client-cert-allowed-hostname=h',
      'trusted-ca-file=ca',
      'auto-tls',
      'peer-cert-file=c',
      'peer-key-file=k',
      'peer-client-cert-auth',
      'peer-trusted-ca-file=ca',
      'peer-auto-tls',
      'peer-crl-file=x',
      'peer-cert-allowed-cn=cn',
      'peer-cert-allowed-hostname=h',
      'cipher-suites=A,B',
      'experimental-peer-skip-client-san-verification',
      'cors=http://a:1',
      'host-whitelist=a,b',
      'logger=zap',
      'log-outputs=stdout',
      'debug',
      'log-level=debug',
      'enable-pprof',
      'metrics=extensive',
      'auth-token=jwt',
      'bcrypt-cost=4',
      'auth-token-ttl=5',
      'enable-grpc-gateway=false',
      'experimental-initial-corrupt-check',
      'experimental-corrupt-check-time=1m',
      'experimental-enable-v2v3=/v2',
      'experimental-backend-bbolt-freelist-type=map',
      'experimental-enable-lease-checkpoint',
      'experimental-enable-lease-checkpoint-persist',
      'experimental-compaction-batch-limit=5',
      'experimental-watch-progress-notify-interval=1s',
      'experimental-warning-apply-duration=1s',
      'unsafe-no-fsync',
      'force-new-cluster',
      'auto-compaction-mode=revision',
      'auto-compaction-retention=10',
      'listen-metrics-urls=http://127.0.0.1:1',
      'snapshot-count=5',
      'quota-backend-bytes=5',
    ];
    const c = cfg(names.map((n) => `--${n}`));
    assert.equal(c.walDir, '/w');
    assert.equal(c.peerTls.allowedCn, 'cn');
    assert.equal(c.peerTls.skipClientSanVerify, true);
    assert.deepEqual(c.cipherSuites, ['A', 'B']);
    assert.deepEqual(c.hostWhitelist, ['a', 'b']);
    assert.equal(c.logger, 'zap');
    assert.deepEqual(c.logOutputs, ['stdout']);
    assert.equal(c.experimentalCorruptCheckTimeMs, 60000);
    assert.equal(c.autoCompactionMode, 'revision');
    assert.equal(c.enableGrpcGateway, false);
    assert.equal(c.discoveryFallback, 'exit');
  });
  test('pre-v3 flags are accepted, ignored and reported', () => {
    const o = parseEtcdCommandLine(['--snapshot', '--peer-heartbeat-interval=5'], {}, noFile);
    assert.equal(o.kind, 'run');
    if (o.kind === 'run') {
      assert.deepEqual(
        o.warnings.map((w) => w.msg),
        [
          'flag "-snapshot" is no longer supported - ignoring.',
          'flag "-peer-heartbeat-interval" is no longer supported - ignoring.',
        ],
      );
    }
  });
});

describe('derived values', () => {
  test('--name alone names the data dir and the one-member cluster', () => {
    const c = cfg(['--name', 'infra0']);
    assert.equal(c.dataDir, 'infra0.etcd');
    assert.equal(c.initialClusterRaw, 'infra0=http://localhost:2380');
    assert.deepEqual([...c.initialCluster.keys()], ['infra0']);
  });
  test('--name with advertised peer URLs builds the cluster from them', () => {
    const c = cfg([
      '--name',
      'n',
      '--initial-advertise-peer-urls',
      'http://10.0.0.2:2380,http://10.0.0.1:2380',
    ]);
    assert.deepEqual(c.initialAdvertisePeerUrls, ['http://10.0.0.1:2380', 'http://10.0.0.2:2380']);
    assert.equal(c.initialClusterRaw, 'n=http://10.0.0.1:2380,n=http://10.0.0.2:2380');
  });
  test('URL lists are canonical, de-duplicated and sorted like etcd', () => {
    const c = cfg([
      '--listen-client-urls',
      'HTTP://127.0.0.1:2,http://127.0.0.1:1, http://127.0.0.1:1',
      '--advertise-client-urls',
      'http://127.0.0.1:1',
    ]);
    assert.deepEqual(c.listenClientUrls, ['http://127.0.0.1:1', 'http://127.0.0.1:2']);
  });
  test('initial cluster with several members and several URLs per member', () => {
    const c = cfg([
      '--name',
      'b',
      '--initial-advertise-peer-urls',
      'http://127.0.0.1:2',
      '--initial-cluster',
      'a=http://127.0.0.1:1,b=http://127.0.0.1:2,a=http://127.0.0.1:0',
    ]);
    assert.deepEqual(
      [...c.initialCluster],
      [
        ['a', ['http://127.0.0.1:0', 'http://127.0.0.1:1']],
        ['b', ['http://127.0.0.1:2']],
      ],
    );
  });
  test('discovery clears the default initial cluster', () => {
    const c = cfg(['--discovery', 'https://discovery.etcd.io/x']);
    assert.equal(c.initialClusterRaw, '');
    assert.equal(c.initialCluster.size, 0);
  });
});

describe('validation with etcd messages', () => {
  const msg = (argv: string[]) => configError(() => cfg(argv)).message;
  test('election timeout vs heartbeat', () => {
    assert.equal(
      msg(['--election-timeout=400']),
      '--election-timeout[400ms] should be at least as 5 times as --heartbeat-interval[100ms]',
    );
    assert.equal(cfg(['--election-timeout=500']).electionTimeoutMs, 500);
    assert.equal(msg(['--heartbeat-interval=0']), '--heartbeat-interval must be >0 (set to 0ms)');
    assert.equal(
      msg(['--election-timeout=60000']),
      '--election-timeout[60000ms] is too long, and should be set less than 50000ms',
    );
  });
  test('listening on client URLs requires advertising some', () => {
    const e = configError(() => cfg(['--listen-client-urls', 'http://127.0.0.1:1']));
    assert.equal(
      e.message,
      '--advertise-client-urls is required when --listen-client-urls is set explicitly',
    );
    assert.equal(e.exitCode, 1);
  });
  test('bind URLs need an IP', () => {
    assert.equal(
      msg(['--listen-peer-urls', 'http://example.com:1']),
      'expected IP in URL for binding (http://example.com:1)',
    );
    assert.deepEqual(cfg(['--listen-peer-urls', 'http://[::1]:1']).listenPeerUrls, ['http://[::1]:1']);
  });
  test('bad URL shapes', () => {
    assert.match(
      msg(['--initial-advertise-peer-urls', 'http://a']),
      /does not have the form "host:port": http:\/\/a$/,
    );
    assert.match(
      msg(['--initial-advertise-peer-urls', 'http://a:1/x']),
      /URL must not contain a path: http:\/\/a:1\/x$/,
    );
  });
  test('conflicting bootstrap flags', () => {
    assert.match(
      msg(['--discovery', 'http://d:1', '--initial-cluster', 'default=http://localhost:2380']),
      /^multiple discovery/,
    );
  });
  test('auto compaction mode and logging', () => {
    assert.equal(msg(['--auto-compaction-mode', 'x']), 'unknown auto-compaction-mode "x"');
    assert.equal(msg(['--logger', 'x']), 'unknown logger option "x"');
    assert.equal(msg(['--log-level', 'loud']), 'unknown level "loud"');
    assert.equal(
      msg(['--logger=capnslog', '--log-outputs', 'stderr,stdout']),
      `--logger=capnslog supports only 1 value in '--log-outputs', got ["stderr" "stdout"]`,
    );
    assert.deepEqual(cfg(['--logger=zap', '--log-outputs', 'stdout,/tmp/x.log']).logOutputs, [
      '/tmp/x.log',
      'stdout',
    ]);
    assert.equal(
      msg(['--logger=zap', '--log-outputs', 'default,stdout']),
      'multi logoutput for "default" is not supported yet',
    );
  });
});

describe('ETCD_* environment variables', () => {
  test('each flag can come from the environment', () => {
    const c = cfg([], {
      ETCD_NAME: 'envname',
      ETCD_DATA_DIR: '/d',
      ETCD_HEARTBEAT_INTERVAL: '500',
      ETCD_ELECTION_TIMEOUT: '2500',
      ETCD_LISTEN_CLIENT_URLS: 'https://127.0.0.1:1,http://localhost:2',
      ETCD_ADVERTISE_CLIENT_URLS: 'https://127.0.0.1:1',
      ETCD_CLIENT_CERT_AUTH: 'true',
      ETCD_INITIAL_CLUSTER_STATE: 'existing',
    });
    assert.equal(c.name, 'envname');
    assert.equal(c.dataDir, '/d');
    assert.equal(c.heartbeatIntervalMs, 500);
    assert.equal(c.electionTimeoutMs, 2500);
    assert.deepEqual(c.listenClientUrls, ['http://localhost:2', 'https://127.0.0.1:1']);
    assert.equal(c.clientTls.clientCertAuth, true);
    assert.equal(c.initialClusterState, 'existing');
    assert.equal(c.initialClusterRaw, 'envname=http://localhost:2380');
  });
  test('env set listen-client-urls counts as set (advertise becomes required)', () => {
    const e = configError(() => cfg([], { ETCD_LISTEN_CLIENT_URLS: 'http://127.0.0.1:1' }));
    assert.match(e.message, /--advertise-client-urls is required/);
  });
  test('a flag and its variable together is fatal, as in etcd', () => {
    const e = configError(() => cfg(['--name', 'from-flag'], { ETCD_NAME: 'from-env' }));
    assert.equal(
      e.message,
      'conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)',
    );
    assert.equal(e.kind, 'fatal');
    assert.equal(e.exitCode, 1);
  });
  test('used and unknown variables are reported; empty ones are unset', () => {
    const o = parseEtcdCommandLine(
      [],
      { ETCD_NAME: 'n', ETCD_NO_SUCH: '1', ETCD_DATA_DIR: '', ETCDCTL_API: '3' },
      noFile,
    );
    assert.equal(o.kind, 'run');
    if (o.kind !== 'run') return;
    assert.equal(o.config.dataDir, 'n.etcd');
    assert.deepEqual(o.warnings, [
      { level: 'info', msg: 'recognized and used environment variable ETCD_NAME=n' },
      { level: 'warn', msg: 'unrecognized environment variable ETCD_NO_SUCH=1' },
      { level: 'warn', msg: 'unrecognized environment variable ETCD_DATA_DIR=' },
    ]);
  });
  test('bad value in a variable names the variable', () => {
    const e = configError(() => cfg([], { ETCD_SNAPSHOT_COUNT: 'abc' }));
    assert.equal(e.message, 'invalid value "abc" for ETCD_SNAPSHOT_COUNT: parse error');
    assert.equal(e.exitCode, 1);
  });
});
