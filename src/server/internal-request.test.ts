import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { PutRequest, TxnRequest } from '../pb/etcdserverpb/rpc.js';
import { decodeInternalRequest, encodeInternalRequest } from './internal-request.js';

describe('internal raft request envelope', () => {
  test('put round-trips with its 64-bit request id', () => {
    const req = PutRequest.fromPartial({ key: Buffer.from('k'), value: Buffer.from('v'), prevKv: true });
    const id = 0xfedcba9876543210n;
    const back = decodeInternalRequest(encodeInternalRequest({ id, op: { kind: 'put', req } }));
    assert.equal(back.id, id);
    assert.equal(back.op.kind, 'put');
    if (back.op.kind === 'put') {
      assert.equal(Buffer.from(back.op.req.key).toString(), 'k');
      assert.equal(back.op.req.prevKv, true);
    }
  });

  test("the hand-written put envelope has the generated encoder's bytes", () => {
    const reqs = [
      PutRequest.fromPartial({ key: Buffer.from('k'), value: Buffer.alloc(256, 1) }),
      PutRequest.fromPartial({
        key: Buffer.from('key'),
        lease: 0x1234_5678_9abcn,
        prevKv: true,
        ignoreLease: true,
      }),
      PutRequest.fromPartial({ key: Buffer.from('x'), ignoreValue: true }),
      PutRequest.fromPartial({}),
    ];
    for (const id of [1n, 0x7fn, 0xfedcba9876543210n]) {
      for (const req of reqs) {
        const w = new BinaryWriter();
        w.tag(100, WireType.LengthDelimited).fork().tag(1, WireType.Varint).uint64(id).join();
        PutRequest.encode(req, w.tag(4, WireType.LengthDelimited).fork()).join();
        const fast = encodeInternalRequest({ id, op: { kind: 'put', req } });
        assert.deepEqual(Buffer.from(fast), Buffer.from(w.finish()));
        const back = decodeInternalRequest(fast);
        assert.equal(back.id, id);
        assert.deepEqual(back.op, { kind: 'put', req });
      }
    }
    // A negative lease takes the generated path and still round-trips.
    const neg = PutRequest.fromPartial({ key: Buffer.from('k'), lease: -2n });
    const back = decodeInternalRequest(encodeInternalRequest({ id: 9n, op: { kind: 'put', req: neg } }));
    assert.deepEqual(back.op, { kind: 'put', req: neg });
  });

  test('txn, delete, compaction and member attributes round-trip', () => {
    const txn = TxnRequest.fromPartial({
      success: [
        { request: { $case: 'requestPut', requestPut: { key: Buffer.from('a'), value: Buffer.from('1') } } },
      ],
    });
    const t = decodeInternalRequest(encodeInternalRequest({ id: 1n, op: { kind: 'txn', req: txn } }));
    assert.equal(t.op.kind, 'txn');
    if (t.op.kind === 'txn') assert.equal(t.op.req.success.length, 1);
    const d = decodeInternalRequest(
      encodeInternalRequest({
        id: 2n,
        op: {
          kind: 'deleteRange',
          req: { key: Buffer.from('a'), rangeEnd: Buffer.from('b'), prevKv: false },
        },
      }),
    );
    assert.equal(d.op.kind, 'deleteRange');
    const c = decodeInternalRequest(
      encodeInternalRequest({ id: 3n, op: { kind: 'compaction', req: { revision: 42, physical: true } } }),
    );
    assert.deepEqual(c.op, { kind: 'compaction', req: { revision: 42, physical: true } });
    const attrs = { memberId: 0x8e9e05c52164694dn, name: 'infra0', clientUrls: ['http://a:1', 'http://b:2'] };
    const m = decodeInternalRequest(
      encodeInternalRequest({ id: 4n, op: { kind: 'memberAttrSet', req: attrs } }),
    );
    assert.deepEqual(m, { id: 4n, op: { kind: 'memberAttrSet', req: attrs } });
  });

  test('the header uses etcd field 100 so etcd tools can read the id', () => {
    const bytes = encodeInternalRequest({
      id: 5n,
      op: { kind: 'compaction', req: { revision: 1, physical: false } },
    });
    // Field 100, wire type 2 -> varint tag 802 = 0xa2 0x06.
    assert.deepEqual([...bytes.subarray(0, 2)], [0xa2, 0x06]);
  });

  test('an entry without a known operation is refused', () => {
    assert.throws(
      () => decodeInternalRequest(new Uint8Array([0xa2, 0x06, 0x02, 0x08, 0x01])),
      /no known operation/,
    );
  });
});
