import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { decodeEtcdSnapFile } from '../peer/wire/snap-file.js';
import { fixturePath } from '../peer/wire/testkit.js';
import { V2Error, V2ErrorCode } from './errors.js';
import { decodeStoreJson, encodeStoreJson, errorJson, eventJson, nodeJson } from './json.js';
import { cleanPath, joinPath, splitPath } from './path.js';
import { V2Store } from './store.js';
import { formatGoTime, NS_PER_SECOND, parseGoTime } from './time.js';

describe("Go's formats", () => {
  test('times: RFC 3339 with trailing fraction zeros dropped; offsets and the zero time read back', () => {
    const t = parseGoTime('2026-12-07T04:24:27.798032496Z')!;
    assert.equal(formatGoTime(t), '2026-12-07T04:24:27.798032496Z');
    assert.equal(formatGoTime(t - 496n), '2026-12-07T04:24:27.798032Z');
    assert.equal(formatGoTime(1_700_000_000n * NS_PER_SECOND), '2023-11-14T22:13:20Z');
    assert.equal(parseGoTime('2026-12-07T05:24:27.798032496+01:00'), t);
    assert.equal(parseGoTime('0001-01-01T00:00:00Z'), undefined);
    assert.equal(formatGoTime(undefined), '0001-01-01T00:00:00Z');
    assert.throws(() => parseGoTime('yesterday'));
  });

  test("paths as Go's package path cleans, joins and splits them", () => {
    assert.equal(cleanPath('/1/a/../b//c/'), '/1/b/c');
    assert.equal(cleanPath('/..'), '/');
    assert.equal(joinPath('/1', ''), '/1');
    assert.equal(joinPath('/1', '/x/./y'), '/1/x/y');
    assert.deepEqual(splitPath('/1/a'), ['/1/', 'a']);
  });

  test('events and nodes with omitempty; error bodies with and without a cause; HTML-safe strings', () => {
    assert.equal(
      nodeJson({ key: '/1', dir: true, modifiedIndex: 0, createdIndex: 0 }),
      '{"key":"/1","dir":true}',
    );
    assert.equal(
      eventJson(
        {
          action: 'get',
          node: { key: '/1/<a>', value: '&', modifiedIndex: 3, createdIndex: 2, ttl: 0 },
          etcdIndex: 9,
        },
        { view: (k) => k.slice(2) },
      ),
      '{"action":"get","node":{"key":"/\\u003ca\\u003e","value":"\\u0026","modifiedIndex":3,"createdIndex":2}}',
    );
    assert.equal(
      errorJson(new V2Error(V2ErrorCode.KeyNotFound, '/message', 3)),
      '{"errorCode":100,"message":"Key not found","cause":"/message","index":3}',
    );
    assert.equal(
      errorJson(new V2Error(V2ErrorCode.RaftInternal, '', 0)),
      '{"errorCode":300,"message":"Raft Internal Error","index":0}',
    );
  });
});

describe('the store in a raft snapshot', () => {
  test("a real etcd 3.4 snapshot's store: membership, index, history", () => {
    const snap = decodeEtcdSnapFile(new Uint8Array(readFileSync(fixturePath('member.snap'))));
    const s = decodeStoreJson(snap.data);
    assert.equal(s.index, 8);
    assert.equal(s.get('/0/version', false, false, 0n).node.value, '3.4.0');
    // The history answers waits from its start; etcd wrote the removal as a recursive delete.
    assert.equal(s.watch('/0/members/351cabaa7e198e24', true, false, 5).take()?.action, 'delete');
    // What we write back is what etcd wrote (but for the get we just made).
    const ours = encodeStoreJson(s).replace(/"getsSuccess":\d+/, '');
    assert.equal(ours, new TextDecoder().decode(snap.data).replace(/"getsSuccess":\d+/, ''));
  });

  test('keys, directories, TTLs, refreshes and the history survive a round trip byte for byte', () => {
    const now = 1_800_000_000n * NS_PER_SECOND;
    const s = new V2Store();
    s.set('/1/a', false, 'x', {}, now);
    s.set('/1/d', true, '', { expireTime: now + 7n * NS_PER_SECOND + 123n }, now);
    s.create('/1/d/q', false, 'j', true, {}, now);
    s.set('/1/a', false, '', { refresh: true, expireTime: now + NS_PER_SECOND }, now);
    s.delete('/1/d/q', true, true, now);
    const json = encodeStoreJson(s);
    const back = decodeStoreJson(json);
    assert.equal(encodeStoreJson(back), json);
    assert.equal(back.hasTtlKeys(), true);
    back.deleteExpiredKeys(now + 10n * NS_PER_SECOND);
    assert.equal(back.index, 7); // /1/d and the refreshed /1/a expire
    assert.throws(() => back.get('/1/d', false, false, now));
    assert.throws(() => decodeStoreJson('{"Root":{"Path":"/","Children":null}}'), /not a directory/);
    assert.throws(() =>
      decodeStoreJson('{"WatcherHub":{"EventHistory":{"Queue":{"Events":[],"Capacity":3}}}}'),
    );
  });
});
