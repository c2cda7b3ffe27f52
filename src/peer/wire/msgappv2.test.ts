import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeConfChange } from '../../raft/confchange-codec.js';
import { type Entry, EntryType, type Message, MessageType } from '../../raft/types.js';
import { classifyNormalEntry, decodeV2Request } from '../../server/v2/request.js';
import { seededRandom } from '../../util/seeded-random.js';
import { WireError } from './gogo-wire.js';
import { isLinkHeartbeat, linkHeartbeatMessage } from './message-stream.js';
import { MsgAppV2Decoder, MsgAppV2Encoder } from './msgappv2.js';
import { encodeEntry, encodeMessage } from './raftpb.js';
import { capturedStream, hex, int, randomBytes, unhex } from './testkit.js';

const LEADER = 0x2cf6a886065973f0n;
const FOLLOWER = 0x9a5f98afc7a5368en;

function app(fields: Partial<Message>): Message {
  return {
    type: MessageType.App,
    to: FOLLOWER,
    from: LEADER,
    term: 2,
    logTerm: 2,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    ...fields,
  };
}

function entry(index: number, data: Uint8Array, term = 2): Entry {
  return { term, index, type: EntryType.Normal, data };
}

function u64(n: number): string {
  return n.toString(16).padStart(16, '0');
}

