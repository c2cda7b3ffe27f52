import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Message, MessageType } from '../../raft/types.js';
import { seededRandom } from '../../util/seeded-random.js';
import { WireError } from './gogo-wire.js';
import {
  encodeMessageFrame,
  isLinkHeartbeat,
  LINK_HEARTBEAT_FRAME,
  linkHeartbeatMessage,
  MessageStreamDecoder,
} from './message-stream.js';
import { capturedStream, hex, int, randomMessage, unhex } from './testkit.js';

/** Captured from etcd 3.4.23 on the message stream (reference §5). */
const OBSERVED_HEARTBEAT_FRAME =
  '000000000000001e 0808 1000 1800 2000 2800 3000 4000 4a0a12080a02280010001800 5000 5800';

function concat(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

/** Feeds `bytes` to a fresh decoder in chunks ending at `cuts`; returns all decoded messages. */
function decodeInChunks(bytes: Uint8Array, cuts: number[]): Message[] {
  const d = new MessageStreamDecoder();
  const out: Message[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...d.push(bytes.slice(start, cut)));
    start = cut;
  }
  return out;
}

describe('message stream framing', () => {
  test('the link heartbeat frame is the 38 bytes etcd 3.4 sends', () => {
    assert.equal(LINK_HEARTBEAT_FRAME.length, 38);
    assert.equal(hex(LINK_HEARTBEAT_FRAME), OBSERVED_HEARTBEAT_FRAME.replaceAll(' ', ''));
    const [m] = new MessageStreamDecoder().push(unhex(OBSERVED_HEARTBEAT_FRAME.replaceAll(' ', '')));
    assert.ok(m !== undefined && isLinkHeartbeat(m));
    assert.equal(m.type, MessageType.Heartbeat);
    assert.equal(m.from, 0n);
    assert.equal(m.to, 0n);
    assert.equal(isLinkHeartbeat({ ...linkHeartbeatMessage(), from: 1n }), false);
  });

  test('frames split at every byte boundary decode the same', () => {
    const rnd = seededRandom(5);
    const msgs = [randomMessage(rnd), linkHeartbeatMessage(), randomMessage(rnd)];
    const bytes = concat(msgs.map(encodeMessageFrame));
    for (let cut = 0; cut <= bytes.length; cut++) assert.deepEqual(decodeInChunks(bytes, [cut]), msgs);
    assert.deepEqual(
      decodeInChunks(
        bytes,
        Array.from({ length: bytes.length }, (_, i) => i),
      ),
      msgs,
    );
  });

  test('a long stream in random chunks', () => {
    const rnd = seededRandom(6);
    const msgs = Array.from({ length: 300 }, () => randomMessage(rnd));
    const bytes = concat(msgs.map(encodeMessageFrame));
    const cuts: number[] = [];
    for (let at = int(rnd, 50); at < bytes.length; at += 1 + int(rnd, 400)) cuts.push(at);
    assert.deepEqual(decodeInChunks(bytes, cuts), msgs);
  });

  test('a length above 512 MiB is refused; 512 MiB exactly waits for the body', () => {
    const d = new MessageStreamDecoder();
    assert.deepEqual(d.push(unhex('0000000020000000')), []);
    assert.throws(
      () => new MessageStreamDecoder().push(unhex('0000000020000001')),
      (e) => {
        return e instanceof WireError && /512 MiB/.test(e.message);
      },
    );
  });

  test('a corrupt body is a WireError', () => {
    assert.throws(() => new MessageStreamDecoder().push(unhex('0000000000000002ffff')), WireError);
  });

  test('a real etcd 3.4 message stream (leader to learner) decodes and re-encodes byte for byte', () => {
    const { bytes, leader, learner } = capturedStream('message');
    const msgs = decodeInChunks(bytes, [1, 9, 100, 101, 1000]);
    assert.ok(msgs.length > 20);
    const heartbeats = msgs.filter(isLinkHeartbeat);
    assert.ok(heartbeats.length >= 1, 'link heartbeats were captured');
    for (const m of msgs.filter((m) => !isLinkHeartbeat(m))) {
      assert.equal(m.type, MessageType.Heartbeat);
      assert.equal(m.from, leader);
      assert.equal(m.to, learner);
    }
    assert.deepEqual(concat(msgs.map(encodeMessageFrame)), bytes);
  });
});
