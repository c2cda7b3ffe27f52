import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { readVarint, varint64Size, varintSize, writeVarint, writeVarint64 } from './wire.js';

test('varints match the generated writer for numbers and 64-bit bigints', () => {
  const numbers = [
    0,
    1,
    127,
    128,
    16383,
    16384,
    2 ** 28 - 1,
    2 ** 28,
    2 ** 31,
    2 ** 32 + 7,
    2 ** 49,
    2 ** 53 - 1,
  ];
  for (const n of numbers) {
    const want = new BinaryWriter().uint64(n).finish();
    const buf = new Uint8Array(12);
    assert.equal(writeVarint(buf, 0, n), want.length, `length of ${n}`);
    assert.deepEqual(buf.subarray(0, want.length), want, `bytes of ${n}`);
    assert.equal(varintSize(n), want.length);
    assert.deepEqual(readVarint(buf, 0, want.length), [n, want.length]);
  }
  const bigs = [
    0n,
    5n,
    2n ** 53n - 1n,
    2n ** 53n,
    2n ** 56n - 1n,
    2n ** 56n,
    2n ** 63n,
    0xfedcba9876543210n,
    2n ** 64n - 1n,
  ];
  for (const v of bigs) {
    const want = new BinaryWriter().uint64(v).finish();
    const buf = new Uint8Array(12);
    assert.equal(writeVarint64(buf, 0, v), want.length, `length of ${v}`);
    assert.deepEqual(buf.subarray(0, want.length), want, `bytes of ${v}`);
    assert.equal(varint64Size(v), want.length);
  }
});

test('readVarint declines truncated and oversized input', () => {
  assert.equal(readVarint(Uint8Array.of(0x80, 0x80), 0, 2), undefined);
  assert.equal(readVarint(new Uint8Array(9).fill(0xff), 0, 9), undefined);
});
