import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { LeaseInvariantError } from './errors.js';
import { decodeLeaseRecord, encodeLeaseRecord, leaseIdFromKey, leaseKey } from './record.js';
import type { LeaseRecord } from './types.js';

// Expected bytes are written out by hand from leasepb.Lease's field numbers (ID = 1, TTL = 2,
// RemainingTTL = 3, all varint, so tags 0x08, 0x10, 0x18) and base-128 varints; they were checked
// against gogo-protobuf's Marshal of the same messages.
const cases: Array<{ name: string; rec: LeaseRecord; bytes: number[] }> = [
  {
    name: 'small id and ttl, no remaining',
    rec: { id: 1n, ttl: 10, remainingTtl: 0 },
    bytes: [0x08, 0x01, 0x10, 0x0a],
  },
  {
    name: 'server-style id, max ttl, checkpointed remaining',
    rec: { id: 0x694d71c6a12d3a8fn, ttl: 9_000_000_000, remainingTtl: 3600 },
    bytes: [
      0x08, 0x8f, 0xf5, 0xb4, 0x89, 0xea, 0xb8, 0xdc, 0xa6, 0x69, 0x10, 0x80, 0xb4, 0xc4, 0xc3, 0x21, 0x18,
      0x90, 0x1c,
    ],
  },
  {
    name: 'negative remaining is a ten-byte varint',
    rec: { id: 300n, ttl: 5, remainingTtl: -1 },
    bytes: [0x08, 0xac, 0x02, 0x10, 0x05, 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  },
  {
    name: 'int64 max id',
    rec: { id: (1n << 63n) - 1n, ttl: 2, remainingTtl: 0 },
    bytes: [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x10, 0x02],
  },
  { name: 'all zero is empty', rec: { id: 0n, ttl: 0, remainingTtl: 0 }, bytes: [] },
];

describe('lease record codec', () => {
  for (const c of cases) {
    test(`encodes like Go: ${c.name}`, () => {
      assert.deepEqual([...encodeLeaseRecord(c.rec)], c.bytes);
    });
    test(`decodes: ${c.name}`, () => {
      assert.deepEqual(decodeLeaseRecord(Uint8Array.from(c.bytes)), c.rec);
    });
  }

  test('decoding skips unknown fields and takes the last value of a repeated field', () => {
    const w = new BinaryWriter();
    w.tag(1, WireType.Varint).int64(7n);
    w.tag(9, WireType.LengthDelimited).bytes(Uint8Array.of(1, 2, 3));
    w.tag(2, WireType.Varint).int64(30);
    w.tag(2, WireType.Varint).int64(60);
    w.tag(15, WireType.Bit64).fixed64(5n);
    assert.deepEqual(decodeLeaseRecord(w.finish()), { id: 7n, ttl: 60, remainingTtl: 0 });
  });

  test('decoding rejects truncated bytes', () => {
    assert.throws(() => decodeLeaseRecord(Uint8Array.of(0x08, 0x80)));
  });

  test('decoding rejects a TTL beyond the safe integer range', () => {
    const w = new BinaryWriter();
    w.tag(2, WireType.Varint).int64(1n << 60n);
    assert.throws(() => decodeLeaseRecord(w.finish()), LeaseInvariantError);
  });

  test('encoding rejects non-integer TTLs and ids outside int64', () => {
    assert.throws(() => encodeLeaseRecord({ id: 1n, ttl: 1.5, remainingTtl: 0 }), LeaseInvariantError);
    assert.throws(() => encodeLeaseRecord({ id: 1n << 63n, ttl: 1, remainingTtl: 0 }), LeaseInvariantError);
  });
});

describe('lease backend key', () => {
  test('is the id as 8 bytes big-endian', () => {
    assert.deepEqual([...leaseKey(1n)], [0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual([...leaseKey(0x0102030405060708n)], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual([...leaseKey((1n << 63n) - 1n)], [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    assert.deepEqual([...leaseKey(-1n)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  });

  test('round-trips, also from a view into a larger buffer', () => {
    for (const id of [1n, 255n, 256n, 0x694d71c6a12d3a8fn, (1n << 63n) - 1n, -5n]) {
      assert.equal(leaseIdFromKey(leaseKey(id)), id);
    }
    const big = new Uint8Array(20);
    big.set(leaseKey(0x1234n), 5);
    assert.equal(leaseIdFromKey(big.subarray(5, 13)), 0x1234n);
  });

  test('keys sort bytewise in id order for positive ids', () => {
    const ids = [3n, 256n, 1n, 0x7fn, 0x80n, 1n << 40n];
    const byKey = [...ids].sort((a, b) => Buffer.compare(Buffer.from(leaseKey(a)), Buffer.from(leaseKey(b))));
    assert.deepEqual(
      byKey,
      [...ids].sort((a, b) => (a < b ? -1 : 1)),
    );
  });

  test('rejects keys that are not 8 bytes', () => {
    assert.throws(() => leaseIdFromKey(new Uint8Array(7)), LeaseInvariantError);
  });
});
