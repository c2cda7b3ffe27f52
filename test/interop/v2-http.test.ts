// The v2 API over HTTP, etcd-ts beside the real etcd 3.4 (both --enable-v2,
// same member and cluster ids): the same curl-like requests in the same
// order must get the same status, headers and JSON bodies -- store indexes
// included, since both stores count the same writes. Only times (expiration,
// ttl, stats timestamps) and raft indexes (the TTL sweep adds entries at its
// own pace) are left out of the comparison.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startTwins, type Twins } from './twins.js';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface Call {
  method: string;
  path: string;
  /** A url-encoded form body (curl -d). */
  form?: Record<string, string>;
  body?: string;
  contentType?: string;
}

function request(endpoint: string, c: Call): Promise<Answer> {
  const [host, port] = endpoint.split(':');
  let body = c.body;
  let contentType = c.contentType;
  if (c.form !== undefined) {
    body = new URLSearchParams(c.form).toString().replace(/\+/g, '%20');
    contentType ??= 'application/x-www-form-urlencoded';
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host,
        port: Number(port),
        method: c.method,
        path: c.path,
        headers: contentType === undefined ? {} : { 'Content-Type': contentType },
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
          resolve({ status: res.statusCode ?? 0, headers, body: text });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${c.method} ${c.path} timed out`)));
    req.end(body);
  });
}

/** Times and raft positions differ between any two servers; everything else must not. */
function normalize(a: Answer): unknown {
  const pick = [
    'content-type',
    'x-etcd-index',
    'x-etcd-cluster-id',
    'allow',
    'location',
    'transfer-encoding',
  ];
  const headers = Object.fromEntries(
    pick.filter((h) => a.headers[h] !== undefined).map((h) => [h, a.headers[h]]),
  );
  let body: unknown = a.body;
  if (a.headers['content-type'] === 'application/json' && a.body.trim() !== '') {
    body = scrub(JSON.parse(a.body));
  }
  return { status: a.status, headers, body, newline: a.body.endsWith('\n') };
}

function scrub(v: unknown): unknown {
  if (Array.isArray(v)) {
    const items = v.map(scrub);
    // Go lists a directory in map order: compare listings as sets.
    if (items.every((x) => typeof x === 'object' && x !== null && 'key' in x)) {
      items.sort((x, y) =>
        String((x as { key: string }).key).localeCompare(String((y as { key: string }).key)),
      );
    }
    return items;
  }
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === 'expiration')
      out[k] = typeof x === 'string' && /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(x) ? '<time>' : x;
    else if (k === 'ttl') out[k] = typeof x === 'number' && x > 0 ? '<ttl>' : x;
    // Each twin listens on its own client URL.
    else if (k === 'clientURLs') out[k] = Array.isArray(x) ? x.map(() => '<client url>') : x;
    else out[k] = scrub(x);
  }
  return out;
}

describe('v2 HTTP API: etcd-ts answers as etcd 3.4 does', { timeout: 90_000 }, () => {
  let twins: Twins;
  const same = async (c: Call): Promise<Answer> => {
    const [real, ours] = await Promise.all([request(twins.realEndpoint, c), request(twins.oursEndpoint, c)]);
    assert.deepEqual(
      normalize(ours),
      normalize(real),
      `${c.method} ${c.path} ${JSON.stringify(c.form ?? c.body ?? '')}`,
    );
    return ours;
  };
  /** Sequential: both stores must see the writes in the same order. */
  const script = async (calls: Call[]): Promise<void> => {
    for (const c of calls) await same(c);
  };

  before(async () => {
    twins = await startTwins(['--enable-v2']);
  });
  after(async () => {
    await twins?.stop();
  });

  test('set, get, compare-and-swap, compare-and-delete, errors', async () => {
    await script([
      { method: 'GET', path: '/v2/keys/message' },
      { method: 'PUT', path: '/v2/keys/message', form: { value: 'Hello world' } },
      { method: 'GET', path: '/v2/keys/message' },
      { method: 'GET', path: '/v2/keys/message?quorum=true' },
      { method: 'PUT', path: '/v2/keys/message?prevExist=false', form: { value: 'x' } },
      { method: 'PUT', path: '/v2/keys/message?prevValue=Hello%20world', form: { value: 'y' } },
      { method: 'PUT', path: '/v2/keys/message?prevValue=nope', form: { value: 'z' } },
      { method: 'PUT', path: '/v2/keys/message?prevIndex=4', form: { value: 'z' } },
      { method: 'PUT', path: '/v2/keys/message?prevIndex=4&prevValue=no', form: { value: 'z' } },
      { method: 'PUT', path: '/v2/keys/message', form: { value: 'z', prevIndex: '5' } },
      {
        method: 'PUT',
        path: '/v2/keys/message?value=query',
        form: { value: 'body wins', prevExist: 'true' },
      },
      { method: 'DELETE', path: '/v2/keys/message?prevValue=z' },
      { method: 'DELETE', path: '/v2/keys/message?prevValue=body%20wins' },
      { method: 'DELETE', path: '/v2/keys/message' },
      { method: 'PUT', path: '/v2/keys/html', form: { value: '<a href="x">&é</a>' } },
      { method: 'PUT', path: '/v2/keys/novalue?noValueOnSuccess=true', form: { value: 'v' } },
      { method: 'PUT', path: '/v2/keys/plain', body: 'value=ignored', contentType: 'text/plain' },
      { method: 'GET', path: '/v2/keys/plain' },
      { method: 'HEAD', path: '/v2/keys/html' },
      { method: 'PATCH', path: '/v2/keys/html' },
      { method: 'PUT', path: '/v2/keys/', form: { value: 'root' } },
      { method: 'DELETE', path: '/v2/keys/?recursive=true' },
      { method: 'GET', path: '/v2/keys/html?recursive=maybe' },
      { method: 'PUT', path: '/v2/keys/html?ttl=abc', form: { value: '1' } },
      { method: 'PUT', path: '/v2/keys/html?prevIndex=-1', form: { value: '1' } },
      { method: 'GET', path: '/v2/keys/html?waitIndex=x' },
      { method: 'PUT', path: '/v2/keys/html?prevValue=', form: { value: '1' } },
      { method: 'PUT', path: '/v2/keys/html?prevExist=maybe', form: { value: '1' } },
      { method: 'PUT', path: '/v2/keys/html?wait=true', form: { value: '1' } },
      { method: 'PUT', path: '/v2/keys/html?a=%zz', form: { value: '1' } },
      { method: 'PUT', path: '/v2/keys/html/below', form: { value: '1' } },
      { method: 'GET', path: '/v2/keys/html/below' },
    ]);
  });

  test('directories, in-order keys, hidden keys, recursive listings', async () => {
    await script([
      { method: 'PUT', path: '/v2/keys/dir', form: { dir: 'true' } },
      { method: 'PUT', path: '/v2/keys/dir', form: { dir: 'true' } },
      { method: 'PUT', path: '/v2/keys/dir', form: { value: 'file now?' } },
      { method: 'PUT', path: '/v2/keys/dir/a/b/c', form: { value: 'deep' } },
      { method: 'PUT', path: '/v2/keys/dir/_hidden', form: { value: 'h' } },
      { method: 'GET', path: '/v2/keys/dir' },
      { method: 'GET', path: '/v2/keys/dir?recursive=true&sorted=true' },
      { method: 'GET', path: '/v2/keys/dir/_hidden' },
      { method: 'POST', path: '/v2/keys/queue', form: { value: 'job1' } },
      { method: 'POST', path: '/v2/keys/queue', form: { value: 'job2' } },
      { method: 'GET', path: '/v2/keys/queue?sorted=true' },
      { method: 'DELETE', path: '/v2/keys/dir' },
      { method: 'DELETE', path: '/v2/keys/dir?dir=true' },
      { method: 'DELETE', path: '/v2/keys/dir?recursive=true' },
      { method: 'PUT', path: '/v2/keys/empty?dir=true' },
      { method: 'DELETE', path: '/v2/keys/empty?dir=true' },
      { method: 'GET', path: '/v2/keys/?recursive=true&sorted=true' },
    ]);
  });

  test('TTLs: set, refresh, update, and expiry through the leader sweep', async () => {
    await script([
      { method: 'PUT', path: '/v2/keys/ttl', form: { value: 't', ttl: '100' } },
      { method: 'PUT', path: '/v2/keys/ttl?refresh=true&prevExist=true', form: { ttl: '200' } },
      { method: 'PUT', path: '/v2/keys/ttl?refresh=true', form: { ttl: '200', value: 'v' } },
      { method: 'PUT', path: '/v2/keys/ttl?refresh=true', form: {} },
      { method: 'PUT', path: '/v2/keys/ttl?prevExist=true', form: { value: 'u', ttl: '' } },
      { method: 'GET', path: '/v2/keys/ttl' },
      { method: 'PUT', path: '/v2/keys/short', form: { value: 's', ttl: '1' } },
    ]);
    const gone = async (endpoint: string): Promise<Answer> => {
      for (let i = 0; i < 60; i++) {
        const a = await request(endpoint, { method: 'GET', path: '/v2/keys/short' });
        if (a.status === 404) return a;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`/short never expired on ${endpoint}`);
    };
    const [real, ours] = await Promise.all([gone(twins.realEndpoint), gone(twins.oursEndpoint)]);
    assert.deepEqual(normalize(ours), normalize(real));
  });

  test('watches: from the history, long polls, streams', async () => {
    await same({ method: 'PUT', path: '/v2/keys/w', form: { value: '1' } });
    const first = await same({ method: 'GET', path: '/v2/keys/w?wait=true&waitIndex=1' });
    assert.match(first.body, /"action":"set"/);
    await same({ method: 'GET', path: '/v2/keys/w?wait=true&waitIndex=1&recursive=true' });
    // Long polls, answered by the next write.
    const call = { method: 'GET', path: '/v2/keys/w?wait=true' };
    const stream = { method: 'GET', path: '/v2/keys/wdir?wait=true&recursive=true' };
    const pending = Promise.all([request(twins.realEndpoint, call), request(twins.oursEndpoint, call)]);
    const pendingDir = Promise.all([
      request(twins.realEndpoint, stream),
      request(twins.oursEndpoint, stream),
    ]);
    await new Promise((r) => setTimeout(r, 300));
    await same({ method: 'PUT', path: '/v2/keys/wdir/x', form: { value: 'dir' } });
    await same({ method: 'PUT', path: '/v2/keys/w', form: { value: '2' } });
    const [real, ours] = await pending;
    assert.deepEqual(normalize(ours), normalize(real));
    assert.match(ours.body, /"value":"2"/);
    const [realDir, oursDir] = await pendingDir;
    assert.deepEqual(normalize(oursDir), normalize(realDir));
    await same({ method: 'GET', path: '/v2/keys/w?wait=true&waitIndex=1' });
    await same({ method: 'POST', path: '/v2/keys/w?wait=true' });
  });

  test('routing, members, machines, stats', async () => {
    const real = await request(twins.realEndpoint, { method: 'GET', path: '/v2/members' });
    const memberId = (JSON.parse(real.body) as { members: { id: string; peerURLs: string[] }[] }).members[0]!;
    await script([
      { method: 'GET', path: '/v2/keys//w' },
      { method: 'GET', path: '/v2/keys/a/../w' },
      { method: 'GET', path: '/v2/keysx' },
      { method: 'GET', path: '/v2/nothing' },
      { method: 'GET', path: '/v2/stats' },
      { method: 'GET', path: '/v2/members' },
      { method: 'GET', path: '/v2/members/' },
      { method: 'GET', path: '/v2/members/leader' },
      { method: 'GET', path: '/v2/members/zz' },
      { method: 'PATCH', path: '/v2/members' },
      { method: 'DELETE', path: '/v2/members' },
      { method: 'DELETE', path: '/v2/members/zz' },
      { method: 'DELETE', path: '/v2/members/1234' },
      {
        method: 'POST',
        path: '/v2/members',
        body: '{"peerURLs":["http://127.0.0.1:1"]}',
        contentType: 'text/plain',
      },
      { method: 'POST', path: '/v2/members', body: '{"peerURLs":["foo"]}', contentType: 'application/json' },
      { method: 'POST', path: '/v2/members', body: '{"peerURLs":[]}', contentType: 'application/json' },
      {
        method: 'POST',
        path: '/v2/members',
        body: '{"peerURLs":["http://h/p"]}',
        contentType: 'application/json',
      },
      {
        method: 'POST',
        path: '/v2/members',
        body: '{"peerURLs":["http://h"]}',
        contentType: 'application/json',
      },
      {
        method: 'POST',
        path: '/v2/members',
        body: '{"peerURLs":',
        contentType: 'application/json; charset=utf-8',
      },
      {
        method: 'PUT',
        path: `/v2/members/${memberId.id}`,
        body: JSON.stringify({ peerURLs: memberId.peerURLs }),
        contentType: 'application/json',
      },
      {
        method: 'PUT',
        path: '/v2/members/1234',
        body: '{"peerURLs":["http://127.0.0.1:1"]}',
        contentType: 'application/json',
      },
      { method: 'GET', path: '/v2/keys/w' },
      { method: 'POST', path: '/v2/stats/self' },
    ]);
    // Machines: each server lists its own client URL.
    for (const endpoint of [twins.realEndpoint, twins.oursEndpoint]) {
      const m = await request(endpoint, { method: 'GET', path: '/v2/machines' });
      assert.equal(m.body, `http://${endpoint}`);
      assert.equal(m.headers['content-type'], 'text/plain; charset=utf-8');
    }
    // Stats: the same fields (values are per-process).
    for (const which of ['self', 'leader', 'store']) {
      const [r, o] = await Promise.all([
        request(twins.realEndpoint, { method: 'GET', path: `/v2/stats/${which}` }),
        request(twins.oursEndpoint, { method: 'GET', path: `/v2/stats/${which}` }),
      ]);
      assert.equal(o.status, r.status);
      const keys = (a: Answer) => Object.keys(JSON.parse(a.body) as object);
      assert.deepEqual(keys(o), keys(r), which);
    }
  });
});
