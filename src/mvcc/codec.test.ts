import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeKeyValue, encodeKeyValue } from './kv-codec.js';
import { decodeRevision, encodeRevision } from './revision.js';
import type { KeyValue } from './types.js';

describe('revision keys', () => {
  test('round trip, tombstone mark, and byte order equals revision order', () => {
    const revs = [
      { main: 1, sub: 0 },
      { main: 1, sub: 1 },
      { main: 2, sub: 0 },
      { main: 255, sub: 7 },
      { main: 256, sub: 0 },
      { main: 2 ** 40 + 3, sub: 2 ** 33 },
      { main: Number.MAX_SAFE_INTEGER, sub: 0 },
    ];
    const encoded = revs.map((r) => encodeRevision(r, false));
    for (let i = 0; i < revs.length; i++) {
      assert.deepEqual(decodeRevision(encoded[i]!), { ...revs[i], tombstone: false });
      if (i > 0) assert.equal(Buffer.compare(encoded[i - 1]!, encoded[i]!), -1);
    }
    const t = encodeRevision({ main: 5, sub: 2 }, true);
    assert.equal(t.length, 18);
    assert.equal(t.toString('hex'), '00000000000000055f000000000000000274');
    assert.deepEqual(decodeRevision(t), { main: 5, sub: 2, tombstone: true });
  });
});

describe('KeyValue records', () => {
  test('round trip including big counters and negative lease ids', () => {
    const kv: KeyValue = {
      key: Buffer.from([0, 1, 255]),
      createRevision: 2 ** 50 + 1,
      modRevision: 300,
      version: 1,
      value: Buffer.alloc(1000, 7),
      lease: -5n,
    };
    assert.deepEqual(decodeKeyValue(encodeKeyValue(kv)), kv);
    const big = { ...kv, lease: 0x7fff_ffff_ffff_ffffn };
    assert.deepEqual(decodeKeyValue(encodeKeyValue(big)), big);
  });

  test('matches the protobuf bytes etcd writes', () => {
    // mvccpb.KeyValue{Key:"a", CreateRevision:2, ModRevision:3, Version:2, Value:"2"} marshalled by gogo.
    const bytes = encodeKeyValue({
      key: Buffer.from([0x61]),
      createRevision: 2,
      modRevision: 3,
      version: 2,
      value: Buffer.from([0x32]),
      lease: 0n,
    });
    assert.equal(Buffer.from(bytes).toString('hex'), '0a0161100218032002' + '2a0132');
  });
});
