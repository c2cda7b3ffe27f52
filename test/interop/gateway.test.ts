// The v3 JSON gateway, etcd-ts beside the real etcd 3.4 (twins: same member
// and cluster ids): the same curl-like requests in the same order must get the
// same status, the headers that matter and the same JSON -- revisions
// included, since both stores see the same writes. Lease ids and tokens are
// each server's own: they are named per server (LEASE1, TOKEN1, ...) and
// requests use each server's own values. Server-side sizes and raft indexes
// are left out.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startTwins, type Twins } from './twins.js';

interface Answer {
  status: number;
  headers: Record<string, string>;
  trailers: Record<string, string>;
  body: string;
}

interface Call {
  path: string;
  /** The body; `{LEASE1}`, `{TOKEN1}`... stand for each server's own values. */
  body?: string;
  method?: string;
  headers?: Record<string, string>;
}

/** Each server's lease ids and tokens, named in order of appearance. */
class Names {
  private readonly byValue = new Map<string, string>();
  private readonly byName = new Map<string, string>();

  name(kind: 'LEASE' | 'TOKEN', value: string): string {
    let n = this.byValue.get(value);
    if (n === undefined) {
      n = `${kind}${[...this.byName.keys()].filter((k) => k.startsWith(kind)).length + 1}`;
      this.byValue.set(value, n);
      this.byName.set(n, value);
    }
    return n;
  }

  fill(text: string): string {
    return text.replace(/\{((?:LEASE|TOKEN|LEASEHEX)\d+)\}/g, (_, n: string) => {
      if (n.startsWith('LEASEHEX')) return BigInt(this.value(`LEASE${n.slice(8)}`)).toString(16);
      return this.value(n);
    });
  }

  private value(n: string): string {
    const v = this.byName.get(n);
    if (v === undefined) throw new Error(`${n} is not known yet`);
    return v;
  }
}

function send(endpoint: string, c: Call, names: Names): Promise<Answer> {
  const [host, port] = endpoint.split(':');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.headers ?? {})) headers[k] = names.fill(v);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port: Number(port), method: c.method ?? 'POST', path: c.path, headers, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => {
          const pick = (h: NodeJS.Dict<string | string[]>) =>
            Object.fromEntries(
              Object.entries(h).flatMap(([k, v]) => (typeof v === 'string' ? [[k.toLowerCase(), v]] : [])),
            );
          resolve({
            status: res.statusCode ?? 0,
            headers: pick(res.headers),
            trailers: pick(res.trailers),
            body: text,
          });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${c.path} timed out`)));
    req.end(c.body === undefined ? undefined : names.fill(c.body));
  });
}

/** Values that are each server's own, or that no two servers share (sizes, raft positions). */
function scrub(v: unknown, names: Names, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => scrub(x, names, key));
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = scrub(x, names, k);
    return out;
  }
  if (typeof v !== 'string') return v;
  if ((key === 'ID' || key === 'lease') && /^\d+$/.test(v) && v !== '0') return names.name('LEASE', v);
  if (key === 'token') return names.name('TOKEN', v);
  if (
    ['raft_term', 'dbSize', 'dbSizeInUse', 'raftIndex', 'raftAppliedIndex', 'raftTerm', 'version'].includes(
      key,
    )
  )
    return `<${key}>`;
  // Lock and election keys end in the session's lease id (hex).
  if (key === 'key') {
    const text = Buffer.from(v, 'base64').toString('latin1');
    const m = /^(.*\/)([0-9a-f]{1,16})$/.exec(text);
    if (m !== null) return `${m[1]}${names.name('LEASE', BigInt(`0x${m[2]}`).toString())}`;
  }
  return v;
}

const HEADERS = [
  'content-type',
  'grpc-metadata-content-type',
  'trailer',
  'transfer-encoding',
  'location',
  'x-content-type-options',
];

function normalize(a: Answer, names: Names): unknown {
  const headers = Object.fromEntries(
    HEADERS.filter((h) => a.headers[h] !== undefined).map((h) => [h, a.headers[h]]),
  );
  let body: unknown = a.body;
  if (a.headers['content-type'] === 'application/json' && a.body.trim() !== '') {
    // A stream is one JSON object per line; a stream's error has no newline after it.
    body = a.body
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => scrub(JSON.parse(l), names));
  }
  return { status: a.status, headers, trailers: a.trailers, body };
}

/** Cluster member lists name each twin's own client URL. */
function sameClientUrls(a: Answer): Answer {
  return {
    ...a,
    body: a.body.replace(/"clientURLs":\["http:\/\/127\.0\.0\.1:\d+"\]/g, '"clientURLs":["<url>"]'),
  };
}

/** Reads `lines` lines of a streaming answer, then hangs up. */
function streamLines(endpoint: string, c: Call, names: Names, lines: number): Promise<Answer> {
  const [host, port] = endpoint.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port: Number(port), method: 'POST', path: c.path, headers: c.headers ?? {}, agent: false },
      (res) => {
        let text = '';
        const finish = () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
          resolve({ status: res.statusCode ?? 0, headers, trailers: {}, body: text });
          req.destroy();
        };
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
          if (text.split('\n').length > lines) finish();
        });
        res.on('end', finish);
      },
    );
    req.on('error', (err) => {
      if (!req.destroyed) reject(err);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${c.path} timed out`)));
    req.end(c.body === undefined ? undefined : names.fill(c.body));
  });
}

