import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyAccessControl } from './access.js';
import { type ActiveAlarm, type HealthSource, handleHealth } from './health.js';
import type { HttpRequestLike, HttpResponseLike } from './types.js';
import { handleVersion } from './version.js';

class FakeResponse implements HttpResponseLike {
  statusCode = 200;
  headers = new Map<string, string>();
  body: string | undefined;
  setHeader(name: string, value: string | number | readonly string[]): void {
    this.headers.set(name.toLowerCase(), String(value));
  }
  end(body?: string): void {
    assert.equal(this.body, undefined, 'end() called twice');
    this.body = body ?? '';
  }
}

function request(method: string, url: string, headers: Record<string, string> = {}): HttpRequestLike {
  return { method, url, headers };
}

function source(leader: boolean, alarms: ActiveAlarm[] = [], probe?: boolean): HealthSource {
  return {
    hasLeader: () => leader,
    alarms: () => alarms,
    ...(probe === undefined ? {} : { probe: async () => probe }),
  };
}

describe('/version', () => {
  test('etcd 3.4 body and content type', () => {
    const res = new FakeResponse();
    handleVersion({ clusterVersion: () => '3.4.0' }, request('GET', '/version'), res);
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}');
    assert.equal(res.headers.get('content-type'), 'application/json');
  });
  test('cluster version not decided yet', () => {
    const res = new FakeResponse();
    handleVersion({ clusterVersion: () => undefined }, request('GET', '/version'), res);
    assert.equal(res.body, '{"etcdserver":"3.4.23","etcdcluster":"not_decided"}');
  });
  test('other methods: 405 with Allow', () => {
    const res = new FakeResponse();
    handleVersion({ clusterVersion: () => '3.4.0' }, request('POST', '/version'), res);
    assert.equal(res.statusCode, 405);
    assert.equal(res.headers.get('allow'), 'GET');
    assert.equal(res.body, 'Method Not Allowed\n');
  });
});

describe('/health', () => {
  test('healthy: 200 {"health":"true"} as text/plain (what etcd sends)', async () => {
    const res = new FakeResponse();
    await handleHealth(source(true, [], true), request('GET', '/health'), res);
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '{"health":"true"}');
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  });
  test('no leader: 503 {"health":"false"} plus newline', async () => {
    const res = new FakeResponse();
    await handleHealth(source(false), request('GET', '/health'), res);
    assert.equal(res.statusCode, 503);
    assert.equal(res.body, '{"health":"false"}\n');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  });
  test('an alarm makes it unhealthy unless excluded', async () => {
    const nospace = [{ memberId: 1n, alarm: 'NOSPACE' }];
    const a = new FakeResponse();
    await handleHealth(source(true, nospace), request('GET', '/health'), a);
    assert.equal(a.statusCode, 503);
    const b = new FakeResponse();
    await handleHealth(source(true, nospace), request('GET', '/health?exclude=NOSPACE'), b);
    assert.equal(b.statusCode, 200);
  });
  test('a failed raft round trip makes it unhealthy', async () => {
    const res = new FakeResponse();
    await handleHealth(source(true, [], false), request('GET', '/health'), res);
    assert.equal(res.statusCode, 503);
  });
  test('only GET', async () => {
    const res = new FakeResponse();
    await handleHealth(source(true), request('PUT', '/health'), res);
    assert.equal(res.statusCode, 405);
  });
});

describe('access control', () => {
  const open = { cors: ['*'], hostWhitelist: ['*'] };
  test('CORS headers with the default policy', () => {
    const res = new FakeResponse();
    assert.equal(applyAccessControl(open, request('GET', '/health', { host: 'x:1' }), res), false);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-allow-methods'), 'POST, GET, OPTIONS, PUT, DELETE');
  });
  test('OPTIONS is answered directly', () => {
    const res = new FakeResponse();
    assert.equal(applyAccessControl(open, request('OPTIONS', '/v3/kv/put', { host: 'x' }), res), true);
    assert.equal(res.statusCode, 200);
  });
  test('unlisted Host on plain HTTP gets 421', () => {
    const res = new FakeResponse();
    const policy = { cors: ['*'], hostWhitelist: ['good'] };
    assert.equal(applyAccessControl(policy, request('GET', '/', { host: 'evil:2379' }), res), true);
    assert.equal(res.statusCode, 421);
    assert.match(res.body ?? '', /etcd --host-whitelist "evil"/);
    const ok = new FakeResponse();
    assert.equal(applyAccessControl(policy, request('GET', '/', { host: 'good:2379' }), ok), false);
  });
  test('specific CORS origins', () => {
    const policy = { cors: ['http://a:1'], hostWhitelist: [] };
    const yes = new FakeResponse();
    applyAccessControl(policy, request('GET', '/', { host: 'h', origin: 'http://a:1' }), yes);
    assert.equal(yes.headers.get('access-control-allow-origin'), 'http://a:1');
    const no = new FakeResponse();
    applyAccessControl(policy, request('GET', '/', { host: 'h', origin: 'http://b:1' }), no);
    assert.equal(no.headers.has('access-control-allow-origin'), false);
  });
});
