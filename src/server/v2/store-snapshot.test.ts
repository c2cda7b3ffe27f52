import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { decodeEtcdSnapFile } from '../../peer/wire/snap-file.js';
import { fixturePath, randomMember } from '../../peer/wire/testkit.js';
import { ConfChangeType } from '../../raft/types.js';
import { seededRandom } from '../../util/seeded-random.js';
import type { MemberRecord } from '../member-json.js';
import { encodeMemberContext, Membership } from '../membership.js';
import { decodeV2StoreSnapshot, encodeV2StoreSnapshot } from './store-snapshot.js';

const text = new TextDecoder();

const A: MemberRecord = {
  id: 0x2cf6a886065973f0n,
  name: 'a',
  peerUrls: ['http://127.0.0.1:23792'],
  clientUrls: ['http://127.0.0.1:23791'],
  isLearner: false,
};
const Y: MemberRecord = {
  id: 0x9a5f98afc7a5368en,
  name: 'y',
  peerUrls: ['http://127.0.0.1:23796'],
  clientUrls: ['http://127.0.0.1:23795'],
  isLearner: true,
};

interface StoreJson {
  Root: NodeJson;
  WatcherHub: { EventHistory: { Queue: { Events: unknown[]; Capacity: number; Size: number } } };
  CurrentIndex: number;
  Stats: Record<string, number>;
  CurrentVersion: number;
}
interface NodeJson {
  Path: string;
  Value: string;
  CreatedIndex: number;
  ExpireTime: string;
  Children: Record<string, NodeJson> | null;
}

describe('the v2 store JSON in raftpb.Snapshot.Data', () => {
  test('a real etcd 3.4 snapshot: members, learner, removed member, cluster version', () => {
    const snap = decodeEtcdSnapFile(new Uint8Array(readFileSync(fixturePath('member.snap'))));
    const got = decodeV2StoreSnapshot(snap.data);
    assert.deepEqual(got, {
      members: [A, Y],
      removed: [0x351cabaa7e198e24n],
      clusterVersion: '3.4.0',
      userKeysPresent: false,
    });
    assert.deepEqual(
      got.members.map((m) => m.id),
      [...snap.metadata.confState.voters, ...snap.metadata.confState.learners],
    );
  });

  test("ours has etcd's layout: the tree, 1000 event slots, stats, store version 2", () => {
    const data = encodeV2StoreSnapshot({
      members: [Y, A],
      removed: [0x351cabaa7e198e24n],
      clusterVersion: '3.4.0',
    });
    const json = JSON.parse(text.decode(data)) as StoreJson;
    assert.deepEqual(Object.keys(json), ['Root', 'WatcherHub', 'CurrentIndex', 'Stats', 'CurrentVersion']);
    const root = json.Root;
    assert.deepEqual(Object.keys(root), [
      'Path',
      'CreatedIndex',
      'ModifiedIndex',
      'ExpireTime',
      'Value',
      'Children',
    ]);
    assert.equal(root.ExpireTime, '0001-01-01T00:00:00Z');
    assert.deepEqual(Object.keys(root.Children!), ['0', '1']);
    assert.deepEqual(root.Children!['1']!.Children, {}); // a directory, even empty
    const ns0 = root.Children!['0']!.Children!;
    assert.deepEqual(Object.keys(ns0), ['members', 'removed_members', 'version']);
    const a = ns0.members!.Children!['2cf6a886065973f0']!;
    assert.equal(a.Path, '/0/members/2cf6a886065973f0');
    assert.equal(a.Children!.raftAttributes!.Value, '{"peerURLs":["http://127.0.0.1:23792"]}');
    assert.equal(a.Children!.raftAttributes!.Children, null);
    assert.equal(a.Children!.attributes!.Value, '{"name":"a","clientURLs":["http://127.0.0.1:23791"]}');
    assert.equal(
      ns0.members!.Children!['9a5f98afc7a5368e']!.Children!.raftAttributes!.Value,
      '{"peerURLs":["http://127.0.0.1:23796"],"isLearner":true}',
    );
    assert.equal(ns0.removed_members!.Children!['351cabaa7e198e24']!.Value, '');
    assert.equal(ns0.version!.Value, '3.4.0');
    const q = json.WatcherHub.EventHistory.Queue;
    assert.equal(q.Events.length, 1000);
    assert.equal(q.Capacity, 1000);
    // Each write is an event in the history, as in etcd's.
    assert.equal(q.Size, 6);
    assert.equal(q.Events.filter((e) => e !== null).length, 6);
    assert.equal(json.CurrentIndex, 6); // 2 + 2 member writes, 1 removal, 1 version
    assert.equal(Object.keys(json.Stats).length, 16);
    assert.equal(json.CurrentVersion, 2);
  });

  test('round-trips members (unstarted ones too), removed ids and an undecided version', () => {
    const rnd = seededRandom(4);
    for (let i = 0; i < 50; i++) {
      const members = [
        ...new Map(
          Array.from({ length: 1 + (i % 4) }, () => randomMember(rnd)).map((m) => [m.id, m]),
        ).values(),
      ];
      members.sort((x, y) => (x.id < y.id ? -1 : 1));
      const removed = i % 3 === 0 ? [] : [(1n << 64n) - 1n, 0x10n];
      const s = i % 2 === 0 ? { members, removed } : { members, removed, clusterVersion: '3.4.0' };
      assert.deepEqual(decodeV2StoreSnapshot(encodeV2StoreSnapshot(s)), {
        ...s,
        removed: [...removed].sort((x, y) => (x < y ? -1 : 1)),
        userKeysPresent: false,
      });
    }
  });

  test('v2 user keys are reported; a member without raftAttributes is refused', () => {
    const json = JSON.parse(text.decode(encodeV2StoreSnapshot({ members: [A], removed: [] }))) as StoreJson;
    json.Root.Children!['1']!.Children = {
      foo: {
        Path: '/1/foo',
        Value: 'bar',
        CreatedIndex: 3,
        ExpireTime: '0001-01-01T00:00:00Z',
        Children: null,
      },
    };
    assert.equal(decodeV2StoreSnapshot(new TextEncoder().encode(JSON.stringify(json))).userKeysPresent, true);
    delete json.Root.Children!['0']!.Children!.members!.Children!['2cf6a886065973f0']!.Children!
      .raftAttributes;
    assert.throws(
      () => decodeV2StoreSnapshot(new TextEncoder().encode(JSON.stringify(json))),
      /no raftAttributes/,
    );
  });
});

