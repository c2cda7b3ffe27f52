/**
 * Helpers for the HTTP/2 tests and fuzzers (here and in test/robustness): a seeded
 * PRNG, frame builders and parsers, and an in-memory socket that a Connection can
 * run on without the network.
 */
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { FrameType } from './frames.js';
import { encodeInt, encodeLiteral } from './hpack.js';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** mulberry32: small, fast, and the same sequence for the same seed on every run. */
export class Prng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1)) throw new RangeError(`Prng.int needs n >= 1, got ${n}`);
    return this.u32() % n;
  }

  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Prng.pick of nothing');
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

export function frame(type: number, flags: number, id: number, payload: Buffer): Buffer {
  const f = Buffer.alloc(9 + payload.length);
  f.writeUIntBE(payload.length, 0, 3);
  f[3] = type;
  f[4] = flags;
  f.writeUInt32BE(id >>> 0, 5);
  payload.copy(f, 9);
  return f;
}

export interface ParsedFrame {
  type: number;
  flags: number;
  id: number;
  payload: Buffer;
}

/** Splits a byte stream into frames; `rest` is an incomplete tail. */
export function parseFrames(buf: Buffer): { frames: ParsedFrame[]; rest: Buffer } {
  const frames: ParsedFrame[] = [];
  let off = 0;
  while (buf.length - off >= 9) {
    const len = buf.readUIntBE(off, 3);
    if (buf.length - off < 9 + len) break;
    frames.push({
      type: buf[off + 3]!,
      flags: buf[off + 4]!,
      id: buf.readUInt32BE(off + 5) & 0x7fffffff,
      payload: buf.subarray(off + 9, off + 9 + len),
    });
    off += 9 + len;
  }
  return { frames, rest: buf.subarray(off) };
}

/** A gRPC request header block (literals without indexing, no Huffman). */
export function requestHeaderBlock(
  path: string,
  extra: ReadonlyArray<readonly [string, string]> = [],
): Buffer {
  const out: number[] = [];
  out.push(0x83); // :method POST
  out.push(0x86); // :scheme http
  encodeLiteral(out, ':path', path);
  encodeLiteral(out, ':authority', 'localhost');
  for (const [name, value] of extra) encodeLiteral(out, name, value);
  if (!extra.some(([name]) => name === 'content-type'))
    encodeLiteral(out, 'content-type', 'application/grpc');
  encodeLiteral(out, 'te', 'trailers');
  return Buffer.from(out);
}

/** gRPC length-prefixed message. */
export function grpcMessage(payload: Buffer, compressed = false): Buffer {
  const m = Buffer.alloc(5 + payload.length);
  m[0] = compressed ? 1 : 0;
  m.writeUInt32BE(payload.length, 1);
  payload.copy(m, 5);
  return m;
}

/**
 * Enough of net.Socket for Connection: records what is written, lets the test set
 * the write backlog, and reports pause/resume.
 */
export class FakeSocket extends EventEmitter {
  readonly written: Buffer[] = [];
  destroyed = false;
  ended = false;
  paused = false;
  /** What Connection sees as unsent bytes in the write buffer. */
  writableLength = 0;

  setNoDelay(): this {
    return this;
  }

  resume(): this {
    this.paused = false;
    return this;
  }

  pause(): this {
    this.paused = true;
    return this;
  }

  write(data: Buffer): boolean {
    if (this.destroyed) throw new Error('write after destroy');
    this.written.push(Buffer.from(data));
    return true;
  }

  end(): this {
    this.ended = true;
    return this;
  }

  destroySoon(): void {
    this.destroy();
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.emit('close');
    return this;
  }

  /** Everything written so far as frames. */
  frames(): ParsedFrame[] {
    return parseFrames(Buffer.concat(this.written)).frames;
  }

  asSocket(): net.Socket {
    return this as unknown as net.Socket;
  }
}

const STREAM_IDS = [0, 1, 2, 3, 5, 7, 9, 11, 0x7fffffff, 0xffffffff];

