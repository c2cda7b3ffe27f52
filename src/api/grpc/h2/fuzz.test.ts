/**
 * In-process fuzzing of the HTTP/2 frame parser and the HPACK decoder with seeded
 * random input. Whatever the bytes, the only allowed outcomes are: frames served,
 * or a protocol error (GOAWAY with a code other than INTERNAL_ERROR, or HpackError).
 * An exception escaping, an INTERNAL_ERROR (an unexpected throw inside the parser),
 * malformed output or an endless loop fails the test; the seed is in the message.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CallEvents } from '../transport.js';
import { Connection, type H2Limits, type H2Stream } from './connection.js';
import { ErrorCode, FrameType } from './frames.js';
import { HpackDecoder, HpackError } from './hpack.js';
import {
  FakeSocket,
  frame,
  grpcMessage,
  PREFACE,
  Prng,
  parseFrames,
  randomFrame,
  randomHpack,
  requestHeaderBlock,
} from './test-support.js';

const LIMITS: H2Limits = {
  streamWindowBytes: 65_535,
  connectionWindowBytes: 1 << 20,
  maxConcurrentStreams: 16,
  maxHeaderListBytes: 16 * 1024,
  streamHighWaterBytes: 64 * 1024,
};

/** A call that answers, fails, or throws, as the PRNG decides. */
function fuzzDispatcher(rng: Prng): { dispatch(stream: H2Stream, headers: Record<string, string>): void } {
  return {
    dispatch(stream) {
      const r = rng.int(6);
      if (r === 0) {
        stream.finish(13, 'fuzz: refused');
        return;
      }
      if (r === 1) throw new Error('fuzz: handler bug in dispatch');
      const events: CallEvents = {
        onData: () => {
          if (rng.chance(0.1)) throw new Error('fuzz: handler bug in onData');
          if (rng.chance(0.1)) stream.writeMessage(grpcMessage(rng.bytes(rng.int(70_000))));
        },
        onEnd: () => {
          if (rng.chance(0.1)) throw new Error('fuzz: handler bug in onEnd');
          stream.respondUnary(grpcMessage(rng.bytes(rng.int(100))));
        },
        onClose: () => {
          if (rng.chance(0.1)) throw new Error('fuzz: handler bug in onClose');
        },
      };
      stream.attach(events);
    },
  };
}

interface SessionResult {
  goawayCode: number | undefined;
  closed: boolean;
}

/** Feeds `input` in random chunks to a fresh connection and checks what comes out. */
function runSession(seed: number, input: Buffer, rng: Prng): SessionResult {
  const socket = new FakeSocket();
  const conn = new Connection(socket.asSocket(), fuzzDispatcher(rng), LIMITS);
  conn.start();
  const startedAt = performance.now();
  let off = 0;
  while (off < input.length && !socket.destroyed) {
    const n = 1 + rng.int(rng.chance(0.5) ? 16 : 4096);
    socket.emit('data', input.subarray(off, off + n));
    off += n;
  }
  // Every parser loop consumes input, so a session can only be slow, never endless; slow is a bug too.
  const elapsedMs = performance.now() - startedAt;
  assert.ok(elapsedMs < 1000, `seed ${seed}: ${input.length} bytes took ${elapsedMs.toFixed(0)} ms`);
  const out = Buffer.concat(socket.written);
  const { frames, rest } = parseFrames(out);
  assert.equal(rest.length, 0, `seed ${seed}: server wrote a partial frame`);
  for (const f of frames) assert.ok(f.payload.length <= 16_384, `seed ${seed}: oversized frame from server`);
  const goaway = frames.find((f) => f.type === FrameType.GOAWAY);
  const code = goaway?.payload.readUInt32BE(4);
  assert.notEqual(
    code,
    ErrorCode.INTERNAL_ERROR,
    `seed ${seed}: parser threw unexpectedly (GOAWAY INTERNAL_ERROR)`,
  );
  if (goaway) assert.ok(socket.destroyed, `seed ${seed}: GOAWAY on error but the socket stays open`);
  conn.destroy();
  return { goawayCode: code, closed: socket.destroyed };
}

