/**
 * One test per robustness bug fixed in connection.ts, on an in-memory socket: protocol
 * errors get RFC 9113's code, stream errors stay on their stream, call code that throws
 * cannot take the connection down, and every source of unbounded work is bounded.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CallEvents } from '../transport.js';
import { Connection, type H2Limits, type H2Stream, type StreamDispatcher } from './connection.js';
import { ErrorCode, FrameType } from './frames.js';
import { FakeSocket, frame, grpcMessage, PREFACE, requestHeaderBlock } from './test-support.js';

const LIMITS: H2Limits = {
  streamWindowBytes: 65_535,
  connectionWindowBytes: 1 << 20,
  maxConcurrentStreams: 100,
  maxHeaderListBytes: 64 * 1024,
  streamHighWaterBytes: 64 * 1024,
};
const SETTINGS = frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(0));
const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};
const setting = (key: number, value: number): Buffer => {
  const b = Buffer.alloc(6);
  b.writeUInt16BE(key);
  b.writeUInt32BE(value >>> 0, 2);
  return b;
};
const headers = (id: number, endStream = false): Buffer =>
  frame(FrameType.HEADERS, 0x4 | (endStream ? 1 : 0), id, requestHeaderBlock('/etcdserverpb.KV/Range'));
/** Deferred writes (PING ACKs) leave two check phases later. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

/** A dispatcher whose calls answer every request with an empty message. */
function echoDispatcher(opened: number[] = []): StreamDispatcher {
  return {
    dispatch(stream: H2Stream) {
      opened.push(stream.id);
      const events: CallEvents = {
        onData: () => {},
        onEnd: () => stream.respondUnary(grpcMessage(Buffer.alloc(0))),
        onClose: () => {},
      };
      stream.attach(events);
    },
  };
}

function open(
  limits: Partial<H2Limits> = {},
  dispatcher = echoDispatcher(),
): {
  socket: FakeSocket;
  conn: Connection;
  feed: (...parts: Buffer[]) => void;
  goaway: () => number | undefined;
} {
  const socket = new FakeSocket();
  const conn = new Connection(socket.asSocket(), dispatcher, { ...LIMITS, ...limits });
  conn.start();
  const feed = (...parts: Buffer[]): void => {
    socket.emit('data', Buffer.concat(parts));
  };
  const goaway = (): number | undefined =>
    socket
      .frames()
      .find((f) => f.type === FrameType.GOAWAY)
      ?.payload.readUInt32BE(4);
  return { socket, conn, feed, goaway };
}

/** Opens a connection, sends `parts` after a proper preface, returns the GOAWAY code. */
function goawayFor(...parts: Buffer[]): number | undefined {
  const s = open();
  s.feed(PREFACE, SETTINGS, ...parts);
  if (s.goaway() !== undefined) assert.ok(s.socket.destroyed, 'closed after GOAWAY');
  s.conn.destroy();
  return s.goaway();
}

