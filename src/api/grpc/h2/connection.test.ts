import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type Fixture, startFixture } from '../fixture.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

function frame(type: number, flags: number, id: number, payload: Buffer): Buffer {
  const f = Buffer.alloc(9 + payload.length);
  f.writeUIntBE(payload.length, 0, 3);
  f[3] = type;
  f[4] = flags;
  f.writeUInt32BE(id, 5);
  payload.copy(f, 9);
  return f;
}

interface Frame {
  type: number;
  flags: number;
  id: number;
  payload: Buffer;
}

/** Opens a raw HTTP/2 connection and collects the server's frames until it closes or `until` matches. */
function rawSession(
  port: number,
  send: Buffer[],
  until: (f: Frame) => boolean,
): Promise<{ frames: Frame[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const frames: Frame[] = [];
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ frames, closed });
    };
    socket.on('connect', () => socket.write(Buffer.concat([PREFACE, ...send])));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) break;
        const f = {
          type: buf[3]!,
          flags: buf[4]!,
          id: buf.readUInt32BE(5) & 0x7fffffff,
          payload: buf.subarray(9, 9 + len),
        };
        frames.push(f);
        buf = buf.subarray(9 + len);
        if (until(f)) finish(false);
      }
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', reject);
    setTimeout(() => finish(false), 3000);
  });
}

const EMPTY_SETTINGS = frame(4, 0, 0, Buffer.alloc(0));

describe('native HTTP/2 connection', () => {
  let fx: Fixture;
  before(async () => {
    fx = await startFixture('native');
  });
  after(() => fx.listener.close(true));

  test('sends SETTINGS, acknowledges ours and answers PING with the same payload', async () => {
    const ping = Buffer.from('12345678');
    const { frames } = await rawSession(
      fx.listener.port,
      [EMPTY_SETTINGS, frame(6, 0, 0, ping)],
      (f) => f.type === 6,
    );
    assert.equal(frames[0]?.type, 4, 'server SETTINGS first');
    assert.ok(
      frames.some((f) => f.type === 4 && f.flags === 1),
      'SETTINGS ACK',
    );
    const pong = frames.find((f) => f.type === 6);
    assert.equal(pong?.flags, 1);
    assert.deepEqual(pong?.payload, ping);
  });

  test('an undecodable header block is a connection error (GOAWAY COMPRESSION_ERROR), server survives', async () => {
    const badHeaders = frame(1, 0x4 | 0x1, 1, Buffer.from([0xbe])); // index 62: empty dynamic table
    const { frames, closed } = await rawSession(fx.listener.port, [EMPTY_SETTINGS, badHeaders], () => false);
    const goaway = frames.find((f) => f.type === 7);
    assert.ok(goaway, 'GOAWAY sent');
    assert.equal(goaway.payload.readUInt32BE(4), 9);
    assert.equal(closed, true);
    // The next connection is served normally.
    const { frames: next } = await rawSession(
      fx.listener.port,
      [EMPTY_SETTINGS],
      (f) => f.type === 4 && f.flags === 1,
    );
    assert.ok(next.some((f) => f.type === 4 && f.flags === 1));
  });

  test('a frame larger than SETTINGS_MAX_FRAME_SIZE is FRAME_SIZE_ERROR', async () => {
    const { frames } = await rawSession(
      fx.listener.port,
      [frame(0, 0, 1, Buffer.alloc(20000))],
      (f) => f.type === 7,
    );
    assert.equal(frames.find((f) => f.type === 7)?.payload.readUInt32BE(4), 6);
  });

  test('reusing a lower stream id is PROTOCOL_ERROR', async () => {
    // Literal :path (static name 4) "/a", content-type indexed literal — enough to open streams.
    const block = Buffer.from([0x83, 0x44, 0x02, 0x2f, 0x61]);
    const { frames } = await rawSession(
      fx.listener.port,
      [frame(1, 0x4, 5, block), frame(1, 0x4, 3, block)],
      (f) => f.type === 7,
    );
    assert.equal(frames.find((f) => f.type === 7)?.payload.readUInt32BE(4), 1);
  });
});
