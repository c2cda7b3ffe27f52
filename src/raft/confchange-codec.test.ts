import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeConfChange, encodeConfChange } from './confchange-codec.js';
import { ConfChangeType } from './types.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

describe("conf change entries in etcd's raftpb.ConfChange encoding", () => {
  test('bootstrap add (ID 0, JSON context) and remove (request id, no context) as etcd writes them', () => {
    const ctx = new TextEncoder().encode('{"id":1}');
    const add = { type: ConfChangeType.AddNode, nodeId: 0x4dd792572f80591fn, context: ctx };
    assert.equal(hex(encodeConfChange(add)), `08001000189fb281fcf2cae4eb4d2208${hex(ctx)}`);
    assert.deepEqual(decodeConfChange(encodeConfChange(add)), add);
    const remove = {
      id: 0xfedcba9876543210n,
      type: ConfChangeType.RemoveNode,
      nodeId: 5n,
      context: new Uint8Array(0),
    };
    assert.equal(hex(encodeConfChange(remove)), '0890e4d0b287d3aeeefe0110011805');
    assert.deepEqual(decodeConfChange(encodeConfChange(remove)), remove);
  });

  test("Go's decoding rules: unknown fields skipped, last value wins, bad input refused", () => {
    assert.deepEqual(decodeConfChange(unhex('1003180298010510011803')), {
      type: ConfChangeType.RemoveNode,
      nodeId: 3n,
      context: new Uint8Array(0),
    });
    assert.throws(() => decodeConfChange(unhex('1204')), /wrong wireType/);
    assert.throws(() => decodeConfChange(unhex('1002180')), /truncated/);
    assert.throws(() => decodeConfChange(unhex('0000')), /illegal tag/);
    assert.throws(() => decodeConfChange(unhex('1005')), /unknown type 5/);
  });
});
