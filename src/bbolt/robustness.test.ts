// Truncated, corrupted and hostile files: the reader must refuse them with a BoltFormatError
// (or, for damage inside values, read them) -- never crash with another error, never hang.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../util/seeded-random.js';
import { checkDb } from './check.js';
import { BoltFormatError } from './errors.js';
import { encodeMetaPage, FLAG_BRANCH, NO_FREELIST } from './format.js';
import { BoltDb } from './reader.js';
import { dumpDb, producerOf, randomBucket, writeToBuffer } from './testkit.js';

const b = (s: string): Buffer => Buffer.from(s);

async function sample(): Promise<Buffer> {
  const { bytes } = await writeToBuffer(
    producerOf([
      [b('a'), randomBucket(1, 800)],
      [b('b'), { entries: [[b('k'), b('v')]] }],
    ]),
  );
  return bytes;
}

/** Opens, walks and checks everything; returns the error, which must be a BoltFormatError. */
function readAll(bytes: Buffer): BoltFormatError | undefined {
  try {
    const db = BoltDb.fromBuffer(bytes);
    dumpDb(db);
    checkDb(db);
    for (const e of db.root().entries()) if (e.isBucket) db.root().open(e).get(b('k'));
    return undefined;
  } catch (err) {
    if (err instanceof BoltFormatError) return err;
    throw err;
  }
}

describe('bbolt reader robustness', () => {
  test('every truncation is refused with a clear error', async () => {
    const bytes = await sample();
    const rnd = seededRandom(42);
    const cuts = [0, 1, 15, 100, 4095, 4096, 8191, 8192, bytes.length - 4096, bytes.length - 1];
    for (let i = 0; i < 40; i++) cuts.push(Math.floor(rnd() * bytes.length));
    for (const cut of cuts) {
      const err = readAll(bytes.subarray(0, cut));
      assert.ok(err, `truncated at ${cut} of ${bytes.length} was accepted`);
      assert.match(err.message, /truncated|too small/, `at ${cut}: ${err.message}`);
    }
  });

  test('flipped bytes anywhere give a BoltFormatError or a readable db, never a crash or hang', async () => {
    const bytes = await sample();
    const rnd = seededRandom(7);
    let refused = 0;
    const started = Date.now();
    for (let i = 0; i < 400; i++) {
      const bad = Buffer.from(bytes);
      const flips = 1 + Math.floor(rnd() * 8);
      for (let f = 0; f < flips; f++) {
        // Half the damage in page headers and element arrays, where it hurts most.
        const page = Math.floor(rnd() * (bad.length / 4096));
        const at = rnd() < 0.5 ? page * 4096 + Math.floor(rnd() * 200) : Math.floor(rnd() * bad.length);
        bad[at] = bad[at]! ^ (1 << Math.floor(rnd() * 8));
      }
      if (readAll(bad)) refused++;
    }
    assert.ok(refused > 50, `only ${refused} of 400 damaged files refused`);
    assert.ok(Date.now() - started < 30_000);
  });

  test('both metas broken, garbage and zero files are refused', async () => {
    const bytes = await sample();
    const bad = Buffer.from(bytes);
    bad[16] = 0; // magic
    bad[4096 + 20] = 7; // version
    assert.match(
      readAll(bad)!.message,
      /no valid meta page \(meta 0: bad magic.*; meta 1: unsupported version 7\)/,
    );
    const zeros = Buffer.alloc(64 * 1024);
    assert.match(readAll(zeros)!.message, /no valid meta page/);
    const rnd = seededRandom(3);
    const noise = Buffer.alloc(64 * 1024);
    for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(rnd() * 256);
    assert.ok(readAll(noise));
    const checksum = Buffer.from(bytes);
    checksum[4096 + 70] ^= 1; // meta 1's checksum
    checksum[70] ^= 1; // meta 0's checksum
    assert.match(readAll(checksum)!.message, /checksum mismatch/);
  });

  test('a branch page pointing at itself is refused, not walked forever', () => {
    const ps = 4096;
    const file = Buffer.alloc(4 * ps);
    const meta = {
      pageSize: ps,
      flags: 0,
      root: 2n,
      rootSequence: 0n,
      freelist: NO_FREELIST,
      pgid: 4n,
      txid: 2n,
    };
    encodeMetaPage(file.subarray(0, ps), 0, meta);
    encodeMetaPage(file.subarray(ps, 2 * ps), 1, { ...meta, txid: 1n });
    // Page 2: root bucket leaf with bucket "x" whose root is page 3; page 3: a branch to itself.
    const p2 = file.subarray(2 * ps);
    p2.writeBigUInt64LE(2n, 0);
    p2.writeUInt16LE(0x02, 8);
    p2.writeUInt16LE(1, 10);
    p2.writeUInt32LE(0x01, 16); // bucket flag
    p2.writeUInt32LE(16, 20); // pos
    p2.writeUInt32LE(1, 24); // ksize
    p2.writeUInt32LE(16, 28); // vsize
    p2.write('x', 32);
    p2.writeBigUInt64LE(3n, 33);
    const p3 = file.subarray(3 * ps);
    p3.writeBigUInt64LE(3n, 0);
    p3.writeUInt16LE(FLAG_BRANCH, 8);
    p3.writeUInt16LE(2, 10);
    for (const i of [0, 1]) {
      const el = 16 + 16 * i;
      p3.writeUInt32LE(48 - el + i, el); // keys "a", "b" after the elements
      p3.writeUInt32LE(1, el + 4);
      p3.writeBigUInt64LE(3n, el + 8);
    }
    p3.write('ab', 48);
    const db = BoltDb.fromBuffer(file);
    assert.throws(() => [...db.bucket('x')!.entries()], /referenced twice/);
    assert.throws(() => db.bucket('x')!.get(b('a')), /deeper than/);
    assert.ok(checkDb(db).some((e) => /multiple references/.test(e)));
  });
});
