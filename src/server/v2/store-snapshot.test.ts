import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { decodeEtcdSnapFile } from '../../peer/wire/snap-file.js';
import { fixturePath, randomMember } from '../../peer/wire/testkit.js';
import { seededRandom } from '../../util/seeded-random.js';
import type { MemberRecord } from '../member-json.js';
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
    assert.equal(q.Size, 0);
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
