import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { describe, test } from 'node:test';
import { nopLogger } from '../../log/logger.js';
import { parseGatewayArgs, startGateway } from './gateway.js';
import {
  discoverEndpoints,
  lookupClientEndpoints,
  SrvDiscoveryError,
  type SrvRecord,
  type SrvResolver,
  srvServiceName,
} from './gateway-srv.js';

/** Answers from a table; names not in it fail as node:dns does for NXDOMAIN. */
function fakeResolver(table: Record<string, SrvRecord[]>): SrvResolver & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    servers: () => ['10.9.9.9'],
    resolveSrv: async (name) => {
      asked.push(name);
      const records = table[name];
      if (records === undefined)
        throw Object.assign(new Error(`querySrv ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      return records;
    },
  };
}

const srv = (name: string, port: number, priority = 0, weight = 0): SrvRecord => ({
  name,
  port,
  priority,
  weight,
});

function echoServer(tag: string): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.on('data', (d) => s.write(`${tag}:${d.toString()}`)));
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a !== null ? a.port : 0 });
    });
  });
}

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.write(text));
    s.once('data', (d) => {
      resolve(d.toString());
      s.destroy();
    });
    s.once('error', reject);
  });
}

describe('SRV names and lookups', () => {
  test('service names as etcd builds them', () => {
    assert.equal(srvServiceName('etcd-client', undefined, 'https'), 'etcd-client-ssl');
    assert.equal(srvServiceName('etcd-client', '', 'http'), 'etcd-client');
    assert.equal(srvServiceName('etcd-client', 'prod', 'https'), 'etcd-client-ssl-prod');
    assert.equal(srvServiceName('etcd-client', 'prod', 'http'), 'etcd-client-prod');
  });

  test('https records first, then http; sorted by priority', async () => {
    const r = fakeResolver({
      '_etcd-client-ssl-x._tcp.example.com': [srv('b.example.com', 2379, 10), srv('a.example.com', 2379, 1)],
      '_etcd-client-x._tcp.example.com': [srv('c.example.com', 2380)],
    });
    const eps = await lookupClientEndpoints('example.com', 'x', r);
    assert.deepEqual(
      eps.map((e) => e.url),
      ['https://a.example.com:2379', 'https://b.example.com:2379', 'http://c.example.com:2380'],
    );
    assert.deepEqual(r.asked, ['_etcd-client-ssl-x._tcp.example.com', '_etcd-client-x._tcp.example.com']);
  });

  test('both lookups failing is etcd error text', async () => {
    await assert.rejects(
      lookupClientEndpoints('example.com', undefined, fakeResolver({ '_etcd-client._tcp.example.com': [] })),
      (err: unknown) =>
        err instanceof SrvDiscoveryError &&
        err.message ===
          'dns lookup errors: lookup _etcd-client-ssl._tcp.example.com on 10.9.9.9:53: no such host and ' +
            'lookup _etcd-client._tcp.example.com on 10.9.9.9:53: no such host',
    );
  });

  test('secure discovery drops http records and unreachable https ones', async () => {
    const r = fakeResolver({
      '_etcd-client-ssl._tcp.example.com': [srv('up.example.com', 1), srv('down.example.com', 2)],
      '_etcd-client._tcp.example.com': [srv('plain.example.com', 3)],
    });
    const probe = async (host: string) => {
      if (host === 'down.example.com') throw new Error('connect: connection refused');
    };
    const kept = await discoverEndpoints({ domain: 'example.com', resolver: r, probe }, nopLogger());
    assert.deepEqual(
      kept.map((e) => e.url),
      ['https://up.example.com:1'],
    );
    const all = await discoverEndpoints(
      { domain: 'example.com', resolver: r, probe, insecure: true },
      nopLogger(),
    );
    assert.equal(all.length, 3);
  });
});

describe('gateway with --discovery-srv', () => {
  test('flags', () => {
    const o = parseGatewayArgs([
      '--discovery-srv=example.com',
      '--discovery-srv-name',
      'p',
      '--insecure-discovery',
    ]);
    assert.equal(o.discoverySrv, 'example.com');
    assert.equal(o.discoverySrvName, 'p');
    assert.equal(o.insecureDiscovery, true);
  });

  test('proxies to the two discovered endpoints', async () => {
    const one = await echoServer('one');
    const two = await echoServer('two');
    const resolver = fakeResolver({
      '_etcd-client._tcp.example.com': [srv('127.0.0.1', one.port), srv('127.0.0.1', two.port)],
    });
    const gw = await startGateway(
      {
        listenAddr: '127.0.0.1:0',
        // Never used: discovery found endpoints.
        endpoints: ['127.0.0.1:1'],
        retryDelayMs: 60_000,
        discoverySrv: 'example.com',
        insecureDiscovery: true,
      },
      nopLogger(),
      { srvResolver: resolver },
    );
    try {
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) seen.add((await roundTrip(gw.port, 'hi')).split(':')[0] as string);
      assert.deepEqual([...seen].sort(), ['one', 'two']);
    } finally {
      await gw.close();
      await new Promise<void>((r) => one.server.close(() => r()));
      await new Promise<void>((r) => two.server.close(() => r()));
    }
  });

  test('an empty answer fails the start with etcd error text', async () => {
    await assert.rejects(
      startGateway(
        {
          listenAddr: '127.0.0.1:0',
          endpoints: ['127.0.0.1:1'],
          retryDelayMs: 1000,
          discoverySrv: 'example.com',
        },
        nopLogger(),
        { srvResolver: fakeResolver({}) },
      ),
      /^Error: dns lookup errors: lookup _etcd-client-ssl\._tcp\.example\.com on 10\.9\.9\.9:53: no such host and lookup _etcd-client\._tcp\.example\.com on 10\.9\.9\.9:53: no such host$/,
    );
  });
});
