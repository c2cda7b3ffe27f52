import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { checkDb } from './check.js';
import { BoltFormatError, BoltWriteError } from './errors.js';
import { NO_FREELIST } from './format.js';
import { BoltDb } from './reader.js';
import { dumpDb, dumpSpec, producerOf, randomBucket, type TestBucket, writeToBuffer } from './testkit.js';
import { measureBolt, writeBolt } from './writer.js';

const b = (s: string): Buffer => Buffer.from(s);

function spec(seed: number): [Buffer, TestBucket][] {
  return [
    [b('big'), randomBucket(seed, 6000)],
    [b('empty'), { entries: [] }],
    [
      b('small'),
      {
        entries: [
          [b('a'), b('1')],
          [b('b'), b('2')],
        ],
      },
    ],
    [b('tiny-but-nested'), { entries: [[b('in'), { entries: [[b('x'), b('y')]] }]] }],
  ];
}

describe('bbolt writer and reader', () => {
  test('a written db reads back entry for entry, and checks clean', async () => {
    const top = spec(7);
    const { bytes, result } = await writeToBuffer(producerOf(top));
    assert.equal(bytes.length, result.size);
    assert.equal(result.size, result.pages * 4096);
    const db = BoltDb.fromBuffer(bytes);
    assert.deepEqual(checkDb(db), []);
    assert.deepEqual(dumpDb(db), dumpSpec(top));
    assert.equal(db.meta.freelist, NO_FREELIST);
    assert.equal(db.meta.txid, 2n);
    assert.equal(db.metaPage, 0);
  });

  test('lookups find every key, through branch levels and overflow pages', async () => {
    const top = spec(11);
    const { bytes } = await writeToBuffer(producerOf(top));
    const db = BoltDb.fromBuffer(bytes);
    const big = db.bucket('big')!;
    assert.equal(big.isInline, false);
    const rootPage = db.page(big.rootPage);
    assert.equal(rootPage.flags, 0x01, 'a 6000-key bucket has a branch root');
    for (const [k, v] of top[0]![1].entries) {
      if (Buffer.isBuffer(v)) assert.deepEqual(big.get(k), v);
      else assert.ok(big.bucket(k), 'nested bucket opens');
    }
    assert.equal(big.get(b('\xff\xff\xff\xff no such key')), undefined);
    assert.equal(big.get(b('\x00')), undefined);
  });

  test('small buckets are inline, as bbolt would write them; others are not', async () => {
    const { bytes } = await writeToBuffer(producerOf(spec(3)));
    const db = BoltDb.fromBuffer(bytes);
    assert.equal(db.bucket('small')!.isInline, true);
    assert.equal(db.bucket('empty')!.isInline, true);
    // bbolt never inlines a bucket holding sub-buckets.
    assert.equal(db.bucket('tiny-but-nested')!.isInline, false);
    assert.equal(db.bucket('tiny-but-nested')!.bucket('in')!.isInline, true);
    // An empty inline bucket is exactly 32 bytes: header, then an empty leaf image.
    const raw = db.root().getEntry('empty')!.value;
    assert.equal(raw.toString('hex'), `${'00'.repeat(16)}0000000000000000020000000000000000`.slice(0, 64));
  });

  test('the inline threshold is pageSize/4 of leaf bytes', async () => {
    // 16 header + 16 element + 1 key + v value: inline iff <= 1024.
    for (const [v, inline] of [
      [1024 - 33, true],
      [1024 - 32, false],
    ] as const) {
      const { bytes } = await writeToBuffer(producerOf([[b('x'), { entries: [[b('k'), Buffer.alloc(v)]] }]]));
      assert.equal(BoltDb.fromBuffer(bytes).bucket('x')!.isInline, inline, `value of ${v} bytes`);
    }
  });

  test('path, fd and Writable outputs give identical bytes; the trailer is sha256', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbolt-test-'));
    try {
      const produce = producerOf(spec(5));
      const viaStream = await writeToBuffer(produce);
      const file = path.join(dir, 'a.db');
      const r = await writeBolt(produce, file, { sha256Trailer: true });
      const fd = fs.openSync(path.join(dir, 'b.db'), 'w');
      await writeBolt(produce, fd);
      fs.closeSync(fd);
      const a = fs.readFileSync(file);
      assert.equal(a.length, viaStream.bytes.length + 32);
      assert.equal(a.length % 512, 32);
      assert.deepEqual(a.subarray(0, -32), viaStream.bytes);
      assert.deepEqual(fs.readFileSync(path.join(dir, 'b.db')), viaStream.bytes);
      assert.deepEqual(a.subarray(-32), r.sha256);
      assert.equal(r.bytesWritten, a.length);
      // The reader ignores bytes past the db.
      assert.deepEqual(dumpDb(BoltDb.openFile(file)), dumpSpec(spec(5)));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('measureBolt predicts the size without writing', async () => {
    const produce = producerOf(spec(9));
    const m = await measureBolt(produce);
    const { bytes } = await writeToBuffer(produce);
    assert.equal(m.size, bytes.length);
  });

  test('a stored empty freelist page and other page sizes read and check clean', async () => {
    for (const opts of [{ freelist: 'page' as const }, { pageSize: 16384 }, { pageSize: 1024 }]) {
      const top = spec(13);
      const { bytes } = await writeToBuffer(producerOf(top), opts);
      const db = BoltDb.fromBuffer(bytes);
      assert.deepEqual(checkDb(db), [], JSON.stringify(opts));
      assert.deepEqual(dumpDb(db), dumpSpec(top));
      if (opts.freelist) assert.deepEqual(db.freelist(), []);
      if (opts.pageSize) assert.equal(db.pageSize, opts.pageSize);
    }
  });

  test('meta pages: page 0 holds txid T and page 1 T-1, both with valid checksums', async () => {
    const { bytes } = await writeToBuffer(producerOf(spec(1)), { txid: 10n });
    const db = BoltDb.fromBuffer(bytes);
    assert.equal(db.meta.txid, 10n);
    // Break meta 0: the reader falls back to meta 1 (txid 9), which describes the same db.
    const broken = Buffer.from(bytes);
    broken[30] = broken[30]! ^ 0xff;
    const fallback = BoltDb.fromBuffer(broken);
    assert.equal(fallback.metaPage, 1);
    assert.equal(fallback.meta.txid, 9n);
    assert.deepEqual(dumpDb(fallback), dumpSpec(spec(1)));
  });

  test('writer misuse is refused', async () => {
    const run = (produce: Parameters<typeof writeBolt>[0]) => measureBolt(produce);
    await assert.rejects(
      run(async (w) => {
        await w.bucket('a');
        await w.put(b('b'), b(''));
        await w.put(b('a'), b(''));
      }),
      (e: Error) => e instanceof BoltWriteError && /out of order/.test(e.message),
    );
    await assert.rejects(
      run(async (w) => {
        await w.bucket('b');
        await w.end();
        await w.bucket('a');
      }),
      /out of order/,
    );
    await assert.rejects(
      run(async (w) => void (await w.put(b('k'), b('v')))),
      /open a bucket/,
    );
    await assert.rejects(
      run(async (w) => void (await w.bucket('a'))),
      /never closed/,
    );
    await assert.rejects(
      run(async (w) => void (await w.end())),
      /without an open bucket/,
    );
    await assert.rejects(
      run(async (w) => {
        await w.bucket('a');
        await w.put(b(''), b('v'));
      }),
      /empty key/,
    );
    await assert.rejects(
      run(async (w) => {
        await w.bucket('a');
        await w.put(Buffer.alloc(32769, 1), b('v'));
      }),
      /too large/,
    );
    let calls = 0;
    await assert.rejects(
      writeToBuffer(async (w) => {
        calls++;
        await w.bucket('a');
        for (let i = 0; i < (calls === 1 ? 10 : 5000); i++)
          await w.put(b(`k${String(i).padStart(6, '0')}`), b('v'));
        await w.end();
      }),
      /deterministic/,
    );
  });

  test('the reader refuses a key that is not a bucket as a bucket, and a bucket as a value', async () => {
    const { bytes } = await writeToBuffer(producerOf(spec(2)));
    const db = BoltDb.fromBuffer(bytes);
    assert.equal(db.bucket('small')!.bucket('a'), undefined);
    assert.equal(db.bucket('tiny-but-nested')!.get('in'), undefined);
    assert.equal(db.bucket('nope'), undefined);
    assert.throws(() => BoltDb.fromBuffer(Buffer.alloc(10)), BoltFormatError);
  });
});
