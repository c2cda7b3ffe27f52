// The v3 JSON gateway driven by curl, as the tutorials drive it: one request per path the
// gateway maps (KV, watch, leases, auth, cluster, maintenance, lock, election), sent to
// etcd-ts and to the real etcd 3.4 started with the same flags. Both must answer with the
// same HTTP status and the same JSON shape; values that are each server's own (ids, leases,
// sizes, raft positions) are compared by kind, the rest exactly. (gateway.test.ts compares
// whole bodies byte for byte over Node's HTTP client; this file is about curl itself.)
// GATEWAY_CURL_VERBOSE=1 prints every path with its status and the start of the answer.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { startTwins, type Twins } from './twins.js';

const CURL = '/usr/bin/curl';

interface CurlAnswer {
  status: number;
  body: string;
}

/** POSTs `body` with curl; `stream` reads a streaming answer for that many milliseconds. */
function curl(endpoint: string, path: string, body: string, streamMs?: number): Promise<CurlAnswer> {
  const args = ['-s', '-X', 'POST', '-w', '\n%{http_code}', '-d', body, `http://${endpoint}${path}`];
  if (streamMs !== undefined) args.unshift('-N', '--max-time', String(streamMs / 1000));
  return new Promise((resolve, reject) => {
    execFile(CURL, args, { timeout: 20_000 }, (err, stdout) => {
      // curl exits 28 when --max-time ends a stream: that is the expected end of a watch.
      if (err !== null && !(streamMs !== undefined && err.code === 28)) {
        reject(new Error(`curl ${path}: ${err.message}`));
        return;
      }
      const cut = stdout.lastIndexOf('\n');
      resolve({ status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) });
    });
  });
}

/** The JSON shape with per-server values blurred: ids and sizes become their kind. */
function shape(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => shape(x, key));
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = shape(x, k);
    return out;
  }
  const own =
    /^(cluster_id|member_id|ID|id|leader|raftIndex|raft_index|raftAppliedIndex|dbSize|dbSizeInUse|lease|token|hash|version|clientURLs|peerURLs|name)$/;
  if (own.test(key)) return `<${typeof v}>`;
  // Lock and election keys end with each server's own lease id in hex, without leading zeros
  // (%x): 13 to 16 digits, since an id carries the member's 16 id bits in its top bits, which
  // may start with zeros (15 digits for a member id like ...0e2a).
  if (key === 'key' && typeof v === 'string') {
    const text = Buffer.from(v, 'base64').toString('latin1');
    if (/\/[0-9a-f]{13,16}$/.test(text)) return '<key/lease>';
  }
  return v;
}

