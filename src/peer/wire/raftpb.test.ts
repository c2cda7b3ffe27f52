import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { EntryType, type Message, MessageType } from '../../raft/types.js';
import { seededRandom } from '../../util/seeded-random.js';
import { WireError } from './gogo-wire.js';
import {
  decodeConfState,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshot,
  encodeConfState,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshot,
} from './raftpb.js';
import { decodeEtcdSnapFile, encodeEtcdSnapFile } from './snap-file.js';
import {
  fixturePath,
  hex,
  randomConfState,
  randomEntry,
  randomHardState,
  randomMessage,
  randomSnapshot,
  unhex,
} from './testkit.js';

const utf8 = new TextEncoder();

function message(fields: Partial<Message>): Message {
  return {
    type: MessageType.Heartbeat,
    to: 0n,
    from: 0n,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    ...fields,
  };
}

/** The empty snapshot every Message carries: 4a 0a { 12 08 { 0a 02 {28 00} 10 00 18 00 } }. */
const EMPTY_SNAPSHOT_FIELD = '4a0a12080a02280010001800';

describe('raftpb: the bytes etcd 3.4 writes', () => {
  test('a link heartbeat is the observed 30-byte message, zero fields and empty snapshot included', () => {
    const b = encodeMessage(message({}));
    assert.equal(hex(b), `0808100018002000280030004000${EMPTY_SNAPSHOT_FIELD}50005800`);
    assert.equal(b.length, 0x1e);
  });

  test('fields in Go order; entries between index and commit; context last and only when set', () => {
    const m = message({
      type: MessageType.App,
      to: 0xfedcba9876543210n,
      from: 2n,
      term: 3,
      logTerm: 2,
      index: 7,
      entries: [
        { type: EntryType.Normal, term: 3, index: 8, data: new Uint8Array(0) },
        { type: EntryType.ConfChange, term: 3, index: 9, data: Uint8Array.of(0xab) },
      ],
      commit: 7,
      reject: true,
      rejectHint: 300,
    });
    const want =
      '0803' +
      '1090e4d0b287d3aeeefe01' + // to: 64-bit varint
      '1802' +
      '2003' +
      '2802' +
      '3007' +
      '3a06080010031808' + // entry without Data
      '3a090801100318092201ab' +
      '4007' +
      EMPTY_SNAPSHOT_FIELD +
      '5001' +
      '58ac02';
    assert.equal(hex(encodeMessage(m)), want);
    assert.equal(hex(encodeMessage({ ...m, context: new Uint8Array(0) })), `${want}6200`);
    assert.equal(
      hex(encodeMessage({ ...m, context: utf8.encode('CampaignTransfer') })).slice(-36),
      `6210${hex(utf8.encode('CampaignTransfer'))}`,
    );
  });

  test('conf states list ids one tag each (unpacked) and always write auto_leave', () => {
    assert.equal(hex(encodeConfState({ voters: [1n, 2n], learners: [3n] })), '08010802100328' + '00');
    assert.equal(hex(encodeConfState({ voters: [], learners: [] })), '2800');
    assert.equal(hex(encodeHardState({ term: 5, vote: 0n, commit: 9 })), '080510001809');
  });

  test('random messages, entries, snapshots, conf and hard states round-trip', () => {
    const rnd = seededRandom(11);
    for (let i = 0; i < 500; i++) {
      const m = randomMessage(rnd);
      assert.deepEqual(decodeMessage(encodeMessage(m)), m);
    }
    for (let i = 0; i < 100; i++) {
      const e = randomEntry(rnd);
      assert.deepEqual(decodeEntry(encodeEntry(e)), e);
      const s = randomSnapshot(rnd);
      assert.deepEqual(decodeSnapshot(encodeSnapshot(s)), s);
      const cs = randomConfState(rnd);
      assert.deepEqual(decodeConfState(encodeConfState(cs)), cs);
      const hs = randomHardState(rnd);
      assert.deepEqual(decodeHardState(encodeHardState(hs)), hs);
    }
  });

  test('ids use all 64 bits both ways', () => {
    const m = message({ to: (1n << 64n) - 1n, from: 1n << 63n });
    const back = decodeMessage(encodeMessage(m));
    assert.equal(back.to, (1n << 64n) - 1n);
    assert.equal(back.from, 1n << 63n);
    assert.throws(() => encodeMessage(message({ to: 1n << 64n })), WireError);
    assert.throws(() => encodeMessage(message({ term: -1 })), WireError);
  });
});

