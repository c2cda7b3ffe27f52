import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { PutRequest, PutResponse, RangeResponse, type ResponseHeader } from '../../pb/etcdserverpb/rpc.js';
import type { KeyValue } from '../../pb/mvccpb/kv.js';
import { decodePutRequestFast } from '../../server/put-codec.js';
import { encodeFrame } from '../grpc/framing.js';
import { FastKVDefinition, framePutResponse, frameRangeResponse } from './fast-codecs.js';

/** The frame the generated encoder produces. */
function slowFrame(payload: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + payload.length);
  out.writeUInt32BE(payload.length, 1);
  out.set(payload, 5);
  return out;
}

const headers: ResponseHeader[] = [
  { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 },
  { clusterId: 0xcdef0123456789abn, memberId: 0x8e9e05c52164694dn, revision: 1, raftTerm: 2 },
  { clusterId: 1n, memberId: 2n ** 63n, revision: 2 ** 31 + 5, raftTerm: Number.MAX_SAFE_INTEGER },
  { clusterId: 127n, memberId: 128n, revision: 16383, raftTerm: 16384 },
];

function kv(i: number): KeyValue {
  return {
    key: Buffer.from(`key-${i}`),
    createRevision: i * 1000,
    modRevision: i * 100_003,
    version: i,
    value: Buffer.alloc(i * 50, i),
    lease: BigInt(i) * 0x1234567890n,
  };
}

test('PutResponse fast frames equal the generated encoding', () => {
  const cases: PutResponse[] = [{}, ...headers.map((header) => ({ header }))];
  for (const header of headers) cases.push({ header, prevKv: kv(3) }, { header, prevKv: kv(0) });
  for (const m of cases) {
    const fast = framePutResponse(m);
    assert.ok(fast !== undefined);
    assert.deepEqual(fast, slowFrame(PutResponse.encode(m).finish()));
  }
});

test('RangeResponse fast frames equal the generated encoding', () => {
  for (const header of headers) {
    for (const n of [0, 1, 3, 40]) {
      const m: RangeResponse = {
        header,
        kvs: Array.from({ length: n }, (_, i) => kv(i)),
        more: n === 3,
        count: n * 7,
      };
      const fast = frameRangeResponse(m);
      assert.ok(fast !== undefined);
      assert.deepEqual(fast, slowFrame(RangeResponse.encode(m).finish()));
    }
  }
});

test('values outside the fast path fall back to the generated encoder', () => {
  const neg: RangeResponse = { kvs: [{ ...kv(1), lease: -5n }], more: false, count: 1 };
  assert.equal(frameRangeResponse(neg), undefined);
  const codec = FastKVDefinition.methods.range.responseType;
  assert.deepEqual(Buffer.from(encodeFrame(codec, neg)), slowFrame(RangeResponse.encode(neg).finish()));
});

test('PutRequest fast decode equals the generated decoder, and declines what it does not handle', () => {
  const reqs: PutRequest[] = [
    PutRequest.fromPartial({}),
    PutRequest.fromPartial({ key: Buffer.from('k'), value: Buffer.alloc(300, 7) }),
    PutRequest.fromPartial({
      key: Buffer.from('k'),
      lease: 0x7fff_ffff_ffffn,
      prevKv: true,
      ignoreLease: true,
    }),
    PutRequest.fromPartial({ key: Buffer.from('x'), ignoreValue: true }),
  ];
  for (const r of reqs) {
    const bytes = PutRequest.encode(r).finish();
    assert.deepEqual(decodePutRequestFast(bytes), PutRequest.decode(bytes));
    assert.deepEqual(decodePutRequestFast(bytes, 0, bytes.length, true), PutRequest.decode(bytes));
    assert.deepEqual(FastKVDefinition.methods.put.requestType.decode(bytes), PutRequest.decode(bytes));
  }
  // Copies by default (a connection's read buffer is reused); views only when asked (raft entries).
  const entry = PutRequest.encode(
    PutRequest.fromPartial({ key: Buffer.from('k'), value: Buffer.from('v') }),
  ).finish();
  const copied = decodePutRequestFast(entry)!;
  const viewed = decodePutRequestFast(entry, 0, entry.length, true)!;
  entry[entry.length - 1] = 'w'.charCodeAt(0);
  assert.equal(copied.value.toString(), 'v');
  assert.equal(viewed.value.toString(), 'w', 'a view sees its entry');
  const negativeLease = PutRequest.encode(
    PutRequest.fromPartial({ key: Buffer.from('k'), lease: -1n }),
  ).finish();
  assert.equal(decodePutRequestFast(negativeLease), undefined);
  assert.equal(FastKVDefinition.methods.put.requestType.decode(negativeLease).lease, -1n);
  const unknownField = new BinaryWriter()
    .uint32((9 << 3) | 0)
    .uint32(1)
    .finish();
  assert.equal(decodePutRequestFast(unknownField), undefined);
  const truncated = PutRequest.encode(PutRequest.fromPartial({ key: Buffer.from('abc') }))
    .finish()
    .subarray(0, 3);
  assert.equal(decodePutRequestFast(truncated), undefined);
});