/** One answer, or a stream's answers one per line, as shapes. */
function shapes(a: CurlAnswer): unknown {
  const lines = a.body.split('\n').filter((l) => l.trim() !== '');
  const parse = (l: string): unknown => {
    try {
      return shape(JSON.parse(l));
    } catch {
      return l; // a plain-text answer (e.g. Go's "404 page not found") compares as text
    }
  };
  return { status: a.status, body: lines.map(parse) };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('the JSON gateway driven by curl: etcd-ts answers as etcd 3.4 does', { timeout: 180_000 }, () => {
  let twins: Twins | undefined;

  before(async () => {
    twins = await startTwins();
  });

  after(async () => {
    await twins?.stop();
  });

  /** Sends the same request to both; returns both parsed answers after comparing their shapes. */
  const both = async (
    path: string,
    body: string | ((server: 'ours' | 'real') => string),
    streamMs?: number,
  ) => {
    const t = twins;
    if (t === undefined) throw new Error('servers not started');
    const text = (s: 'ours' | 'real') => (typeof body === 'string' ? body : body(s));
    const [ours, real] = await Promise.all([
      curl(t.oursEndpoint, path, text('ours'), streamMs),
      curl(t.realEndpoint, path, text('real'), streamMs),
    ]);
    assert.deepEqual(shapes(ours), shapes(real), `${path}\nours: ${ours.body}\nreal: ${real.body}`);
    if (process.env.GATEWAY_CURL_VERBOSE) console.error(path, ours.status, ours.body.slice(0, 100));
    return { ours, real };
  };

  test('every path family: kv, watch, lease, auth, cluster, maintenance, lock, election', async () => {
    const key = b64('/curl/k');
    await both('/v3/kv/put', `{"key":"${key}","value":"${b64('v1')}"}`);
    const got = await both('/v3/kv/range', `{"key":"${key}"}`);
    assert.equal(JSON.parse(got.ours.body).kvs[0].value, b64('v1'));
    await both(
      '/v3beta/kv/range',
      `{"key":"${b64('/curl/')}","range_end":"${b64('/curl0')}","count_only":true}`,
    );
    await both(
      '/v3/kv/txn',
      `{"compare":[{"key":"${key}","result":"EQUAL","target":"VALUE","value":"${b64('v1')}"}],` +
        `"success":[{"request_put":{"key":"${key}","value":"${b64('v2')}"}}]}`,
    );
    await both('/v3/kv/deleterange', `{"key":"${key}","prev_kv":true}`);
    await both('/v3/kv/compaction', '{"revision":"2"}');
    await both('/v3/kv/range', `{"key":"${key}","revision":"1"}`); // compacted: an error body

    // A watch from revision 1 streams the history; curl ends it after a second.
    await both('/v3/watch', `{"create_request":{"key":"${key}","start_revision":"3"}}`, 1000);

    // Leases: each server's own id goes back into its own requests.
    const granted = await both('/v3/lease/grant', '{"TTL":"60"}');
    const ids = { ours: JSON.parse(granted.ours.body).ID, real: JSON.parse(granted.real.body).ID };
    await both('/v3/lease/timetolive', (s) => `{"ID":"${ids[s]}","keys":true}`);
    await both('/v3/kv/lease/timetolive', (s) => `{"ID":"${ids[s]}"}`);
    await both('/v3/lease/leases', '{}');
    await both('/v3/lease/keepalive', (s) => `{"ID":"${ids[s]}"}`, 1000);
    await both('/v3/lease/revoke', (s) => `{"ID":"${ids[s]}"}`);
    await both('/v3/kv/lease/revoke', (s) => `{"ID":"${ids[s]}"}`); // gone: an error body

    // Auth, cluster and maintenance.
    await both('/v3/auth/status', '{}');
    await both('/v3/auth/user/add', '{"name":"curly","password":"pw"}');
    await both('/v3/auth/user/list', '{}');
    await both('/v3/auth/role/add', '{"name":"curlrole"}');
    await both('/v3/auth/user/grant', '{"user":"curly","role":"curlrole"}');
    await both('/v3/auth/user/get', '{"name":"curly"}');
    await both('/v3/auth/authenticate', '{"name":"curly","password":"pw"}'); // auth is off: error
    await both('/v3/cluster/member/list', '{}');
    await both('/v3/maintenance/status', '{}');
    await both('/v3/maintenance/alarm', '{"action":"GET"}');
    await both('/v3/maintenance/defragment', '{}');

    // Lock and election.
    const lease2 = await both('/v3/lease/grant', '{"TTL":"60"}');
    const l2 = { ours: JSON.parse(lease2.ours.body).ID, real: JSON.parse(lease2.real.body).ID };
    const locked = await both('/v3/lock/lock', (s) => `{"name":"${b64('curl-lock')}","lease":"${l2[s]}"}`);
    const lockKey = { ours: JSON.parse(locked.ours.body).key, real: JSON.parse(locked.real.body).key };
    await both('/v3/lock/unlock', (s) => `{"key":"${lockKey[s]}"}`);
    const camp = await both(
      '/v3/election/campaign',
      (s) => `{"name":"${b64('curl-elect')}","lease":"${l2[s]}","value":"${b64('me')}"}`,
    );
    await both('/v3/election/leader', `{"name":"${b64('curl-elect')}"}`);
    const leader = {
      ours: JSON.stringify(JSON.parse(camp.ours.body).leader),
      real: JSON.stringify(JSON.parse(camp.real.body).leader),
    };
    await both('/v3/election/proclaim', (s) => `{"leader":${leader[s]},"value":"${b64('me2')}"}`);
    await both('/v3/election/resign', (s) => `{"leader":${leader[s]}}`);
  });
});