describe('raftpb: decoding accepts what Go accepts and refuses the rest clearly', () => {
  test('packed ids, unknown fields and groups are accepted', () => {
    // voters packed [1,2,3], learners packed [1,2], auto_leave false
    assert.deepEqual(decodeConfState(unhex('0a03010203120201022800')), {
      voters: [1n, 2n, 3n],
      learners: [1n, 2n],
    });
    // type 1, term 2, index 3, data "z", unknown field 19 varint, unknown group 11 { field 1 varint } end
    assert.deepEqual(decodeEntry(unhex('08011002180322017a9801055b08015c')), {
      type: EntryType.ConfChange,
      term: 2,
      index: 3,
      data: utf8.encode('z'),
    });
  });

  test('repeated snapshot fields merge as in Go; the empty snapshot decodes as none', () => {
    const hb = decodeMessage(encodeMessage(message({})));
    assert.equal(hb.snapshot, undefined);
    assert.equal(hb.context, undefined);
    const base = encodeMessage(message({}));
    // A second snapshot field carrying only index 5: merged into the first.
    const extra = unhex('4a04120210' + '05');
    const merged = decodeMessage(Uint8Array.from([...base, ...extra]));
    assert.equal(merged.snapshot?.metadata.index, 5);
  });

  test('malformed input is a WireError that says what is wrong', () => {
    const good = encodeMessage(message({ type: MessageType.App, entries: [randomEntry(seededRandom(1))] }));
    assert.throws(() => decodeMessage(good.subarray(0, good.length - 1)), /unexpected end/);
    assert.throws(() => decodeMessage(unhex('0a00')), /wrong wireType = 2 for field Type/);
    assert.throws(() => decodeMessage(unhex('0000')), /illegal tag 0/);
    assert.throws(() => decodeMessage(unhex('0c')), /end group/);
    assert.throws(() => decodeMessage(unhex('6f')), /illegal wireType 7/);
    assert.throws(() => decodeMessage(unhex('08ffffffffffffffffffff01')), /integer overflow/);
    assert.throws(() => decodeMessage(unhex('0813')), /unknown message type 19/);
    for (const bad of ['0a00', '0000', '0c', '0f']) assert.throws(() => decodeMessage(unhex(bad)), WireError);
  });

  test('EntryConfChangeV2, terms and indexes above 2^53-1 and joint conf states are refused', () => {
    assert.throws(() => decodeEntry(unhex('080210011802')), /EntryConfChangeV2/);
    assert.throws(() => decodeEntry(unhex('0800108080808080808010')), /exceeds 2\^53-1/);
    assert.deepEqual(decodeEntry(unhex('080010ffffffffffffff0f')).term, Number.MAX_SAFE_INTEGER);
    assert.throws(() => decodeConfState(unhex('08011802')), /joint consensus/);
    assert.throws(() => decodeConfState(unhex('08012801')), /joint consensus/);
  });
});

describe("etcd's snap file (snappb) and a real etcd 3.4 snapshot", () => {
  test('the fixture written by etcd 3.4 decodes: crc, metadata, conf state, v2 JSON', () => {
    const s = decodeEtcdSnapFile(new Uint8Array(readFileSync(fixturePath('member.snap'))));
    assert.equal(s.metadata.index, 18);
    assert.equal(s.metadata.term, 2);
    assert.deepEqual(s.metadata.confState, {
      voters: [0x2cf6a886065973f0n],
      learners: [0x9a5f98afc7a5368en],
    });
    assert.ok(new TextDecoder().decode(s.data).startsWith('{"Root":{"Path":"/"'));
    // Our encoder writes the same bytes back.
    assert.deepEqual(encodeEtcdSnapFile(s), new Uint8Array(readFileSync(fixturePath('member.snap'))));
  });

  test('a flipped bit fails the checksum', () => {
    const file = new Uint8Array(readFileSync(fixturePath('member.snap')));
    file[file.length - 100]! ^= 1;
    assert.throws(() => decodeEtcdSnapFile(file), /crc mismatch/);
    assert.throws(() => decodeEtcdSnapFile(new Uint8Array(0)), /empty snapshot/);
  });
});