describe('msgappv2 stream codec', () => {
  test('the first MsgApp goes out whole (type 2); the next consecutive one as type 1, as observed', () => {
    const enc = new MsgAppV2Encoder();
    const first = app({
      index: 20,
      logTerm: 2,
      entries: [entry(21, randomBytes(seededRandom(1), 30, false))],
      commit: 21,
    });
    const body = encodeMessage(first);
    assert.equal(hex(enc.encode(first)), `02${u64(body.length)}${hex(body)}`);
    // The observed frame: 01 ‖ n=1 ‖ size=0x1f ‖ <31-byte Entry> ‖ commit=22.
    const e = entry(22, new Uint8Array(23).fill(7));
    const eb = encodeEntry(e);
    assert.equal(eb.length, 31);
    const next = app({ index: 21, logTerm: 2, entries: [e], commit: 22 });
    assert.equal(hex(enc.encode(next)), `01${u64(1)}${u64(0x1f)}${hex(eb)}${u64(0x16)}`);
  });

  test('type 1 is used only when index, logTerm and term continue the connection state', () => {
    const enc = new MsgAppV2Encoder();
    const typeOf = (m: Message) => enc.encode(m)[0];
    assert.equal(typeOf(app({ index: 0, logTerm: 0, term: 0 })), 1); // (0,0) on a fresh connection
    assert.equal(typeOf(app({ index: 5, logTerm: 2, entries: [entry(6, new Uint8Array(0))] })), 2);
    assert.equal(typeOf(app({ index: 6, logTerm: 2, entries: [entry(7, new Uint8Array(0))] })), 1);
    assert.equal(typeOf(app({ index: 7, logTerm: 1, term: 2 })), 2); // logTerm != term
    assert.equal(typeOf(app({ index: 7, logTerm: 2, term: 2 })), 1); // that type 2 set the state to (2, 7)
    assert.equal(typeOf(app({ type: MessageType.Heartbeat, index: 7 })), 2); // only MsgApp as type 1
    assert.equal(hex(enc.encode(linkHeartbeatMessage())), '00');
    assert.equal(hex(enc.heartbeat()), '00');
  });

  test('type 1 frames are rebuilt from the connection state and the stream ids', () => {
    const dec = new MsgAppV2Decoder(FOLLOWER, LEADER);
    const first = app({ index: 4, logTerm: 2, entries: [entry(5, Uint8Array.of(1))], commit: 4 });
    const e = entry(6, Uint8Array.of(2, 3));
    const eb = encodeEntry(e);
    const frames = unhex(
      `02${u64(encodeMessage(first).length)}${hex(encodeMessage(first))}` +
        `01${u64(1)}${u64(eb.length)}${hex(eb)}${u64(6)}` +
        `00` +
        `01${u64(0)}${u64(6)}`,
    );
    const got = dec.push(frames);
    assert.equal(got.length, 4);
    assert.deepEqual(got[0], first);
    assert.deepEqual(got[1], app({ index: 5, logTerm: 2, term: 2, entries: [e], commit: 6 }));
    assert.ok(isLinkHeartbeat(got[2]!));
    assert.deepEqual(got[3], app({ index: 6, logTerm: 2, term: 2, commit: 6 }));
  });

  test('a replicated log round-trips through encoder and decoder, split at any byte', () => {
    const rnd = seededRandom(3);
    const msgs: Message[] = [];
    let index = 10;
    let term = 1;
    for (let i = 0; i < 60; i++) {
      if (int(rnd, 6) === 0) term++; // new leader term: the log term no longer continues
      if (int(rnd, 8) === 0) index = Math.max(0, index - int(rnd, 5)); // a probe / retransmission
      const entries = Array.from({ length: int(rnd, 4) }, (_, k) =>
        entry(index + 1 + k, randomBytes(rnd, 20), term),
      );
      const logTerm = int(rnd, 5) === 0 ? Math.max(0, term - 1) : term;
      msgs.push(app({ term, logTerm, index, entries, commit: index }));
      if (int(rnd, 5) === 0) msgs.push(linkHeartbeatMessage());
      index += entries.length;
    }
    const enc = new MsgAppV2Encoder();
    const frames = msgs.map((m) => enc.encode(m));
    assert.ok(frames.some((f) => f[0] === 1) && frames.some((f) => f[0] === 2));
    const bytes = Uint8Array.from(frames.flatMap((f) => [...f]));
    for (const step of [1, 7, 64, bytes.length]) {
      const dec = new MsgAppV2Decoder(FOLLOWER, LEADER);
      const out: Message[] = [];
      for (let at = 0; at < bytes.length; at += step) out.push(...dec.push(bytes.slice(at, at + step)));
      assert.deepEqual(out, msgs, `chunks of ${step}`);
    }
  });

  test('an unknown frame type or a corrupt entry is a WireError', () => {
    assert.throws(() => new MsgAppV2Decoder(1n, 2n).push(Uint8Array.of(3)), /failed to parse type 3/);
    assert.throws(() => new MsgAppV2Decoder(1n, 2n).push(unhex(`01${u64(1)}${u64(2)}ffff`)), WireError);
    assert.throws(() => new MsgAppV2Decoder(1n, 2n).push(unhex(`02${u64(2 ** 30)}`)), /512 MiB/);
  });

  test('a real etcd 3.4 msgapp stream: decoded, and re-encoded to the same bytes (same type 1/2 choices)', () => {
    const { bytes, leader, learner } = capturedStream('msgapp');
    const dec = new MsgAppV2Decoder(learner, leader);
    const msgs: Message[] = [];
    for (let at = 0; at < bytes.length; at += 13) msgs.push(...dec.push(bytes.slice(at, at + 13)));
    assert.ok(msgs.some(isLinkHeartbeat));
    const apps = msgs.filter((m) => !isLinkHeartbeat(m));
    assert.ok(apps.every((m) => m.type === MessageType.App && m.from === leader && m.to === learner));
    const enc = new MsgAppV2Encoder();
    assert.deepEqual(Uint8Array.from(msgs.flatMap((m) => [...enc.encode(m)])), bytes);
    // What etcd put in the log: the bootstrap and learner conf changes, v2 publishes, v3 puts.
    const entries = apps.flatMap((m) => m.entries);
    const learnerAdd = entries.map((e) =>
      e.type === EntryType.ConfChange ? decodeConfChange(e.data) : undefined,
    );
    assert.ok(learnerAdd.some((cc) => cc?.nodeId === learner && cc.type === 3 && cc.id !== undefined));
    const normal = entries.filter((e) => e.type === EntryType.Normal && e.data.length > 0);
    const v2 = normal.filter((e) => classifyNormalEntry(e.data) === 'v2').map((e) => decodeV2Request(e.data));
    assert.ok(
      v2.some((r) => r.method === 'PUT' && r.path === `/0/members/${learner.toString(16)}/attributes`),
    );
    assert.ok(v2.some((r) => r.path === '/0/version' && r.val === '3.4.0'));
    assert.ok(normal.some((e) => classifyNormalEntry(e.data) === 'internal'));
  });
});
