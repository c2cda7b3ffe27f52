import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PutRequest } from '../../pb/etcdserverpb/rpc.js';
import { hex, randomV2Request, unhex } from '../../peer/wire/testkit.js';
import { seededRandom } from '../../util/seeded-random.js';
import { encodeInternalRequest } from '../internal-request.js';
import { isMessageName, referencedMessageNames } from './go-unmarshal-check.js';
import {
  classifyNormalEntry,
  decodeV2Request,
  emptyV2Request,
  encodeV2Request,
  isBareV2Request,
  wrappedV2Request,
} from './request.js';

/** PUT /0/version "3.4.0" with ID 0x1234, as gogo writes it: fields 1-7 and 9-16, zero or not. */
const VERSION_PUT =
  '08b424' +
  '1203505554' +
  '1a0a2f302f76657273696f6e' +
  '2205332e342e30' +
  '2800' +
  '3200' +
  '3800' +
  '4800' +
  '5000' +
  '5800' +
  '6000' +
  '6800' +
  '7000' +
  '7800' +
  '800100';

describe('v2 etcdserverpb.Request', () => {
  test('the cluster-version PUT has the bytes etcd 3.4 proposes', () => {
    const r = { ...emptyV2Request(), id: 0x1234n, method: 'PUT', path: '/0/version', val: '3.4.0' };
    assert.equal(hex(encodeV2Request(r)), VERSION_PUT);
    assert.deepEqual(decodeV2Request(unhex(VERSION_PUT)), r);
  });

  test('PrevExist and Refresh are written only when set; int64 times keep their sign', () => {
    const base = { ...emptyV2Request(), method: 'SYNC', time: 1_733_500_000_123_456_789n };
    const plain = encodeV2Request(base);
    assert.equal(encodeV2Request({ ...base, prevExist: false }).length, plain.length + 2);
    assert.equal(encodeV2Request({ ...base, refresh: true }).length, plain.length + 3);
    assert.deepEqual(decodeV2Request(encodeV2Request({ ...base, prevExist: false, refresh: true })), {
      ...base,
      prevExist: false,
      refresh: true,
    });
    const negative = { ...base, expiration: -1n };
    const b = encodeV2Request(negative);
    assert.ok(hex(b).includes('48ffffffffffffffffff01'));
    assert.equal(decodeV2Request(b).expiration, -1n);
  });

  test('random requests round-trip', () => {
    const rnd = seededRandom(8);
    for (let i = 0; i < 300; i++) {
      const r = randomV2Request(rnd);
      assert.deepEqual(decodeV2Request(encodeV2Request(r)), r);
    }
  });

  test('wrong wire types are refused like Go refuses them', () => {
    assert.throws(() => decodeV2Request(unhex('0a00')), /wrong wireType = 2 for field ID/);
    assert.throws(() => decodeV2Request(unhex('1000')), /wrong wireType = 0 for field Method/);
  });
});

describe("EntryNormal data: InternalRaftRequest or bare v2 Request, etcd's rule", () => {
  test('every bare Request as gogo writes it is v2 (field 5, Dir, is a varint on a message field)', () => {
    assert.equal(classifyNormalEntry(unhex(VERSION_PUT)), 'v2');
    const rnd = seededRandom(9);
    for (const method of ['PUT', 'GET', 'QGET', 'POST', 'DELETE', 'SYNC', 'HEAD', '']) {
      const r = { ...randomV2Request(rnd), method, path: '', val: '' };
      assert.equal(classifyNormalEntry(encodeV2Request(r)), 'v2', method);
      assert.equal(isBareV2Request(encodeV2Request(r)), true);
    }
  });

  test('our v3 InternalRaftRequests, the empty entry and a wrapped v2 Request are internal', () => {
    const put = encodeInternalRequest({
      id: 0xfedcba9876543210n,
      op: { kind: 'put', req: PutRequest.fromPartial({ key: Buffer.from('k'), value: Buffer.from('v') }) },
    });
    assert.equal(classifyNormalEntry(put), 'internal');
    assert.equal(wrappedV2Request(put), undefined);
    assert.equal(classifyNormalEntry(new Uint8Array(0)), 'internal');
    const v2 = unhex(VERSION_PUT);
    const wrapped = Uint8Array.from([0xa2, 0x06, 0x02, 0x08, 0x07, 0x12, v2.length, ...v2]);
    assert.equal(classifyNormalEntry(wrapped), 'internal');
    assert.equal(wrappedV2Request(wrapped)?.path, '/0/version');
  });

  test('what decides is the nested decode, as in Go', () => {
    // Without the always-written Dir, an empty Method and Path decode as an empty v2 field and
    // an empty RangeRequest: Go accepts that as an InternalRaftRequest.
    assert.equal(classifyNormalEntry(unhex('080112001a00')), 'internal');
    // Method "PUT" as a nested Request: Wait=0x55, then 0x54 is an end-group tag.
    assert.equal(classifyNormalEntry(unhex('08011203505554')), 'v2');
    // Path "/0" as a RangeRequest: 0x2f is field 5 with wire type 7.
    assert.equal(classifyNormalEntry(unhex('080112001a022f30')), 'v2');
    // A put (field 4) whose key field has the wrong wire type.
    assert.equal(classifyNormalEntry(unhex('22020800')), 'v2');
    assert.equal(classifyNormalEntry(unhex('22020a00')), 'internal');
  });

  test('the schema refers only to messages it defines', () => {
    for (const name of referencedMessageNames()) assert.ok(isMessageName(name), name);
  });
});