describe('fuzz: HTTP/2 connection parser', () => {
  test('random frames after a proper preface never escape as exceptions or INTERNAL_ERROR', () => {
    const codes = new Map<number | undefined, number>();
    for (let seed = 1; seed <= 3000; seed++) {
      const rng = new Prng(seed);
      const nextId = { id: 1 };
      const parts = [PREFACE, frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(0))];
      const count = 1 + rng.int(30);
      for (let i = 0; i < count; i++) parts.push(randomFrame(rng, nextId));
      try {
        const r = runSession(seed, Buffer.concat(parts), rng);
        codes.set(r.goawayCode, (codes.get(r.goawayCode) ?? 0) + 1);
      } catch (err) {
        throw new Error(`seed ${seed}: ${(err as Error).stack}`);
      }
    }
    // The fuzzer must reach both outcomes, or it tests nothing.
    assert.ok((codes.get(undefined) ?? 0) > 100, `too few sessions survived: ${[...codes]}`);
    assert.ok((codes.get(ErrorCode.PROTOCOL_ERROR) ?? 0) > 100, `too few protocol errors: ${[...codes]}`);
    assert.ok((codes.get(ErrorCode.COMPRESSION_ERROR) ?? 0) > 10, `too few HPACK errors: ${[...codes]}`);
  });

  test('pure random bytes after the preface (and a mutated preface) are handled', () => {
    for (let seed = 10_001; seed <= 12_000; seed++) {
      const rng = new Prng(seed);
      const head = Buffer.from(PREFACE);
      if (rng.chance(0.3)) head[rng.int(head.length)] = rng.int(256);
      try {
        runSession(seed, Buffer.concat([head, rng.bytes(rng.int(300))]), rng);
      } catch (err) {
        throw new Error(`seed ${seed}: ${(err as Error).stack}`);
      }
    }
  });

  test('mutated valid sessions (bit flips in real traffic) are handled', () => {
    for (let seed = 20_001; seed <= 23_000; seed++) {
      const rng = new Prng(seed);
      const parts = [PREFACE, frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(0))];
      for (let id = 1; id < 12; id += 2) {
        parts.push(frame(FrameType.HEADERS, 0x4, id, requestHeaderBlock('/etcdserverpb.KV/Put')));
        parts.push(frame(FrameType.DATA, 0x1, id, grpcMessage(rng.bytes(rng.int(50)))));
      }
      const input = Buffer.concat(parts);
      const flips = 1 + rng.int(4);
      for (let i = 0; i < flips; i++) {
        const at = PREFACE.length + rng.int(input.length - PREFACE.length);
        input[at] = input[at]! ^ (1 << rng.int(8));
      }
      try {
        runSession(seed, input, rng);
      } catch (err) {
        throw new Error(`seed ${seed}: ${(err as Error).stack}`);
      }
    }
  });
});

describe('fuzz: HPACK decoder', () => {
  test('random and mutated header blocks decode or throw HpackError, nothing else', () => {
    const valid = requestHeaderBlock('/etcdserverpb.KV/Range', [['grpc-timeout', '5S']]);
    let errors = 0;
    for (let seed = 1; seed <= 20_000; seed++) {
      const rng = new Prng(seed);
      const decoder = new HpackDecoder(4096, 8 * 1024);
      let block: Buffer;
      const kind = rng.int(3);
      if (kind === 0) block = rng.bytes(rng.int(64));
      else if (kind === 1) block = randomHpack(rng);
      else {
        block = Buffer.from(valid);
        block[rng.int(block.length)] = rng.int(256);
        if (rng.chance(0.3)) block = block.subarray(0, rng.int(block.length));
      }
      try {
        decoder.decode(block, {});
        // A decoder that survived an error-free block must still decode a proper one.
        const out: Record<string, string> = {};
        decoder.decode(valid, out);
        assert.equal(out[':path'], '/etcdserverpb.KV/Range', `seed ${seed}`);
      } catch (err) {
        if (!(err instanceof HpackError)) throw new Error(`seed ${seed}: ${(err as Error).stack}`);
        errors++;
      }
    }
    assert.ok(errors > 1000, `fuzzer produced only ${errors} errors`);
  });
});
