/**
 * Statuses for broken request bodies, as grpc-go (and so etcd) answers them; checked
 * against a real etcd 3.4 on the wire (test/robustness/client-port-fuzz.test.ts asserts
 * the same answers from an etcd-ts process).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PutRequest, PutResponse } from '../../pb/etcdserverpb/rpc.js';
import { type RegisteredMethod, ServerCall } from './call.js';
import { frameBytes } from './framing.js';
import type { StatusCode } from './status.js';
import type { CallEvents, CallStream } from './transport.js';

class RecordingStream implements CallStream {
  closed = false;
  bufferedBytes = 0;
  status: { code: StatusCode; message: string } | undefined;
  events: CallEvents | undefined;
  respondUnary(): void {
    this.closed = true;
    this.status = { code: 0, message: '' };
  }
  writeMessage(): boolean {
    return true;
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
  finish(code: StatusCode, message: string): void {
    this.closed = true;
    this.status = { code, message };
  }
  pause(): void {}
  resume(): void {}
  attach(events: CallEvents): void {
    this.events = events;
  }
}

const PUT: RegisteredMethod<PutRequest, PutResponse> = {
  path: '/etcdserverpb.KV/Put',
  kind: 'unary',
  requestCodec: PutRequest,
  responseCodec: PutResponse,
  handler: () => PutResponse.fromPartial({}),
};

function call(...chunks: Buffer[]): { code: StatusCode; message: string } | undefined {
  const stream = new RecordingStream();
  const limits = { maxReceiveMessageBytes: 1024, maxPendingResponseBytes: 1 << 20, requestQueueHighWater: 4 };
  new ServerCall(stream, {}, PUT, limits, undefined).start();
  for (const c of chunks) stream.events?.onData(c);
  stream.events?.onEnd();
  return stream.status;
}

test('a message cut short by the end of the stream: UNKNOWN "unexpected EOF"', () => {
  assert.deepEqual(call(frameBytes(Buffer.from('0a0161', 'hex')).subarray(0, 6)), {
    code: 2,
    message: 'unexpected EOF',
  });
  assert.deepEqual(call(Buffer.from([0, 0])), { code: 2, message: 'unexpected EOF' });
});

test('no message at all: UNKNOWN "EOF"', () => {
  assert.deepEqual(call(), { code: 2, message: 'EOF' });
});

test('an undecodable message: INTERNAL with Go decoder wording for a cut-short field', () => {
  assert.deepEqual(call(frameBytes(Buffer.from([0x0a, 0xff, 0x01]))), {
    code: 13,
    message: 'grpc: error unmarshalling request: unexpected EOF',
  });
});

test('oversized and compressed messages keep grpc-go wording', () => {
  const big = Buffer.from([0, 0, 0, 0x10, 0]);
  assert.deepEqual(call(big), { code: 8, message: 'grpc: received message larger than max (4096 vs. 1024)' });
  assert.deepEqual(call(Buffer.from([1, 0, 0, 0, 0])), {
    code: 13,
    message: 'grpc: compressed flag set with identity or empty encoding',
  });
});
