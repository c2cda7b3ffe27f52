import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ConfChange, ConfChangeType } from '../raft/types.js';
import {
  encodeMemberContext,
  encodePromoteContext,
  type Member,
  Membership,
  type MembershipError,
} from './membership.js';

const member = (id: bigint, name: string, port = Number(id % 60000n)): Member => ({
  id,
  name,
  peerUrls: [`http://127.0.0.1:${port}`],
  clientUrls: [],
  isLearner: false,
});

const add = (m: Member, learner = false): ConfChange => ({
  type: learner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode,
  nodeId: m.id,
  context: encodeMemberContext(m),
});

function applied(ms: Membership, cc: ConfChange): MembershipError | undefined {
  const err = ms.validate(cc);
  if (err === undefined) ms.applyConfChange(cc);
  return err;
}

describe('membership', () => {
  test('conf changes add, promote, update and remove members; list is sorted by id', () => {
    const ms = new Membership();
    const a = member(20n, 'a');
    const b = member(10n, 'b');
    assert.equal(applied(ms, add(a)), undefined);
    assert.equal(applied(ms, add(b, true)), undefined);
    assert.deepEqual(
      ms.list().map((m) => [m.id, m.isLearner]),
      [
        [10n, true],
        [20n, false],
      ],
    );
    const promote = { type: ConfChangeType.AddNode, nodeId: 10n, context: encodePromoteContext(b) } as const;
    assert.equal(applied(ms, promote), undefined);
    assert.equal(ms.get(10n)?.isLearner, false);
    const moved = { ...a, peerUrls: ['http://10.0.0.1:2380'] };
    const update = {
      type: ConfChangeType.UpdateNode,
      nodeId: 20n,
      context: encodeMemberContext(moved),
    } as const;
    assert.equal(applied(ms, update), undefined);
    assert.deepEqual(ms.get(20n)?.peerUrls, ['http://10.0.0.1:2380']);
    const remove = { type: ConfChangeType.RemoveNode, nodeId: 20n, context: new Uint8Array() } as const;
    assert.equal(applied(ms, remove), undefined);
    assert.equal(ms.get(20n), undefined);
    assert.equal(ms.isRemoved(20n), true);
  });

  test("etcd's apply-time validation: removed, existing, unknown, duplicate URL, one learner, promote rules", () => {
    const ms = new Membership();
    const a = member(1n, 'a', 1001);
    applied(ms, add(a));
    assert.equal(ms.validate(add(a))?.message, 'membership: ID exists');
    assert.equal(
      ms.validate(add({ ...member(2n, ''), peerUrls: a.peerUrls }))?.message,
      'membership: peerURL exists',
    );
    const remove = (id: bigint) => ({
      type: ConfChangeType.RemoveNode,
      nodeId: id,
      context: new Uint8Array(),
    });
    assert.equal(ms.validate(remove(9n))?.message, 'membership: ID not found');
    applied(ms, add(member(3n, '', 1003), true));
    assert.equal(
      ms.validate(add(member(4n, '', 1004), true))?.message,
      'membership: too many learner members in cluster',
    );
    const promoteA = { type: ConfChangeType.AddNode, nodeId: 1n, context: encodePromoteContext(a) };
    assert.equal(ms.validate(promoteA)?.message, 'membership: can only promote a learner member');
    applied(ms, remove(3n));
    assert.equal(ms.validate(add(member(3n, '', 1005)))?.message, 'membership: ID removed');
    assert.equal(ms.validate(remove(3n))?.message, 'membership: ID removed');
  });

  test('replaying an AddNode is harmless; members, removals and version survive the v2-store snapshot', () => {
    const ms = new Membership();
    const a = member(0x8e9e05c52164694dn, 'infra0');
    ms.applyConfChange(add(a));
    ms.setAttributes(a.id, 'infra0', ['http://127.0.0.1:2379']);
    ms.applyConfChange(add(a));
    const gone = member(0xfedcba9876543210n, 'gone');
    ms.applyConfChange(add(gone));
    ms.applyConfChange({ type: ConfChangeType.RemoveNode, nodeId: gone.id, context: new Uint8Array() });
    ms.setClusterVersion('3.4.0');
    const back = Membership.decode(ms.encode());
    assert.deepEqual(back.list(), ms.list());
    assert.deepEqual(back.get(a.id)?.clientUrls, ['http://127.0.0.1:2379']);
    assert.equal(back.isRemoved(gone.id), true);
    assert.equal(back.clusterVersion(), '3.4.0');
  });
});