describe('v3 JSON gateway: etcd-ts answers as etcd 3.4 does', { timeout: 120_000 }, () => {
  let twins: Twins;
  const realNames = new Names();
  const ourNames = new Names();

  const same = async (c: Call, adjust: (a: Answer) => Answer = (a) => a): Promise<Answer> => {
    const real = adjust(await send(twins.realEndpoint, c, realNames));
    const ours = adjust(await send(twins.oursEndpoint, c, ourNames));
    assert.deepEqual(
      normalize(ours, ourNames),
      normalize(real, realNames),
      `POST ${c.path} ${c.body ?? ''}\nours: ${ours.body}\nreal: ${real.body}`,
    );
    return ours;
  };
  const script = async (calls: Call[]): Promise<void> => {
    for (const c of calls) await same(c);
  };
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  before(async () => {
    twins = await startTwins();
  });
  after(async () => {
    await twins?.stop();
  });

  test('KV: put, range, txn, delete, compaction; 64-bit integers as strings, bytes as base64', async () => {
    await script([
      { path: '/v3/kv/put', body: `{"key":"${b64('foo')}","value":"${b64('bar')}"}` },
      { path: '/v3/kv/put', body: `{"key":"${b64('foo')}","value":"${b64('baz')}","prev_kv":true}` },
      { path: '/v3/kv/put', body: `{"key":"${b64('fop')}","value":"${b64('<&>')}"}` },
      { path: '/v3/kv/range', body: `{"key":"${b64('foo')}"}` },
      {
        path: '/v3/kv/range',
        body: `{"key":"${b64('fo')}","range_end":"${b64('fp')}","sort_order":"DESCEND"}`,
      },
      {
        path: '/v3/kv/range',
        body: `{"key":"${b64('fo')}","rangeEnd":"${b64('fp')}","limit":"1","keys_only":true}`,
      },
      { path: '/v3/kv/range', body: `{"key":"AA==","range_end":"AA==","count_only":true}` },
      { path: '/v3/kv/range', body: `{"key":"${b64('foo')}","revision":2}` },
      { path: '/v3beta/kv/range', body: `{"key":"${b64('foo')}","serializable":true}` },
      {
        path: '/v3/kv/txn',
        body: JSON.stringify({
          compare: [{ key: b64('foo'), target: 'VALUE', result: 'EQUAL', value: b64('baz') }],
          success: [
            { request_put: { key: b64('t1'), value: b64('v') } },
            { request_range: { key: b64('foo') } },
            { requestDeleteRange: { key: b64('fop') } },
          ],
          failure: [{ request_put: { key: b64('t2'), value: b64('v') } }],
        }),
      },
      {
        path: '/v3/kv/txn',
        body: JSON.stringify({
          compare: [{ key: b64('foo'), target: 'VERSION', result: 'GREATER', version: '10' }],
          failure: [{ request_range: { key: b64('t'), range_end: b64('u') } }],
        }),
      },
      {
        path: '/v3/kv/txn',
        body: `{"compare":[{"key":"${b64('foo')}","target":"CREATE","create_revision":"0"}]}`,
      },
      { path: '/v3/kv/deleterange', body: `{"key":"${b64('t1')}","prev_kv":true}` },
      { path: '/v3/kv/deleterange', body: `{"key":"${b64('nothing')}"}` },
      { path: '/v3/kv/compaction', body: '{"revision":"3","physical":true}' },
      { path: '/v3/kv/range', body: `{"key":"${b64('foo')}","revision":"2"}` },
      { path: '/v3/kv/compaction', body: '{"revision":"1000"}' },
      { path: '/v3/kv/range', body: `{"key":"${b64('foo')}","revision":"1000"}` },
      { path: '/v3/kv/put', body: '{}' },
      { path: '/v3/kv/put', body: `{"key":"${b64('x')}","lease":"12345"}` },
      { path: '/v3/kv/put', body: `{"key":"${b64('x')}","ignore_value":true}` },
      {
        path: '/v3/kv/txn',
        body: `{"success":[{"request_put":{"key":"${b64('d')}"}},{"request_put":{"key":"${b64('d')}"}}]}`,
      },
    ]);
  });

  test('bodies that are not requests get Go’s words and grpc-gateway’s codes', async () => {
    const bad = [
      '',
      'null',
      '   ',
      '{"key":"Zm9v"} trailing junk',
      '{"key":"Zm9v"',
      '{"key" "Zm9v"}',
      '{"key":"Zm9v",}',
      '{,}',
      '[1]',
      '"x"',
      '12',
      'true',
      'nul',
      'tru',
      '{"key":"Zm9v\\x"}',
      '{"key":"\\u12G4"}',
      '{"key":"a\tb"}',
      '{"key":-}',
      '{"limit":01}',
      '{"limit":1.}',
      '{"limit":1e}',
      '{"key":123}',
      '{"key":"Zm9"}',
      '{"key":"Zm9v="}',
      '{"key":"Z==="}',
      '{"key":"Zm9v\\n"}',
      '{"key":"Zm8=Zm8="}',
      '{"key":"Zg=x"}',
      '{"key":[102,111,111]}',
      '{"key":[256]}',
      '{"key":{}}',
      '{"key":true}',
      '{"key":null}',
      '{"key":"Zm9v","limit":1.5}',
      '{"key":"Zm9v","limit":"x"}',
      '{"key":"Zm9v","limit":"12 3"}',
      '{"key":"Zm9v","limit":""}',
      '{"key":"Zm9v","limit":"null"}',
      '{"key":"Zm9v","limit":"true"}',
      '{"key":"Zm9v","limit":"1e3"}',
      '{"key":"Zm9v","limit":99999999999999999999}',
      '{"key":"Zm9v","limit":"-5"}',
      '{"key":"Zm9v","limit":true}',
      '{"key":"Zm9v","limit":[1]}',
      '{"key":"Zm9v","serializable":"true"}',
      '{"key":"Zm9v","serializable":1}',
      '{"key":"Zm9v","sort_order":"NOPE"}',
      '{"key":"Zm9v","sortOrder":"DESCEND","sort_order":"NOPE"}',
      '{"key":"Zm9v","sort_order":"1"}',
      '{"key":"Zm9v","sort_order":1.5}',
      '{"key":"Zm9v","sort_order":7}',
      '{"key":"Zm9v","sort_order":true}',
      '{"key":"Zm9v","unknown_field":{"deep":[1,2]}}',
      '{"key":"Zm9v","\\u006bey":"YmFy"}',
      '{"key":"Zm9v","key":"YmFy"}',
      '{"key":"Zm9v","limit":"-"}',
      '{"key":"Zm9v","limit":"1."}',
      '{"key":"Zm9v","limit":"1e+"}',
      '{"key":"Zm9v","limit":"tr"}',
      '{"key":"Zm9v","limit":"\\"5\\""}',
      '{"key":"Zm9v","limit":" 5 "}',
      '{"key":"Zm9v","limit":"[1"}',
      '{"key":"Zm9v","sort_order":"DESC\\u0045ND"}',
      '{"key":"Zm9v","sort_order":"été"}',
      'é',
      '\u0001',
      '{"key":"Zm9v"}\u0001',
      '{"a":1,}',
      '[1 2]',
      "{'a':1}",
      '{"a":"\\q"}',
      '{"a":"\\u00"}',
      '{"a":tx}',
      '{"a":fals}',
      '{"a":nulL}',
      '{"a":0.e}',
      '{"a":1E+x}',
      '{"key":"Zm9v=","range_end":"x"}',
      '{"key":"Z==="}',
      '{"key":"Zg=="}',
      '{"key":"Zh=="}',
      '{"key":"Zg="}',
      '{"key":"Zm9vYmFy!"}',
      '{"key":"===="}',
      '{"key":"Zm\\r\\n9v"}',
      '{"key":"Zm9v\\u2028"}',
    ];
    for (const body of bad) await same({ path: '/v3/kv/range', body });
    await script([
      { path: '/v3/kv/txn', body: '{"compare":{}}' },
      { path: '/v3/kv/txn', body: '{"compare":[1]}' },
      { path: '/v3/kv/txn', body: '{"success":[{"request_put":"x"}]}' },
      { path: '/v3/kv/txn', body: '{"compare":[{"target":"NOPE"}]}' },
      { path: '/v3/cluster/member/add', body: '{"peerURLs":"http://x"}' },
      { path: '/v3/cluster/member/add', body: '{"peerURLs":[1]}' },
      { path: '/v3/auth/user/add', body: '{"name":5}' },
      { path: '/v3/lease/grant', body: '{"TTL":"abc"}' },
      { path: '/v3/lease/grant', body: '{"ttl":5}' },
    ]);
  });

  test('paths and methods as grpc-gateway and Go’s ServeMux route them', async () => {
    await script([
      { path: '/v3/kv/range', method: 'GET' },
      { path: '/v3/kv/range', method: 'PUT', body: '{}' },
      { path: '/v3/kv/nope', body: '{}' },
      { path: '/v3/kv/range:foo', body: '{}' },
      { path: '/v3/kv/range/', body: '{}' },
      { path: '/v3/', body: '{}' },
      { path: '/v3', body: '{}' },
      { path: '/v3?x=1', body: '{}' },
      { path: '/v3//kv/range', body: '{}' },
      { path: '/v3/kv/../kv/range', body: '{}' },
      { path: '/v3alpha/kv/range', body: '{}' },
      { path: '/v3beta', body: '{}' },
      { path: '/v3/auth/status', body: '{}' },
      { path: '/v3/kv/%72ange', body: `{"key":"${b64('foo')}"}` },
    ]);
  });

  test('leases, with their /v3/kv/lease/... aliases and the keep-alive stream', async () => {
    await script([
      { path: '/v3/lease/grant', body: '{"TTL":"60"}' },
      { path: '/v3/lease/grant', body: '{"TTL":60,"ID":"0"}' },
      { path: '/v3/kv/put', body: `{"key":"${b64('leased')}","value":"${b64('v')}","lease":"{LEASE1}"}` },
      { path: '/v3/lease/timetolive', body: '{"ID":"{LEASE1}","keys":true}' },
      { path: '/v3/kv/lease/timetolive', body: '{"ID":"{LEASE2}"}' },
      { path: '/v3/lease/timetolive', body: '{"ID":"1"}' },
      { path: '/v3/lease/keepalive', body: '{"ID":"{LEASE1}"}' },
      { path: '/v3/lease/keepalive', body: '{"ID":"{LEASE1}"} {"ID":"1"} {"ID":"{LEASE2}"}' },
      { path: '/v3/lease/keepalive', body: '{"ID":"{LEASE1}"} {"ID":"x"} {"ID":"{LEASE2}"}' },
      { path: '/v3/lease/keepalive', body: '' },
      { path: '/v3/lease/keepalive', body: '{"ID":"abc"}' },
      { path: '/v3/lease/keepalive', body: '[1]' },
      { path: '/v3/kv/lease/revoke', body: '{"ID":"{LEASE2}"}' },
      { path: '/v3/lease/revoke', body: '{"ID":"{LEASE2}"}' },
      { path: '/v3/lease/revoke', body: '{"ID":"{LEASE1}"}' },
      { path: '/v3/kv/range', body: `{"key":"${b64('leased')}"}` },
    ]);
    // Only leases granted here exist: both lists hold the same names.
    await same({ path: '/v3/lease/leases', body: '{}' });
    await same({ path: '/v3/kv/lease/leases', body: '{}' });
  });

  test('cluster and maintenance', async () => {
    await same({ path: '/v3/cluster/member/list', body: '{}' }, sameClientUrls);
    await script([
      { path: '/v3/maintenance/status', body: '{}' },
      { path: '/v3/cluster/member/remove', body: '{"ID":"1"}' },
      { path: '/v3/cluster/member/update', body: '{"ID":"1","peerURLs":["http://127.0.0.1:1"]}' },
      { path: '/v3/cluster/member/promote', body: '{"ID":"1"}' },
      { path: '/v3/maintenance/transfer-leadership', body: '{"targetID":"1"}' },
    ]);
  });

  test('alarms (but for the header: etcd 3.4 sends none with an Alarm answer, etcd-ts does)', async () => {
    const noHeader = (a: Answer): Answer => ({ ...a, body: a.body.replace(/^\{"header":\{[^}]*\},?/, '{') });
    await same({ path: '/v3/maintenance/alarm', body: '{"action":"GET","alarm":"NOSPACE"}' }, noHeader);
    await same({ path: '/v3/maintenance/alarm', body: '{"action":"NOPE"}' }, noHeader);
  });

  test('lock and election', async () => {
    await script([
      { path: '/v3/lease/grant', body: '{"TTL":"60"}' },
      { path: '/v3/lock/lock', body: `{"name":"${b64('mylock')}","lease":"{LEASE3}"}` },
      { path: '/v3/lock/unlock', body: `{"key":"${b64('mylock/')}{LEASEHEX3}"}` },
      {
        path: '/v3/election/campaign',
        body: `{"name":"${b64('el')}","value":"${b64('v1')}","lease":"{LEASE3}"}`,
      },
      { path: '/v3/election/leader', body: `{"name":"${b64('el')}"}` },
      { path: '/v3/election/leader', body: `{"name":"${b64('none')}"}` },
      { path: '/v3/election/observe', body: '{"name":5}' },
      { path: '/v3/lock/lock', body: '{"name":"YQ"}' },
    ]);
    const observe = { path: '/v3/election/observe', body: `{"name":"${b64('el')}"}` };
    const [real, ours] = await Promise.all([
      streamLines(twins.realEndpoint, observe, realNames, 1),
      streamLines(twins.oursEndpoint, observe, ourNames, 1),
    ]);
    assert.deepEqual(normalize(ours, ourNames), normalize(real, realNames));
  });

  test('auth: the token travels in the Authorization header (or Grpc-Metadata-Token)', async () => {
    await script([
      { path: '/v3/auth/user/add', body: '{"name":"root","password":"pw"}' },
      { path: '/v3/auth/role/add', body: '{"name":"root"}' },
      { path: '/v3/auth/user/grant', body: '{"user":"root","role":"root"}' },
      { path: '/v3/auth/user/add', body: '{"name":"u1","password":"p1"}' },
      { path: '/v3/auth/role/add', body: '{"name":"r1"}' },
      {
        path: '/v3/auth/role/grant',
        body: `{"name":"r1","perm":{"permType":"READWRITE","key":"${b64('a')}","range_end":"${b64('b')}"}}`,
      },
      { path: '/v3/auth/user/grant', body: '{"user":"u1","role":"r1"}' },
      { path: '/v3/auth/role/get', body: '{"role":"r1"}' },
      { path: '/v3/auth/user/get', body: '{"name":"u1"}' },
      { path: '/v3/auth/user/list', body: '{}' },
      { path: '/v3/auth/role/list', body: '{}' },
      { path: '/v3/auth/enable', body: '{}' },
      { path: '/v3/auth/authenticate', body: '{"name":"root","password":"bad"}' },
      { path: '/v3/auth/authenticate', body: '{"name":"root","password":"pw"}' },
      { path: '/v3/auth/authenticate', body: '{"name":"u1","password":"p1"}' },
      { path: '/v3/kv/range', body: `{"key":"${b64('foo')}"}` },
      { path: '/v3/kv/range', body: `{"key":"${b64('foo')}"}`, headers: { Authorization: '{TOKEN1}' } },
      {
        path: '/v3/kv/range',
        body: `{"key":"${b64('foo')}"}`,
        headers: { 'Grpc-Metadata-Token': '{TOKEN1}' },
      },
      {
        path: '/v3/kv/range',
        body: `{"key":"${b64('foo')}"}`,
        headers: { Authorization: 'Bearer {TOKEN1}' },
      },
      { path: '/v3/kv/range', body: `{"key":"${b64('foo')}"}`, headers: { Authorization: 'nope' } },
      { path: '/v3/kv/range', body: `{"key":"${b64('foo')}"}`, headers: { Authorization: '{TOKEN2}' } },
      {
        path: '/v3/kv/put',
        body: `{"key":"${b64('a1')}","value":"${b64('x')}"}`,
        headers: { Authorization: '{TOKEN2}' },
      },
      { path: '/v3/maintenance/defragment', body: '{}' },
      { path: '/v3/maintenance/snapshot', body: '{}' },
      { path: '/v3/maintenance/snapshot', body: '{}', headers: { Authorization: 'nope' } },
      { path: '/v3/auth/user/list', body: '{}', headers: { Authorization: '{TOKEN2}' } },
      { path: '/v3/auth/disable', body: '{}', headers: { Authorization: '{TOKEN1}' } },
    ]);
  });

  test('watch: a stream of {"result": ...} lines', async () => {
    const watch = {
      path: '/v3/watch',
      body: `{"create_request":{"key":"${b64('w')}","range_end":"${b64('x')}","prev_kv":true}}`,
    };
    const history = {
      path: '/v3/watch',
      body:
        `{"create_request":{"key":"${b64('foo')}","start_revision":"2"}}\n` +
        `{"create_request":{"key":"${b64('w')}","range_end":"${b64('x')}","filters":["NOPUT"],"watch_id":"7"}}\n` +
        '{"progress_request":{}}\n{"cancel_request":{"watch_id":"7"}}',
    };
    const run = async (endpoint: string, names: Names): Promise<Answer> => {
      const live = streamLines(endpoint, watch, names, 4);
      // Let the watch be created before the writes it must see.
      await new Promise((r) => setTimeout(r, 300));
      for (const value of ['1', '2']) {
        await send(
          endpoint,
          { path: '/v3/kv/put', body: `{"key":"${b64('w1')}","value":"${b64(value)}"}` },
          names,
        );
      }
      await send(endpoint, { path: '/v3/kv/deleterange', body: `{"key":"${b64('w1')}"}` }, names);
      return live;
    };
    // One server after the other: both see the same writes at the same revisions.
    const real = await run(twins.realEndpoint, realNames);
    const ours = await run(twins.oursEndpoint, ourNames);
    assert.deepEqual(normalize(ours, ourNames), normalize(real, realNames));
    const [realHistory, ourHistory] = await Promise.all([
      streamLines(twins.realEndpoint, history, realNames, 5),
      streamLines(twins.oursEndpoint, history, ourNames, 5),
    ]);
    // Answers of different watchers may interleave differently (etcd sends the
    // compaction's cancel from its sync loop): compare them as a set.
    const sorted = (a: Answer, names: Names) => {
      const n = normalize(a, names) as { body: unknown[] };
      return { ...n, body: n.body.map((x) => JSON.stringify(x)).sort() };
    };
    assert.deepEqual(sorted(ourHistory, ourNames), sorted(realHistory, realNames));
    await script([
      { path: '/v3/watch', body: 'xx' },
      { path: '/v3/watch', body: '{"create_request":{"key":1}}' },
    ]);
  });
  test('Grpc-Timeout: a deadline for the call, before or after the stream began', async () => {
    const timeout = (v: string) => ({ 'Grpc-Timeout': v });
    await script([
      { path: '/v3/kv/range', body: `{"key":"${b64('foo')}"}`, headers: timeout('1x') },
      { path: '/v3/kv/range', body: `{"key":"${b64('foo')}"}`, headers: timeout('S') },
      { path: '/v3/kv/range', body: `{"key":"${b64('foo')}"}`, headers: timeout('5S') },
    ]);
    // A stream's deadline reaches the client as DEADLINE_EXCEEDED, or (a race
    // in etcd's grpc-go) as UNKNOWN, as a plain error answer or in the stream:
    // etcd itself varies, so only the lines and the message are compared.
    const shape = (a: Answer, names: Names) =>
      (normalize(a, names) as { body: { error?: string | { message: string } }[] }).body.map((line) =>
        line.error === undefined ? line : typeof line.error === 'string' ? line.error : line.error.message,
      );
    for (const c of [
      { path: '/v3/watch', body: `{"create_request":{"key":"${b64('foo')}"}}`, headers: timeout('300m') },
      { path: '/v3/election/observe', body: `{"name":"${b64('nobody')}"}`, headers: timeout('300m') },
    ]) {
      const real = await send(twins.realEndpoint, c, realNames);
      const ours = await send(twins.oursEndpoint, c, ourNames);
      assert.deepEqual(shape(ours, ourNames), shape(real, realNames), c.path);
    }
  });

  test('snapshot: the database as base64 blobs in a stream', async () => {
    const answer = await send(twins.oursEndpoint, { path: '/v3/maintenance/snapshot', body: '{}' }, ourNames);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'application/json');
    const lines = answer.body.split('\n').filter((l) => l !== '');
    const parts = lines.map((l) => JSON.parse(l) as { result: { blob: string; remaining_bytes?: string } });
    const db = Buffer.concat(parts.map((p) => Buffer.from(p.result.blob, 'base64')));
    // etcd's snapshot: a bbolt file (magic 0xED0CDAED in the first page) with a sha256 trailer.
    assert.equal(db.readUInt32LE(16), 0xed0cdaed);
    assert.equal(parts[parts.length - 1]?.result.remaining_bytes, undefined);
    assert.ok(db.length > 4096);
  });
});
