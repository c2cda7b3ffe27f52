import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { encodeEntry, encodeHardState } from '../peer/wire/raftpb.js';
import { type Entry, EntryType, type HardState } from '../raft/types.js';
import { encodeWalMetadata } from '../server/wal-metadata.js';
import {
  decodeFrameSize,
  decodeRecordPb,
  decodeWalSnapshot,
  EtcdWalEncoder,
  EtcdWalType,
  encodeFrameSize,
  encodeRecordPb,
  encodeWalSnapshot,
} from './etcd-wal-codec.js';
import { EtcdWalError, etcdWalName, readEtcdWal, validSnapshotRecords } from './etcd-wal-reader.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'etcd-wal-test-'));
  dirs.push(d);
  return d;
}

const META = encodeWalMetadata({ memberId: 0x8e9e05c52164694dn, clusterId: 0xcdf818194e3a8c32n });

function entry(index: number, term: number, data = `e${index}`): Entry {
  return { index, term, type: EntryType.Normal, data: Buffer.from(data) };
}

/** A segment as etcd's Create/cut writes it, followed by `zeros` bytes of preallocated space. */
class SegmentBuilder {
  private readonly parts: Buffer[] = [];
  constructor(readonly enc: EtcdWalEncoder) {}
  crc(): this {
    this.parts.push(this.enc.frame(EtcdWalType.crc));
    return this;
  }
  metadata(m: Uint8Array = META): this {
    this.parts.push(this.enc.frame(EtcdWalType.metadata, m));
    return this;
  }
  snapshot(index: number, term: number): this {
    this.parts.push(this.enc.frame(EtcdWalType.snapshot, encodeWalSnapshot({ index, term })));
    return this;
  }
  entries(...es: Entry[]): this {
    for (const e of es) this.parts.push(this.enc.frame(EtcdWalType.entry, encodeEntry(e)));
    return this;
  }
  state(hs: HardState): this {
    this.parts.push(this.enc.frame(EtcdWalType.state, encodeHardState(hs)));
    return this;
  }
  bytes(zeros = 4096): Buffer {
    return Buffer.concat([...this.parts, Buffer.alloc(zeros)]);
  }
}

describe('etcd WAL record codec', () => {
  test('frame sizes carry the padding in the top byte, as etcd encodes them', () => {
    assert.deepEqual(encodeFrameSize(8), { lenField: 8n, pad: 0 });
    const { lenField, pad } = encodeFrameSize(13);
    assert.equal(pad, 3);
    assert.equal(lenField, 13n | (0x83n << 56n));
    assert.deepEqual(decodeFrameSize(lenField), { bytes: 13, pad: 3 });
    assert.deepEqual(decodeFrameSize(16n), { bytes: 16, pad: 0 });
  });

  test("a crc record is walpb.Record{type 4, crc} without data: etcd's first frame", () => {
    const frame = new EtcdWalEncoder().frame(EtcdWalType.crc);
    // length 4 with 4 bytes of padding, then 08 04 10 00.
    assert.equal(frame.toString('hex'), '0400000000000084' + '08041000' + '00000000');
  });

  test('records round-trip and keep the distinction between no data and empty data', () => {
    for (const r of [
      { type: 4, crc: 0, data: undefined },
      { type: 5, crc: 0xffffffff, data: new Uint8Array() },
      { type: 2, crc: 123456, data: Buffer.from('hello') },
    ]) {
      const back = decodeRecordPb(encodeRecordPb(r));
      assert.equal(back.type, r.type);
      assert.equal(back.crc, r.crc);
      assert.deepEqual(
        back.data === undefined ? undefined : Buffer.from(back.data),
        r.data && Buffer.from(r.data),
      );
    }
    assert.deepEqual(decodeWalSnapshot(encodeWalSnapshot({ index: 2 ** 40, term: 7 })), {
      index: 2 ** 40,
      term: 7,
    });
    // Unknown fields (3.5's conf_state) are skipped.
    assert.deepEqual(decodeWalSnapshot(Buffer.from('080510021a00', 'hex')), { index: 5, term: 2 });
  });

  test('garbage is a WireError, not a crash', () => {
    assert.throws(() => decodeRecordPb(Buffer.from([0x08])), /unexpected end/);
    assert.throws(() => decodeRecordPb(Buffer.from([0x0a, 0x01, 0x00])), /wrong wireType/);
  });
});