describe('the whole v2 store in the snapshot', () => {
  test("etcd's membership writes replayed into a Membership give etcd's snapshot JSON byte for byte", () => {
    // The fixture's history: a founded (1), a published (2), version (3), learner x added (4) and
    // removed (5, 6), learner y added (7) and published (8).
    const snap = decodeEtcdSnapFile(new Uint8Array(readFileSync(fixturePath('member.snap'))));
    const ms = new Membership();
    const X = { id: 0x351cabaa7e198e24n, name: '', peerUrls: ['http://127.0.0.1:23794'], clientUrls: [] };
    const add = (m: MemberRecord, learner: boolean): void =>
      ms.applyConfChange({
        type: learner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode,
        nodeId: m.id,
        context: encodeMemberContext({ ...m, name: '', clientUrls: [], isLearner: learner }),
      });
    add(A, false);
    ms.setAttributes(A.id, A.name, A.clientUrls);
    ms.setClusterVersion('3.4.0');
    add({ ...X, isLearner: true }, true);
    ms.applyConfChange({ type: ConfChangeType.RemoveNode, nodeId: X.id, context: new Uint8Array() });
    add(Y, true);
    ms.setAttributes(Y.id, Y.name, Y.clientUrls);
    // etcd's own membership reads count gets we do not make: take its counters.
    const theirs = text.decode(snap.data);
    const ours = text.decode(ms.encode());
    const withoutGets = (s: string): string => s.replace(/"getsSuccess":\d+,"getsFail":\d+/, '');
    assert.equal(withoutGets(ours), withoutGets(theirs));
  });

  test('v2 keys, TTLs, indexes and the history survive encode and decode', () => {
    const ms = Membership.decode(
      decodeEtcdSnapFile(new Uint8Array(readFileSync(fixturePath('member.snap')))).data,
    );
    const store = ms.v2Store();
    const now = 1_700_000_000_000_000_000n;
    store.set('/1/a', false, 'x', {}, now);
    store.create('/1/q', false, 'job', true, { expireTime: now + 5_000_000_000n }, now);
    store.set('/1/d/e', false, 'y', {}, now);
    const copy = Membership.decode(ms.encode());
    assert.equal(text.decode(copy.encode()), text.decode(ms.encode()));
    const s2 = copy.v2Store();
    assert.equal(s2.index, 11);
    assert.equal(s2.hasTtlKeys(), true);
    assert.equal(s2.get('/1/a', false, false, now).node.value, 'x');
    assert.deepEqual(copy.list(), ms.list());
    // The history goes on: a watch from index 9 sees /1/a's set.
    const w = s2.watch('/1/a', false, false, 9);
    assert.equal(w.take()?.node.value, 'x');
    s2.deleteExpiredKeys(now + 5_000_000_000n);
    assert.equal(s2.hasTtlKeys(), false);
    assert.equal(s2.index, 12);
  });
});