describe('connection robustness fixes', () => {
  test('bytes arriving after a connection error do not open calls', () => {
    const opened: number[] = [];
    const s = open({}, echoDispatcher(opened));
    s.feed(PREFACE, SETTINGS, frame(FrameType.PING, 0, 0, Buffer.alloc(7)));
    assert.equal(s.goaway(), ErrorCode.FRAME_SIZE_ERROR);
    s.feed(headers(1, true));
    assert.deepEqual(opened, []);
  });

  test('the client preface must end with SETTINGS', () => {
    const s = open();
    s.feed(PREFACE, headers(1, true));
    assert.equal(s.goaway(), ErrorCode.PROTOCOL_ERROR);
    const ack = open();
    ack.feed(PREFACE, frame(FrameType.SETTINGS, 1, 0, Buffer.alloc(0)));
    assert.equal(ack.goaway(), ErrorCode.PROTOCOL_ERROR);
  });

  test('a connection that never sends SETTINGS is dropped after the timeout; one that does is kept', async () => {
    const silent = open({ settingsTimeoutMs: 30 });
    silent.feed(PREFACE);
    const polite = open({ settingsTimeoutMs: 30 });
    polite.feed(PREFACE, SETTINGS);
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal(silent.goaway(), ErrorCode.PROTOCOL_ERROR);
    assert.ok(silent.socket.destroyed);
    assert.equal(polite.goaway(), undefined);
    assert.equal(polite.socket.destroyed, false);
    polite.conn.destroy();
  });

  test('a CONTINUATION flood (empty frames) is ENHANCE_YOUR_CALM', () => {
    const empties = Array.from({ length: 1100 }, () => frame(FrameType.CONTINUATION, 0, 1, Buffer.alloc(0)));
    assert.equal(
      goawayFor(frame(FrameType.HEADERS, 0, 1, Buffer.from([0x83])), ...empties),
      ErrorCode.ENHANCE_YOUR_CALM,
    );
  });

  test('reading stops while our write buffer is above the high-water mark, resumes on drain', async () => {
    const s = open({ outputHighWaterBytes: 1000 });
    s.feed(PREFACE, SETTINGS);
    s.socket.writableLength = 5000; // the peer is not reading
    s.feed(frame(FrameType.PING, 0, 0, Buffer.alloc(8)));
    await settle();
    assert.equal(s.socket.paused, true);
    s.socket.writableLength = 0;
    s.socket.emit('drain');
    assert.equal(s.socket.paused, false);
    s.conn.destroy();
  });

  test('WINDOW_UPDATE: 0 on an open stream resets it; on an idle stream it is a connection error', () => {
    const s = open();
    s.feed(PREFACE, SETTINGS, headers(1), frame(FrameType.WINDOW_UPDATE, 0, 1, u32(0)));
    const rst = s.socket.frames().find((f) => f.type === FrameType.RST_STREAM && f.id === 1);
    assert.equal(rst?.payload.readUInt32BE(0), ErrorCode.PROTOCOL_ERROR);
    assert.equal(s.goaway(), undefined);
    s.conn.destroy();
    assert.equal(goawayFor(frame(FrameType.WINDOW_UPDATE, 0, 9, u32(1))), ErrorCode.PROTOCOL_ERROR);
  });

  test('RST_STREAM on stream 0 or an idle stream is PROTOCOL_ERROR', () => {
    assert.equal(goawayFor(frame(FrameType.RST_STREAM, 0, 0, u32(8))), ErrorCode.PROTOCOL_ERROR);
    assert.equal(goawayFor(frame(FrameType.RST_STREAM, 0, 5, u32(8))), ErrorCode.PROTOCOL_ERROR);
  });

  test('SETTINGS: ACK with payload, bad length, ENABLE_PUSH > 1, window overflow on an open stream', () => {
    assert.equal(goawayFor(frame(FrameType.SETTINGS, 1, 0, Buffer.alloc(6))), ErrorCode.FRAME_SIZE_ERROR);
    assert.equal(goawayFor(frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(5))), ErrorCode.FRAME_SIZE_ERROR);
    assert.equal(goawayFor(frame(FrameType.SETTINGS, 0, 0, setting(2, 2))), ErrorCode.PROTOCOL_ERROR);
    assert.equal(
      goawayFor(
        headers(1),
        frame(FrameType.WINDOW_UPDATE, 0, 1, u32(0x7fffffff - 65_535)),
        frame(FrameType.SETTINGS, 0, 0, setting(4, 0x7fffffff)),
      ),
      ErrorCode.FLOW_CONTROL_ERROR,
    );
  });

  test('PING or GOAWAY on a stream, short GOAWAY, truncated HEADERS priority', () => {
    assert.equal(goawayFor(frame(FrameType.PING, 0, 1, Buffer.alloc(8))), ErrorCode.PROTOCOL_ERROR);
    assert.equal(goawayFor(frame(FrameType.GOAWAY, 0, 1, Buffer.alloc(8))), ErrorCode.PROTOCOL_ERROR);
    assert.equal(goawayFor(frame(FrameType.GOAWAY, 0, 0, Buffer.alloc(4))), ErrorCode.FRAME_SIZE_ERROR);
    assert.equal(
      goawayFor(frame(FrameType.HEADERS, 0x24, 1, Buffer.from([0, 0]))),
      ErrorCode.FRAME_SIZE_ERROR,
    );
  });

  test('call code that throws resets only its stream (INTERNAL_ERROR); the connection serves on', async () => {
    for (const where of ['dispatch', 'onData', 'onEnd'] as const) {
      const dispatcher: StreamDispatcher = {
        dispatch(stream) {
          if (stream.id === 1 && where === 'dispatch') throw new Error('bug');
          stream.attach({
            onData: () => {
              if (stream.id === 1 && where === 'onData') throw new Error('bug');
            },
            onEnd: () => {
              if (stream.id === 1 && where === 'onEnd') throw new Error('bug');
              stream.respondUnary(grpcMessage(Buffer.alloc(0)));
            },
            onClose: () => {
              throw new Error('cleanup bug');
            },
          });
        },
      };
      const s = open({}, dispatcher);
      s.feed(PREFACE, SETTINGS, headers(1), frame(FrameType.DATA, 1, 1, grpcMessage(Buffer.alloc(1))));
      s.feed(headers(3), frame(FrameType.DATA, 1, 3, grpcMessage(Buffer.alloc(1))));
      await settle();
      const frames = s.socket.frames();
      const rst = frames.find((f) => f.type === FrameType.RST_STREAM && f.id === 1);
      assert.equal(rst?.payload.readUInt32BE(0), ErrorCode.INTERNAL_ERROR, where);
      assert.ok(
        frames.some((f) => f.type === FrameType.HEADERS && f.id === 3 && f.flags & 1),
        `${where}: stream 3 answered`,
      );
      assert.equal(s.goaway(), undefined, where);
      s.conn.destroy(); // onClose throws for open streams: must not escape either
    }
  });

  test('rapid reset: resets of calls still running beyond the budget close the connection', () => {
    const burst = (from: number, n: number): Buffer[] =>
      Array.from({ length: n }, (_, i) => [
        headers(from + 2 * i),
        frame(FrameType.RST_STREAM, 0, from + 2 * i, u32(ErrorCode.CANCEL)),
      ]).flat();
    const calm = open({ clientResetBudget: 10 });
    calm.feed(PREFACE, SETTINGS, ...burst(1, 10));
    assert.equal(calm.goaway(), undefined);
    // Resets of streams we already answered cost nothing.
    for (let id = 21; id < 61; id += 2) {
      calm.feed(headers(id, true));
      calm.feed(frame(FrameType.RST_STREAM, 0, id, u32(ErrorCode.CANCEL)));
    }
    assert.equal(calm.goaway(), undefined);
    calm.conn.destroy();
    const storm = open({ clientResetBudget: 10 });
    storm.feed(PREFACE, SETTINGS, ...burst(1, 11));
    assert.equal(storm.goaway(), ErrorCode.ENHANCE_YOUR_CALM);
  });
});
