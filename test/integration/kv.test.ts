// One real member process: KV round trips, etcd's errors, membership, status,
// and what survives a clean restart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AuthUserGetRequest,
  AuthUserGetResponse,
  Compare,
  Compare_CompareResult,
  Compare_CompareTarget,
  RequestOp,
} from '../../src/pb/etcdserverpb/rpc.js';
import { eventually, MemberProcess, memberSpec, removeDir, tempDir } from './harness.js';
import { KvClient } from './kv-client.js';

const text = (x: Uint8Array | undefined): string => Buffer.from(x ?? []).toString();

interface GrpcFailure {
  code: number;
  details: string;
}

async function rejectsWith(p: Promise<unknown>, code: number, details: string): Promise<void> {
  await assert.rejects(p, (err: GrpcFailure) => {
    assert.equal(err.details, details);
    assert.equal(err.code, code);
    return true;
  });
}

describe('single member over gRPC', () => {
  let dir: string;
  let member: MemberProcess;
  let kv: KvClient;

  before(async () => {
    dir = tempDir('kv');
    member = new MemberProcess(
      await memberSpec('infra0', `${dir}/data`, ['--max-txn-ops=4', '--max-request-bytes=4096']),
    );
    member.start();
    kv = new KvClient(member.endpoint);
    await eventually(() => kv.range('probe'), 15_000);
  });

  after(async () => {
    kv.close();
    await member.stop();
    removeDir(dir);
  });

  test('a fresh member is at revision 1, raft term 2, and leads itself', async () => {
    const r = await kv.range('nothing');
    assert.equal(r.header?.revision, 1);
    assert.equal(r.header?.raftTerm, 2);
    assert.equal(r.kvs.length, 0);
    const st = await kv.status();
    assert.equal(st.version, '3.4.23');
    assert.equal(st.leader, st.header?.memberId);
    assert.equal(st.raftTerm, 2);
    assert.ok(st.raftAppliedIndex >= 3, `applied ${st.raftAppliedIndex}`);
    assert.ok(st.dbSize > 0);
  });

  test('put, get, update, history, delete', async () => {
    const p1 = await kv.put('/a', 'v1');
    const rev1 = p1.header?.revision ?? 0;
    const p2 = await kv.put('/a', 'v2', { prevKv: true });
    assert.equal(p2.header?.revision, rev1 + 1);
    assert.equal(text(p2.prevKv?.value), 'v1');
    const g = await kv.range('/a');
    assert.equal(g.count, 1);
    assert.equal(text(g.kvs[0]?.value), 'v2');
    assert.equal(g.kvs[0]?.createRevision, rev1);
    assert.equal(g.kvs[0]?.modRevision, rev1 + 1);
    assert.equal(g.kvs[0]?.version, 2);
    const old = await kv.range('/a', { revision: rev1 });
    assert.equal(text(old.kvs[0]?.value), 'v1');
    await kv.put('/b', 'x');
    const d = await kv.del('/a', { rangeEnd: Buffer.from('/c'), prevKv: true });
    assert.equal(d.deleted, 2);
    assert.deepEqual(d.prevKvs.map((x) => text(x.key)).sort(), ['/a', '/b']);
    assert.equal((await kv.range('/a')).count, 0);
    const serial = await kv.range('/a', { serializable: true });
    assert.equal(serial.count, 0);
    assert.equal(serial.header?.revision, d.header?.revision);
  });

  test('txn takes the branch its compares choose', async () => {
    const p = await kv.put('/t', '1');
    const cmp = Compare.fromPartial({
      key: Buffer.from('/t'),
      target: Compare_CompareTarget.MOD,
      result: Compare_CompareResult.EQUAL,
      targetUnion: { $case: 'modRevision', modRevision: p.header?.revision ?? 0 },
    });
    const then = RequestOp.fromPartial({
      request: { $case: 'requestPut', requestPut: { key: Buffer.from('/t'), value: Buffer.from('2') } },
    });
    const otherwise = RequestOp.fromPartial({
      request: { $case: 'requestRange', requestRange: { key: Buffer.from('/t') } },
    });
    const ok = await kv.txn({ compare: [cmp], success: [then], failure: [otherwise] });
    assert.equal(ok.succeeded, true);
    assert.equal(ok.header?.revision, (p.header?.revision ?? 0) + 1);
    const stale = await kv.txn({ compare: [cmp], success: [then], failure: [otherwise] });
    assert.equal(stale.succeeded, false);
    const r0 = stale.responses[0]?.response;
    assert.equal(r0?.$case, 'responseRange');
    if (r0?.$case === 'responseRange') assert.equal(text(r0.responseRange.kvs[0]?.value), '2');
  });

  test('a read-only txn is answered without a raft entry', async () => {
    const p = await kv.put('/ro', 'v');
    const rev = p.header?.revision ?? 0;
    const before = await kv.status();
    const cmp = Compare.fromPartial({
      key: Buffer.from('/ro'),
      target: Compare_CompareTarget.VALUE,
      result: Compare_CompareResult.EQUAL,
      targetUnion: { $case: 'value', value: Buffer.from('v') },
    });
    const read = (key: string, revision = 0) =>
      RequestOp.fromPartial({
        request: { $case: 'requestRange', requestRange: { key: Buffer.from(key), revision } },
      });
    const r = await kv.txn({ compare: [cmp], success: [read('/ro'), read('/ro', rev - 1)], failure: [] });
    assert.equal(r.succeeded, true);
    assert.equal(r.header?.revision, rev);
    const [now, old] = r.responses.map((x) =>
      x.response?.$case === 'responseRange' ? x.response.responseRange : undefined,
    );
    assert.equal(now?.count, 1);
    assert.equal(old?.count, 0, 'the range at an older revision sees the past');
    const after = await kv.status();
    assert.equal(after.raftIndex, before.raftIndex, 'a read-only txn must not go through raft');
  });

  test('compaction: older revisions are gone, errors say so', async () => {
    const a = await kv.put('/c', '1');
    await kv.put('/c', '2');
    const rev = a.header?.revision ?? 0;
    await kv.compact(rev, true);
    await rejectsWith(
      kv.range('/c', { revision: rev - 1 }),
      11,
      'etcdserver: mvcc: required revision has been compacted',
    );
    assert.equal(text((await kv.range('/c', { revision: rev })).kvs[0]?.value), '1');
    await rejectsWith(kv.compact(rev), 11, 'etcdserver: mvcc: required revision has been compacted');
    await rejectsWith(
      kv.range('/c', { revision: 1_000_000 }),
      11,
      'etcdserver: mvcc: required revision is a future revision',
    );
    await rejectsWith(kv.compact(1_000_000), 11, 'etcdserver: mvcc: required revision is a future revision');
  });

  test("invalid requests fail with etcd's codes and messages", async () => {
    await rejectsWith(kv.put('', 'v'), 3, 'etcdserver: key is not provided');
    await rejectsWith(kv.range(''), 3, 'etcdserver: key is not provided');
    await rejectsWith(kv.put('/l', 'v', { lease: 12345n }), 5, 'etcdserver: requested lease not found');
    await rejectsWith(kv.put('/big', 'x'.repeat(5000)), 3, 'etcdserver: request is too large');
    const put = (k: string) =>
      RequestOp.fromPartial({
        request: { $case: 'requestPut', requestPut: { key: Buffer.from(k), value: Buffer.from('v') } },
      });
    await rejectsWith(
      kv.txn({ compare: [], success: [put('1'), put('2'), put('3'), put('4'), put('5')], failure: [] }),
      3,
      'etcdserver: too many operations in txn request',
    );
    await rejectsWith(
      kv.txn({ compare: [], success: [put('d'), put('d')], failure: [] }),
      3,
      'etcdserver: duplicate key given in txn request',
    );
    // The Auth service answers as etcd does (test/integration/auth.test.ts has the rest).
    const auth = kv.raw.call('/etcdserverpb.Auth/UserGet', AuthUserGetRequest, AuthUserGetResponse, {
      name: 'x',
    });
    await rejectsWith(auth, 9, 'etcdserver: user name not found');
  });

  test('member list shows name, peer and client URLs', async () => {
    const ml = await kv.memberList();
    assert.equal(ml.members.length, 1);
    const m = ml.members[0];
    assert.equal(m?.name, 'infra0');
    assert.deepEqual(m?.peerURLs, [`http://127.0.0.1:${member.spec.peerPort}`]);
    assert.deepEqual(m?.clientURLs, [`http://${member.endpoint}`]);
    assert.equal(m?.isLearner, false);
    assert.equal(m?.ID, ml.header?.memberId);
  });

  test('defragment keeps the data and its hash', async () => {
    await kv.put('/h', 'x');
    const before = await kv.hashKV();
    const beforeAll = await kv.all();
    await kv.defragment();
    const afterHash = await kv.hashKV();
    assert.equal(afterHash.hash, before.hash);
    assert.equal(afterHash.header?.revision, before.header?.revision);
    assert.equal((await kv.all()).count, beforeAll.count);
    await kv.put('/h', 'y');
    assert.notEqual((await kv.hashKV()).hash, before.hash);
  });

  test('a clean restart keeps keys, revisions and ids; the term goes up', async () => {
    await kv.put('/r', 'kept');
    const before = await kv.all();
    const st = await kv.status();
    kv.close();
    assert.equal(await member.stop(), 0);
    member.start();
    kv = new KvClient(member.endpoint);
    const afterAll = await eventually(() => kv.all(), 15_000);
    assert.equal(afterAll.header?.revision, before.header?.revision);
    assert.deepEqual(
      afterAll.kvs.map((x) => [text(x.key), text(x.value), x.modRevision]),
      before.kvs.map((x) => [text(x.key), text(x.value), x.modRevision]),
    );
    assert.equal(afterAll.header?.memberId, st.header?.memberId);
    assert.equal(afterAll.header?.clusterId, st.header?.clusterId);
    assert.ok((afterAll.header?.raftTerm ?? 0) > st.raftTerm);
    const p = await kv.put('/r2', 'new');
    assert.equal(p.header?.revision, (before.header?.revision ?? 0) + 1);
  });
});
