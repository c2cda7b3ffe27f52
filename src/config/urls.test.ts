import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { verifyBootstrapCluster } from './bootstrap.js';
import { defaultRouteInterface } from './default-host.js';
import { parseEtcdCommandLine, parseServerConfig } from './parse.js';
import { ConfigError } from './types.js';
import { parseEtcdUrl, parseInitialCluster, parseUrlList, splitHostPort } from './urls.js';
import { formatGoDuration, parseGoDurationNs } from './values.js';

describe('URLs', () => {
  test('parse parts', () => {
    assert.deepEqual(parseEtcdUrl('https://[::1]:2379'), {
      scheme: 'https',
      host: '[::1]:2379',
      hostname: '::1',
      port: 2379,
      href: 'https://[::1]:2379',
    });
    assert.equal(parseEtcdUrl(' http://a:1 ').href, 'http://a:1');
    assert.equal(parseEtcdUrl('unix://sock:1').scheme, 'unix');
  });
  test('host:port rules', () => {
    assert.equal(splitHostPort('a'), undefined);
    assert.equal(splitHostPort('a:b:1'), undefined);
    assert.deepEqual(splitHostPort(':5'), { hostname: '', port: 5 });
    assert.throws(
      () => parseEtcdUrl('ftp://a:1'),
      /URL scheme must be http, https, unix, or unixs: ftp:\/\/a:1/,
    );
    assert.throws(() => parseEtcdUrl('http://a:1/'), /URL must not contain a path/);
  });
  test('lists sort byte-wise', () => {
    assert.deepEqual(parseUrlList('http://b:1,http://a:10,http://a:9'), [
      'http://a:10',
      'http://a:9',
      'http://b:1',
    ]);
  });
  test('initial cluster without "=" fails like etcd (empty URL)', () => {
    assert.throws(() => parseInitialCluster('a'), /URL scheme must be/);
    assert.deepEqual([...parseInitialCluster('a=http://x:1,,')], [['a', ['http://x:1']]]);
  });
});

describe('Go durations', () => {
  test('parse', () => {
    assert.equal(parseGoDurationNs('0'), 0);
    assert.equal(parseGoDurationNs('1h2m3s'), 3723e9);
    assert.equal(parseGoDurationNs('-1.5s'), -1.5e9);
    assert.equal(parseGoDurationNs('10µs'), 10e3);
    assert.throws(() => parseGoDurationNs('1'));
    assert.throws(() => parseGoDurationNs('1d'));
    assert.throws(() => parseGoDurationNs(''));
  });
  test('format', () => {
    assert.equal(formatGoDuration(0), '0s');
    assert.equal(formatGoDuration(100e6), '100ms');
    assert.equal(formatGoDuration(7200e9), '2h0m0s');
    assert.equal(formatGoDuration(90e9), '1m30s');
  });
});

describe('bootstrap checks (empty data dir)', () => {
  const msg = (argv: string[]) => {
    try {
      verifyBootstrapCluster(parseServerConfig(argv, {}));
    } catch (err) {
      if (err instanceof ConfigError) return err.message;
      throw err;
    }
    return 'ok';
  };
  test('defaults pass', () => {
    assert.equal(msg([]), 'ok');
  });
  test('own name missing from --initial-cluster', () => {
    assert.equal(
      msg(['--name', 'x', '--initial-cluster', 'y=http://127.0.0.1:1']),
      `couldn't find local name "x" in the initial cluster configuration`,
    );
  });
  test('advertised URLs must match own entry', () => {
    assert.equal(
      msg(['--initial-cluster', 'default=http://127.0.0.1:1']),
      '--initial-cluster has default=http://127.0.0.1:1 but missing from --initial-advertise-peer-urls=http://localhost:2380 (resolved urls: "http://localhost:2380" != "http://127.0.0.1:1")',
    );
  });
  test('duplicate URLs', () => {
    assert.match(
      msg(['--initial-cluster', 'default=http://localhost:2380,b=http://localhost:2380']),
      /^initial cluster b=http:\/\/localhost:2380,default=http:\/\/localhost:2380 has duplicate url$/,
    );
  });
});

describe('default host for 0.0.0.0 listeners', () => {
  const deps = { readFile: (): string => assert.fail('no file'), defaultHost: () => '10.1.2.3' };
  test('a localhost advertise URL becomes the default host, keeping the listen port', () => {
    const o = parseEtcdCommandLine(['--name', 'n1', '--listen-peer-urls', 'http://0.0.0.0:12380'], {}, deps);
    assert.equal(o.kind, 'run');
    if (o.kind !== 'run') return;
    assert.deepEqual(o.config.initialAdvertisePeerUrls, ['http://10.1.2.3:12380']);
    assert.equal(o.config.initialClusterRaw, 'n1=http://10.1.2.3:12380');
    assert.deepEqual(o.warnings.at(-1), {
      level: 'info',
      msg: 'detected default host for advertise',
      fields: { host: '10.1.2.3' },
    });
  });
  test('explicit advertise URLs and specific listen IPs are left alone', () => {
    const a = parseServerConfig(
      ['--listen-peer-urls', 'http://0.0.0.0:1', '--initial-advertise-peer-urls', 'http://127.0.0.1:1'],
      {},
      deps,
    );
    assert.deepEqual(a.initialAdvertisePeerUrls, ['http://127.0.0.1:1']);
    assert.deepEqual(
      parseServerConfig(['--listen-peer-urls', 'http://127.0.0.1:1'], {}, deps).initialAdvertisePeerUrls,
      ['http://localhost:2380'],
    );
  });
  test('default route interface from /proc/net/route', () => {
    const text =
      'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n' +
      'wlan0\t00000000\t010200C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n' +
      'eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n' +
      'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n';
    assert.equal(defaultRouteInterface(text), 'eth0');
    assert.equal(defaultRouteInterface('Iface\tDestination\n'), undefined);
  });
});