describe('reading an etcd WAL directory', () => {
  function restoreLikeWal(dir: string): void {
    // What `etcdctl snapshot restore` writes for two members: entries 1-2, hard state, snapshot {2,1}.
    const seg = new SegmentBuilder(new EtcdWalEncoder())
      .crc()
      .metadata()
      .snapshot(0, 0)
      .entries(entry(1, 1), entry(2, 1))
      .state({ term: 1, vote: 5n, commit: 2 })
      .snapshot(2, 1);
    writeFileSync(join(dir, etcdWalName(0n, 0n)), seg.bytes());
  }

  test('from the start, and from a snapshot record', async () => {
    const dir = tempDir();
    restoreLikeWal(dir);
    const all = await readEtcdWal(dir, { index: 0, term: 0 });
    assert.deepEqual(Buffer.from(all.metadata), Buffer.from(META));
    assert.deepEqual(all.hardState, { term: 1, vote: 5n, commit: 2 });
    assert.deepEqual(
      all.entries.map((e) => e.index),
      [1, 2],
    );
    assert.equal(all.torn, undefined);
    const fromSnap = await readEtcdWal(dir, { index: 2, term: 1 });
    assert.equal(fromSnap.entries.length, 0);
    assert.deepEqual(await validSnapshotRecords(dir), [
      { index: 0, term: 0 },
      { index: 2, term: 1 },
    ]);
    await assert.rejects(readEtcdWal(dir, { index: 2, term: 9 }), /snapshot mismatch/);
    await assert.rejects(readEtcdWal(dir, { index: 1, term: 1 }), /not found/);
  });

  test('segments chain their CRC through a crc record; raft truncation replaces entries', async () => {
    const dir = tempDir();
    const enc = new EtcdWalEncoder();
    const first = new SegmentBuilder(enc)
      .crc()
      .metadata()
      .snapshot(0, 0)
      .entries(entry(1, 1), entry(2, 1), entry(3, 1))
      .state({ term: 1, vote: 0n, commit: 1 })
      .bytes(0); // a cut truncates the finished segment
    const second = new SegmentBuilder(enc)
      .crc()
      .metadata()
      .state({ term: 1, vote: 0n, commit: 1 })
      .entries(entry(3, 2, 'rewritten'), entry(4, 2))
      .state({ term: 2, vote: 9n, commit: 4 })
      .bytes();
    writeFileSync(join(dir, etcdWalName(0n, 0n)), first);
    writeFileSync(join(dir, etcdWalName(1n, 4n)), second);
    const r = await readEtcdWal(dir, { index: 0, term: 0 });
    assert.deepEqual(
      r.entries.map((e) => [e.index, e.term, Buffer.from(e.data).toString()]),
      [
        [1, 1, 'e1'],
        [2, 1, 'e2'],
        [3, 2, 'rewritten'],
        [4, 2, 'e4'],
      ],
    );
    assert.deepEqual(r.hardState, { term: 2, vote: 9n, commit: 4 });

    // A flipped byte in the first segment breaks the chain: refused, not skipped.
    const bad = Buffer.from(first);
    bad[bad.length - 10] ^= 0xff;
    writeFileSync(join(dir, etcdWalName(0n, 0n)), bad);
    await assert.rejects(readEtcdWal(dir, { index: 0, term: 0 }), EtcdWalError);
  });

  test('a torn last record is left out (what etcd repairs away); the file is not touched', async () => {
    const dir = tempDir();
    const seg = new SegmentBuilder(new EtcdWalEncoder())
      .crc()
      .metadata()
      .snapshot(0, 0)
      .entries(entry(1, 1), entry(2, 1, 'x'.repeat(3000)))
      .bytes(0);
    const file = join(dir, etcdWalName(0n, 0n));
    writeFileSync(file, seg);
    truncateSync(file, seg.length - 100);
    const r = await readEtcdWal(dir, { index: 0, term: 0 });
    assert.deepEqual(
      r.entries.map((e) => e.index),
      [1],
    );
    assert.ok(r.torn !== undefined && /ends inside a record/.test(r.torn.reason));
    assert.equal(readFileSync(file).length, seg.length - 100);

    // An unwritten (zero) sector inside the last record: torn as well.
    const zeroed = Buffer.from(seg);
    const sector = Math.ceil((seg.length - 2500) / 512) * 512; // inside the 3000-byte last record
    zeroed.fill(0, sector, sector + 512);
    writeFileSync(file, zeroed);
    const z = await readEtcdWal(dir, { index: 0, term: 0 });
    assert.deepEqual(
      z.entries.map((e) => e.index),
      [1],
    );
    assert.ok(z.torn !== undefined);

    // A flipped bit in a complete last record with no zero sector: corruption, refused.
    const flipped = Buffer.from(seg);
    flipped[seg.length - 50] ^= 0x01;
    writeFileSync(file, flipped);
    await assert.rejects(readEtcdWal(dir, { index: 0, term: 0 }), /crc mismatch/);
  });

  test('gaps, conflicting metadata and unknown record types are refused', async () => {
    const gap = tempDir();
    writeFileSync(
      join(gap, etcdWalName(0n, 0n)),
      new SegmentBuilder(new EtcdWalEncoder())
        .crc()
        .metadata()
        .snapshot(0, 0)
        .entries(entry(1, 1), entry(3, 1))
        .bytes(),
    );
    await assert.rejects(readEtcdWal(gap, { index: 0, term: 0 }), /leaves a gap/);

    const meta = tempDir();
    writeFileSync(
      join(meta, etcdWalName(0n, 0n)),
      new SegmentBuilder(new EtcdWalEncoder())
        .crc()
        .metadata()
        .snapshot(0, 0)
        .metadata(Buffer.from('x'))
        .bytes(),
    );
    await assert.rejects(readEtcdWal(meta, { index: 0, term: 0 }), /conflicting metadata/);

    const unknown = tempDir();
    const enc = new EtcdWalEncoder();
    const b = Buffer.concat([
      new SegmentBuilder(enc).crc().metadata().snapshot(0, 0).bytes(0),
      enc.frame(9, Buffer.from('?')),
    ]);
    writeFileSync(join(unknown, etcdWalName(0n, 0n)), b);
    await assert.rejects(readEtcdWal(unknown, { index: 0, term: 0 }), /unexpected block type 9/);

    const seqGap = tempDir();
    mkdirSync(seqGap, { recursive: true });
    const e2 = new EtcdWalEncoder();
    writeFileSync(
      join(seqGap, etcdWalName(0n, 0n)),
      new SegmentBuilder(e2).crc().metadata().snapshot(0, 0).bytes(0),
    );
    writeFileSync(join(seqGap, etcdWalName(2n, 1n)), new SegmentBuilder(e2).crc().metadata().bytes());
    await assert.rejects(readEtcdWal(seqGap, { index: 0, term: 0 }), /sequence has a gap/);
  });
});