/** A frame that is valid, nearly valid, or garbage. */
export function randomFrame(rng: Prng, nextId: { id: number }): Buffer {
  const id = rng.chance(0.5) ? nextId.id : rng.pick(STREAM_IDS);
  switch (rng.int(14)) {
    case 0: {
      // A proper request opening the next stream.
      const block = requestHeaderBlock('/etcdserverpb.KV/Range');
      const f = frame(FrameType.HEADERS, 0x4 | (rng.chance(0.3) ? 1 : 0), nextId.id, block);
      nextId.id += 2;
      return f;
    }
    case 1:
      return frame(
        FrameType.DATA,
        rng.int(2) | (rng.chance(0.2) ? 0x8 : 0),
        id,
        grpcMessage(rng.bytes(rng.int(40))),
      );
    case 2:
      return frame(
        FrameType.SETTINGS,
        rng.chance(0.2) ? 1 : 0,
        rng.chance(0.9) ? 0 : id,
        randomSettings(rng),
      );
    case 3:
      return frame(
        FrameType.WINDOW_UPDATE,
        0,
        rng.chance(0.5) ? 0 : id,
        u32(rng.pick([0, 1, 0x7fffffff, rng.u32()])),
      );
    case 4:
      return frame(
        FrameType.PING,
        rng.int(2),
        rng.chance(0.9) ? 0 : id,
        rng.bytes(rng.chance(0.9) ? 8 : rng.int(12)),
      );
    case 5:
      return frame(FrameType.RST_STREAM, 0, id, u32(rng.int(14)));
    case 6:
      return frame(FrameType.CONTINUATION, rng.chance(0.5) ? 0x4 : 0, id, randomHpack(rng));
    case 7:
      return frame(FrameType.HEADERS, rng.int(256), id, randomHpack(rng));
    case 8:
      return frame(
        FrameType.GOAWAY,
        0,
        rng.chance(0.9) ? 0 : id,
        rng.bytes(rng.chance(0.8) ? 8 : rng.int(12)),
      );
    case 9:
      return frame(rng.int(256), rng.int(256), id, rng.bytes(rng.int(30)));
    case 10: {
      // Length field that disagrees with the payload.
      const f = frame(rng.int(10), rng.int(256), id, rng.bytes(rng.int(30)));
      f.writeUIntBE(rng.pick([0, 1, 16_384, 16_385, 0xffffff, rng.int(64)]), 0, 3);
      return f;
    }
    case 11:
      return frame(FrameType.PRIORITY, 0, id, rng.bytes(rng.chance(0.8) ? 5 : rng.int(9)));
    case 12:
      // HEADERS without END_HEADERS: the next frames must be CONTINUATION.
      return frame(
        FrameType.HEADERS,
        0,
        nextId.id,
        requestHeaderBlock('/etcdserverpb.KV/Put').subarray(0, 10),
      );
    default:
      return rng.bytes(rng.int(40));
  }
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}

function randomSettings(rng: Prng): Buffer {
  if (rng.chance(0.1)) return rng.bytes(rng.int(13));
  const n = rng.int(4);
  const b = Buffer.alloc(6 * n);
  for (let i = 0; i < n; i++) {
    b.writeUInt16BE(rng.int(8), 6 * i);
    b.writeUInt32BE(
      rng.pick([0, 1, 4095, 16_383, 16_384, 65_535, 0x7fffffff, 0x80000000, rng.u32()]) >>> 0,
      6 * i + 2,
    );
  }
  return b;
}

/** Header blocks that stress the decoder: bad indexes, bad Huffman, huge integers, truncation. */
export function randomHpack(rng: Prng): Buffer {
  const out: number[] = [];
  const parts = rng.int(6);
  for (let i = 0; i < parts; i++) {
    switch (rng.int(8)) {
      case 0:
        out.push(0x80 | rng.int(128)); // indexed, maybe out of range
        break;
      case 1:
        encodeInt(out, 0x80, 7, rng.u32()); // indexed with a huge index
        break;
      case 2:
        out.push(0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f); // integer overflow
        break;
      case 3: {
        // Huffman-flagged string of random bytes.
        const bad = rng.bytes(rng.int(10));
        out.push(0x40, 0x80 | bad.length, ...bad, 0x01, 0x61);
        break;
      }
      case 4:
        encodeInt(out, 0x20, 5, rng.pick([0, 100, 4096, 4097, rng.u32()])); // table size update
        break;
      case 5:
        encodeLiteral(
          out,
          rng.bytes(rng.int(8)).toString('latin1'),
          rng.bytes(rng.int(16)).toString('latin1'),
        );
        break;
      case 6:
        out.push(0x40, 0x7f, 0x80, 0x80, 0x80, 0x01); // literal whose length runs past the end
        break;
      default:
        out.push(...rng.bytes(rng.int(12)));
    }
  }
  return Buffer.from(out);
}
