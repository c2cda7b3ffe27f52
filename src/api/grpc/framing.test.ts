import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PutRequest } from '../../pb/etcdserverpb/rpc.js';
import { encodeFrame, FrameReader, frameBytes } from './framing.js';
import { GrpcError, Status } from './status.js';

function collect(reader: FrameReader, chunks: Buffer[]): string[] {
  const out: string[] = [];
  for (const chunk of chunks) reader.push(chunk, (payload) => out.push(payload.toString()));
  return out;
}

describe('FrameReader', () => {
  const stream = Buffer.concat([
    frameBytes(Buffer.from('hello')),
    frameBytes(Buffer.alloc(0)),
    frameBytes(Buffer.from('w')),
  ]);

  test('several messages in one chunk', () => {
    const reader = new FrameReader(100);
    assert.deepEqual(collect(reader, [stream]), ['hello', '', 'w']);
    assert.equal(reader.idle, true);
  });

  test('every split point, including inside headers', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const reader = new FrameReader(100);
      const got = collect(reader, [stream.subarray(0, cut), stream.subarray(cut)]);
      assert.deepEqual(got, ['hello', '', 'w'], `cut at ${cut}`);
      assert.equal(reader.idle, true);
    }
  });

  test('one byte at a time', () => {
    const reader = new FrameReader(100);
    const chunks = [...stream].map((b) => Buffer.from([b]));
    assert.deepEqual(collect(reader, chunks), ['hello', '', 'w']);
  });

  test('reports a partial frame as not idle', () => {
    const reader = new FrameReader(100);
    collect(reader, [stream.subarray(0, 7)]);
    assert.equal(reader.idle, false);
  });

  test('message larger than the limit is RESOURCE_EXHAUSTED before it is buffered', () => {
    const reader = new FrameReader(4);
    const header = frameBytes(Buffer.alloc(10)).subarray(0, 5);
    assert.throws(
      () => collect(reader, [header]),
      (err: unknown) =>
        err instanceof GrpcError &&
        err.code === Status.RESOURCE_EXHAUSTED &&
        err.message === 'grpc: received message larger than max (10 vs. 4)',
    );
  });

  test('compressed flag without an encoding is INTERNAL', () => {
    const frame = frameBytes(Buffer.from('x'));
    frame[0] = 1;
    assert.throws(
      () => collect(new FrameReader(100), [frame]),
      (err: unknown) => err instanceof GrpcError && err.code === Status.INTERNAL,
    );
  });
});

test('encodeFrame writes a correct header in front of the encoded message', () => {
  const msg = {
    key: Buffer.from('k'),
    value: Buffer.alloc(300, 1),
    lease: 5n,
    prevKv: false,
    ignoreValue: false,
    ignoreLease: false,
  };
  const frame = Buffer.from(encodeFrame(PutRequest, msg));
  const payload = PutRequest.encode(msg).finish();
  assert.equal(frame[0], 0);
  assert.equal(frame.readUInt32BE(1), payload.length);
  assert.deepEqual(frame.subarray(5), Buffer.from(payload));
});
