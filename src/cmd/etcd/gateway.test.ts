import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { describe, test } from 'node:test';
import { nopLogger } from '../../log/logger.js';
import { GatewayUsageError, parseGatewayArgs, startGateway } from './gateway.js';
import { endpointAddress, RemotePool } from './gateway-pool.js';

describe('gateway endpoint pool', () => {
  test('round robin over active endpoints', () => {
    const pool = new RemotePool(['a:1', 'b:1', 'c:1']);
    assert.deepEqual(
      [1, 2, 3, 4].map(() => pool.pick()?.addr),
      ['a:1', 'b:1', 'c:1', 'a:1'],
    );
    (pool.remotes[1] as { active: boolean }).active = false;
    assert.deepEqual(
      [1, 2, 3].map(() => pool.pick()?.addr),
      ['c:1', 'a:1', 'c:1'],
    );
    for (const r of pool.remotes) r.active = false;
    assert.equal(pool.pick(), undefined);
    assert.equal(pool.inactive().length, 3);
  });
  test('endpoints lose their scheme and need a port', () => {
    assert.equal(endpointAddress('http://127.0.0.1:2379'), '127.0.0.1:2379');
    assert.equal(endpointAddress('127.0.0.1:2379'), '127.0.0.1:2379');
    assert.equal(endpointAddress('http://host'), undefined);
    assert.throws(() => new RemotePool([]));
  });
  test('flags', () => {
    const o = parseGatewayArgs([
      '--endpoints=http://a:1,http://b:2',
      '--listen-addr',
      '127.0.0.1:5',
      '--retry-delay=2s',
    ]);
    assert.deepEqual(o, {
      endpoints: ['http://a:1', 'http://b:2'],
      listenAddr: '127.0.0.1:5',
      retryDelayMs: 2000,
    });
    assert.throws(() => parseGatewayArgs(['--nope=1']), GatewayUsageError);
  });
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

describe('gateway proxying', () => {
  test('forwards bytes and skips a dead endpoint', async () => {
    const live = await echoServer('live');
    const dead = await echoServer('dead');
    await new Promise<void>((r) => dead.server.close(() => r()));
    const gw = await startGateway(
      {
        listenAddr: '127.0.0.1:0',
        endpoints: [`127.0.0.1:${dead.port}`, `http://127.0.0.1:${live.port}`],
        retryDelayMs: 60_000,
      },
      nopLogger(),
    );
    try {
      for (let i = 0; i < 3; i++) assert.equal(await roundTrip(gw.port, `hi${i}`), `live:hi${i}`);
    } finally {
      await gw.close();
      await new Promise<void>((r) => live.server.close(() => r()));
    }
  });
});
