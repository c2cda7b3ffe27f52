import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfChangeType } from '../raft/types.js';
import { encodeMemberContext, type Member, Membership } from './membership.js';

const member = (id: bigint, name: string): Member => ({
  id,
  name,
  peerUrls: [`http://127.0.0.1:${Number(id)}`],
  clientUrls: [],
  isLearner: false,
});

describe('membership', () => {
  test('conf changes add, promote, update and remove members; list is sorted by id', () => {
    const ms = new Membership(7n);
    const a = member(20n, 'a');
    const b = member(10n, 'b');
    ms.applyConfChange({ type: ConfChangeType.AddNode, nodeId: 20n, context: encodeMemberContext(a) });
    ms.applyConfChange({ type: ConfChangeType.AddLearnerNode, nodeId: 10n, context: encodeMemberContext(b) });
    assert.deepEqual(
      ms.list().map((m) => [m.id, m.isLearner]),
      [
        [10n, true],
        [20n, false],
      ],
    );
    ms.applyConfChange({ type: ConfChangeType.AddNode, nodeId: 10n, context: encodeMemberContext(b) });
    assert.equal(ms.get(10n)?.isLearner, false);
    const moved = { ...a, peerUrls: ['http://10.0.0.1:2380'] };
    ms.applyConfChange({ type: ConfChangeType.UpdateNode, nodeId: 20n, context: encodeMemberContext(moved) });
    assert.deepEqual(ms.get(20n)?.peerUrls, ['http://10.0.0.1:2380']);
    ms.applyConfChange({ type: ConfChangeType.RemoveNode, nodeId: 20n, context: new Uint8Array() });
    assert.equal(ms.get(20n), undefined);
    assert.equal(ms.isRemoved(20n), true);
  });

  test('replaying an AddNode is harmless, attributes survive encode/decode', () => {
    const ms = new Membership(0xcdf818194e3a8c32n);
    const a = member(0x8e9e05c52164694dn, 'infra0');
    const cc = { type: ConfChangeType.AddNode, nodeId: a.id, context: encodeMemberContext(a) } as const;
    ms.applyConfChange(cc);
    ms.setAttributes(a.id, 'infra0', ['http://127.0.0.1:2379']);
    ms.applyConfChange(cc);
    const back = Membership.decode(ms.encode());
    assert.equal(back.clusterId, 0xcdf818194e3a8c32n);
    assert.deepEqual(back.list(), ms.list());
    assert.deepEqual(back.get(a.id)?.clientUrls, ['http://127.0.0.1:2379']);
  });

  test('a conf change whose context names another member is refused', () => {
    const ms = new Membership(1n);
    assert.throws(() =>
      ms.applyConfChange({
        type: ConfChangeType.AddNode,
        nodeId: 2n,
        context: encodeMemberContext(member(3n, 'x')),
      }),
    );
  });
});
