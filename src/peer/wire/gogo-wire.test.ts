import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../../util/seeded-random.js';
import { ByteQueue } from './byte-queue.js';
import { ExactWriter, Reader, readU64BE, U64_MAX, WireError, writeU64BE, writeUintBE } from './gogo-wire.js';

/** Go's varint reading for a uint64 field, spelled out with BigInt: the reference. */
function referenceVarint(bytes: Uint8Array): bigint | 'overflow' | 'eof' {
  let v = 0n;
  for (let i = 0; ; i++) {
    if (i >= 10) return 'overflow';
    const b = bytes[i];
    if (b === undefined) return 'eof';
    v |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) return BigInt.asUintN(64, v);
  }
}

function readerOutcome(bytes: Uint8Array): bigint | 'overflow' | 'eof' {
  try {
    return new Reader(bytes, 'test').u64();
  } catch (e) {
    assert.ok(e instanceof WireError);
    return e.message.includes('overflow') ? 'overflow' : 'eof';
  }
}

describe('gogo-wire primitives', () => {
  test('u64 reads every varint length as Go does, high bits beyond 64 dropped', () => {
    const rnd = seededRandom(42);
    for (let n = 0; n < 20_000; n++) {
      const len = 1 + Math.floor(rnd() * 11);
      const bytes = new Uint8Array(len);
      for (let i = 0; i < len; i++) bytes[i] = Math.floor(rnd() * 256) | (i < len - 1 ? 0x80 : 0);
      if (rnd() < 0.05) bytes[len - 1]! |= 0x80; // truncated: runs off the end
      assert.equal(readerOutcome(bytes), referenceVarint(bytes), Buffer.from(bytes).toString('hex'));
    }
  });

  test('u64 written and read back, at the edges of each varint length and of 64 bits', () => {
    const values: bigint[] = [
      0n,
      1n,
      127n,
      128n,
      U64_MAX,
      U64_MAX - 1n,
      1n << 63n,
      BigInt(Number.MAX_SAFE_INTEGER),
    ];
    for (let bits = 1n; bits < 64n; bits++) values.push((1n << bits) - 1n, 1n << bits, (1n << bits) + 1n);
    for (const v of values) {
      const w = new ExactWriter(10);
      w.u64(v);
      const r = new Reader(w.buf.subarray(0, w.pos), 'test');
      assert.equal(r.u64(), v);
      assert.ok(r.done());
      const be = new Uint8Array(8);
      writeU64BE(be, 0, v);
      assert.equal(Buffer.from(be).readBigUInt64BE(0), v);
      assert.equal(readU64BE(be, 0), v);
      if (v <= BigInt(Number.MAX_SAFE_INTEGER)) {
        writeUintBE(be, 0, Number(v));
        assert.equal(readU64BE(be, 0), v);
      }
    }
  });

  test('span refuses a length beyond the data and a length of 2^63 or more', () => {
    assert.throws(() => new Reader(Uint8Array.of(5, 1, 2), 'test').span(), /unexpected end/);
    const w = new ExactWriter(10);
    w.u64(1n << 63n);
    assert.throws(() => new Reader(w.buf, 'test').span(), /negative length/);
    assert.deepEqual(new Reader(Uint8Array.of(2, 9, 9, 7), 'test').span(), [1, 3]);
  });
});

/** A random varint of 1–11 bytes, sometimes cut short; then `tail` bytes of payload. */
function randomVarintThenBytes(rnd: () => number, tail: number): Uint8Array {
  const len = 1 + Math.floor(rnd() * (rnd() < 0.7 ? 4 : 11));
  const bytes = new Uint8Array(len + tail);
  for (let i = 0; i < len; i++) {
    const b = rnd() < 0.3 ? Math.floor(rnd() * 4) : Math.floor(rnd() * 128);
    bytes[i] = b | (i < len - 1 ? 0x80 : 0);
  }
  if (rnd() < 0.05) return bytes.subarray(0, len - 1); // truncated varint
  return bytes;
}

function outcome(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (e) {
    assert.ok(e instanceof WireError);
    return `error: ${e.message}`;
  }
}

/** tag() and span() as Go reads them, through the 64-bit varint: the reference. */
function referenceTag(bytes: Uint8Array): unknown {
  return outcome(() => {
    const r = new Reader(bytes, 'test');
    const wire = r.u64();
    const field = Number(BigInt.asIntN(32, wire >> 3n));
    const wireType = Number(wire & 7n);
    if (wireType === 4) r.fail('wiretype end group for non-group');
    if (field <= 0) r.fail(`illegal tag ${field} (wire type ${wireType})`);
    return [field, wireType, r.pos];
  });
}

function referenceSpan(bytes: Uint8Array): unknown {
  return outcome(() => {
    const r = new Reader(bytes, 'test');
    const len = r.u64();
    if (len >= 1n << 63n) r.fail('negative length');
    if (len > BigInt(bytes.length - r.pos)) r.fail('unexpected end of data');
    return [r.pos, r.pos + Number(len)];
  });
}

describe('gogo-wire tags and lengths', () => {
  test('tag() and span() agree with the 64-bit reading for short, long and cut-off varints', () => {
    const rnd = seededRandom(7);
    for (let n = 0; n < 20_000; n++) {
      const bytes = randomVarintThenBytes(rnd, Math.floor(rnd() * 300));
      const hex = Buffer.from(bytes).toString('hex').slice(0, 40);
      const tag = outcome(() => {
        const r = new Reader(bytes, 'test');
        r.tag();
        return [r.field, r.wireType, r.pos];
      });
      assert.deepEqual(tag, referenceTag(bytes), `tag ${hex}`);
      const span = outcome(() => new Reader(bytes, 'test').span());
      assert.deepEqual(span, referenceSpan(bytes), `span ${hex}`);
      if (Array.isArray(span)) {
        const r = new Reader(bytes, 'test');
        assert.equal(r.spanEnd(), span[1]);
        assert.equal(r.lastSpanLength, span[1] - span[0]);
      }
    }
  });

  test('expectNumbered names the field only in its error', () => {
    const r = new Reader(Uint8Array.of(0xa2, 0x06, 0x00), 'test'); // field 100, wire type 2
    r.tag();
    assert.equal(r.field, 100);
    r.expectNumbered(2);
    assert.throws(() => r.expectNumbered(0), /wrong wireType = 2 for field 100/);
  });
});

describe('ByteQueue 64-bit reads', () => {
  test('takeU64BENumber agrees with takeU64BE within one chunk and across chunks', () => {
    const values = [0n, 1n, 255n, 256n, 0xffffffffn, 0x100000000n, BigInt(Number.MAX_SAFE_INTEGER), U64_MAX];
    const bytes = Buffer.alloc(values.length * 8);
    for (const [i, v] of values.entries()) bytes.writeBigUInt64BE(v, i * 8);
    for (const split of [1, 3, 8, 13, 64]) {
      const q = new ByteQueue();
      const b = new ByteQueue();
      for (let at = 0; at < bytes.length; at += split) {
        q.push(Uint8Array.prototype.slice.call(bytes, at, at + split));
        b.push(Uint8Array.prototype.slice.call(bytes, at, at + split));
      }
      for (const v of values) {
        assert.equal(q.takeU64BENumber(), Number(v), `split ${split}`);
        assert.equal(b.takeU64BE(), v);
      }
      assert.equal(q.length, 0);
    }
  });
});
