// Hostile input on the client port of a REAL etcd-ts process: garbage, random and
// mutated HTTP/2 frames, malformed HPACK, floods, malformed gRPC messages, idle and
// half-open connections. After every batch the process must be alive, a proper client
// must still put/get, and every key acknowledged before must read back unchanged.
// Randomness is seeded; a failure names its seed (replay: same seed, same bytes).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Prng, randomFrame } from '../../src/api/grpc/h2/test-support.js';
import { PutRequest } from '../../src/pb/etcdserverpb/rpc.js';
import { eventually, MemberProcess, memberSpec, removeDir, sleep, tempDir } from '../integration/harness.js';
import { KvClient } from '../integration/kv-client.js';
import {
  EMPTY_SETTINGS,
  frame,
  grpcMessage,
  PREFACE,
  RawH2,
  rawCall,
  requestHeaderBlock,
  streamStatus,
  T,
} from './raw-h2.js';

const E = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  INTERNAL_ERROR: 2,
  FLOW_CONTROL_ERROR: 3,
  FRAME_SIZE_ERROR: 6,
  CANCEL: 8,
  COMPRESSION_ERROR: 9,
  ENHANCE_YOUR_CALM: 11,
};
const PUT = '/etcdserverpb.KV/Put';
const RANGE = '/etcdserverpb.KV/Range';
/** etcd's default --max-request-bytes (1.5 MiB) plus its 512 KiB gRPC allowance. */
const MAX_RECEIVE = 1.5 * 1024 * 1024 + 512 * 1024;

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
const rangeBody = grpcMessage(Buffer.from('0a0161', 'hex')); // RangeRequest{key: "a"}

/** Sends `parts` on a fresh connection after the preface and SETTINGS; waits for close or `settleMs`. */
async function hostile(port: number, parts: Buffer[], settleMs = 1500, settings = true): Promise<RawH2> {
  const c = await RawH2.connect(port);
  c.send(PREFACE, ...(settings ? [EMPTY_SETTINGS] : []), ...parts);
  await c.waitClosed(settleMs);
  return c;
}

/** The connection is still served: a PING gets its ACK. */
async function answersPing(c: RawH2): Promise<boolean> {
  const data = Buffer.from('still-ok');
  c.send(frame(T.PING, 0, 0, data));
  const ack = await c.waitFor((f) => f.type === T.PING && f.flags === 1 && f.payload.equals(data), 3000);
  return ack !== undefined;
}

/** Writes `chunk` `rounds` times, one write at a time; `accepted` counts what the kernel took. */
function pump(socket: net.Socket, chunk: Buffer, rounds: number): { accepted: number } {
  const state = { accepted: 0 };
  let left = rounds;
  const next = (err?: Error | null): void => {
    if (err || left === 0 || socket.destroyed) return;
    left--;
    socket.write(chunk, (e) => {
      if (!e) state.accepted += chunk.length;
      next(e);
    });
  };
  next();
  return state;
}

/** The value of `read()` once it has not changed for a second, or reached `max` (at most 10 s). */
async function settled(read: () => number, max: number): Promise<number> {
  const until = Date.now() + 10_000;
  let last = -1;
  let stableSince = Date.now();
  for (;;) {
    const value = read();
    if (value !== last) {
      last = value;
      stableSince = Date.now();
    }
    if (value >= max || Date.now() - stableSince >= 1000 || Date.now() > until) return value;
    await sleep(100);
  }
}

describe('client port under hostile input (real etcd-ts process)', () => {
  let dir: string;
  let member: MemberProcess;
  let kv: KvClient;
  let port: number;
  let pid: number;
  const acked = new Map<string, string>();
  let batch = 0;

  before(async () => {
    dir = tempDir('robust');
    member = new MemberProcess(await memberSpec('robust0', `${dir}/data`));
    member.start();
    port = member.spec.clientPort;
    kv = new KvClient(member.endpoint);
    await eventually(() => kv.range('probe'), 15_000);
    // The harness keeps the child private; its pid is needed to check liveness and memory.
    const proc = (member as unknown as { proc: ChildProcess | undefined }).proc;
    assert.ok(proc?.pid, 'member pid');
    pid = proc.pid;
  });

  after(async () => {
    kv.close();
    await member.stop();
    removeDir(dir);
  });

  /** Alive, serving a proper client, nothing acknowledged lost. */
  async function assertHealthy(label: string): Promise<void> {
    assert.doesNotThrow(() => process.kill(pid, 0), `${label}: server process is gone\n${member.output}`);
    batch++;
    for (let i = 0; i < 3; i++) {
      const key = `robust/${batch}/${i}`;
      const value = `${label}-${i}`;
      await kv.put(key, value);
      acked.set(key, value);
    }
    const all = await kv.range('robust/', { rangeEnd: Buffer.from('robust0') });
    const seen = new Map(
      all.kvs.map((x) => [Buffer.from(x.key).toString(), Buffer.from(x.value).toString()]),
    );
    for (const [k, v] of acked)
      assert.equal(seen.get(k), v, `${label}: acknowledged key ${k} lost or changed`);
  }

  test('baseline', async () => {
    await assertHealthy('baseline');
  });

  test('random bytes before the HTTP/2 preface (and a broken preface)', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rng = new Prng(seed);
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      const head = rng.chance(0.5) ? PREFACE.subarray(0, rng.int(PREFACE.length)) : Buffer.alloc(0);
      socket.write(Buffer.concat([head, rng.bytes(1 + rng.int(3000))]));
      await new Promise<void>((resolve) => {
        socket.on('close', () => resolve());
        setTimeout(() => resolve(), 50);
      });
      socket.destroy();
    }
    await assertHealthy('garbage-before-preface');
  });

  test('random and mutated frames after the preface: never INTERNAL_ERROR, server keeps serving', async () => {
    const seeds = Array.from({ length: 160 }, (_, i) => 1000 + i);
    for (let i = 0; i < seeds.length; i += 16) {
      await Promise.all(
        seeds.slice(i, i + 16).map(async (seed) => {
          const rng = new Prng(seed);
          const nextId = { id: 1 };
          const parts: Buffer[] = [];
          const count = 1 + rng.int(40);
          for (let j = 0; j < count; j++) parts.push(randomFrame(rng, nextId));
          const c = await hostile(port, parts, 300);
          c.destroy();
          assert.notEqual(c.goawayCode(), E.INTERNAL_ERROR, `seed ${seed}: server hit an internal error`);
        }),
      );
    }
    await assertHealthy('random-frames');
  });

  const violations: Array<[string, Buffer[], number, boolean?]> = [
    [
      'frame longer than SETTINGS_MAX_FRAME_SIZE',
      [frame(T.DATA, 0, 1, Buffer.alloc(16_385))],
      E.FRAME_SIZE_ERROR,
    ],
    ['first frame is not SETTINGS', [frame(T.PING, 0, 0, Buffer.alloc(8))], E.PROTOCOL_ERROR, false],
    ['HEADERS on an even stream id', [frame(T.HEADERS, 5, 2, requestHeaderBlock(RANGE))], E.PROTOCOL_ERROR],
    [
      'stream id going backwards',
      [frame(T.HEADERS, 4, 5, requestHeaderBlock(RANGE)), frame(T.HEADERS, 4, 3, requestHeaderBlock(RANGE))],
      E.PROTOCOL_ERROR,
    ],
    ['DATA on an idle stream', [frame(T.DATA, 0, 7, rangeBody)], E.PROTOCOL_ERROR],
    ['RST_STREAM on stream 0', [frame(T.RST_STREAM, 0, 0, u32(8))], E.PROTOCOL_ERROR],
    [
      'SETTINGS with a length not a multiple of 6',
      [frame(T.SETTINGS, 0, 0, Buffer.alloc(7))],
      E.FRAME_SIZE_ERROR,
    ],
    ['SETTINGS ACK with a payload', [frame(T.SETTINGS, 1, 0, Buffer.alloc(6))], E.FRAME_SIZE_ERROR],
    [
      'SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1',
      [frame(T.SETTINGS, 0, 0, setting(4, 0x80000000))],
      E.FLOW_CONTROL_ERROR,
    ],
    ['SETTINGS_MAX_FRAME_SIZE below 16384', [frame(T.SETTINGS, 0, 0, setting(5, 100))], E.PROTOCOL_ERROR],
    ['SETTINGS_ENABLE_PUSH = 2', [frame(T.SETTINGS, 0, 0, setting(2, 2))], E.PROTOCOL_ERROR],
    ['SETTINGS on a stream', [frame(T.SETTINGS, 0, 1, Buffer.alloc(0))], E.PROTOCOL_ERROR],
    ['connection WINDOW_UPDATE of 0', [frame(T.WINDOW_UPDATE, 0, 0, u32(0))], E.PROTOCOL_ERROR],
    ['connection window overflow', [frame(T.WINDOW_UPDATE, 0, 0, u32(0x7fffffff))], E.FLOW_CONTROL_ERROR],
    ['CONTINUATION without HEADERS', [frame(T.CONTINUATION, 4, 1, Buffer.from([0x82]))], E.PROTOCOL_ERROR],
    [
      'HEADERS then something other than CONTINUATION',
      [frame(T.HEADERS, 0, 1, Buffer.from([0x83])), frame(T.PING, 0, 0, Buffer.alloc(8))],
      E.PROTOCOL_ERROR,
    ],
    [
      'header block above 1 MiB',
      [
        frame(T.HEADERS, 0, 1, Buffer.alloc(16_000)),
        ...Array.from({ length: 70 }, () => frame(T.CONTINUATION, 0, 1, Buffer.alloc(16_000))),
      ],
      E.ENHANCE_YOUR_CALM,
    ],
    [
      'CONTINUATION flood of empty frames',
      [
        frame(T.HEADERS, 0, 1, Buffer.from([0x83])),
        ...Array.from({ length: 3000 }, () => frame(T.CONTINUATION, 0, 1, Buffer.alloc(0))),
      ],
      E.ENHANCE_YOUR_CALM,
    ],
    [
      'HPACK index beyond both tables',
      [frame(T.HEADERS, 5, 1, Buffer.from([0xff, 0x7f]))],
      E.COMPRESSION_ERROR,
    ],
    [
      'HPACK integer overflow',
      [frame(T.HEADERS, 5, 1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]))],
      E.COMPRESSION_ERROR,
    ],
    // Literal name, Huffman-coded value of one byte 0x00: a code that runs into EOS.
    [
      'HPACK bad Huffman',
      [frame(T.HEADERS, 5, 1, Buffer.from([0x00, 0x01, 0x61, 0x82, 0xff, 0xff]))],
      E.COMPRESSION_ERROR,
    ],
    [
      'HPACK table size above SETTINGS',
      [frame(T.HEADERS, 5, 1, Buffer.from([0x3f, 0xe2, 0x1f]))],
      E.COMPRESSION_ERROR,
    ],
    ['PING of 7 bytes', [frame(T.PING, 0, 0, Buffer.alloc(7))], E.FRAME_SIZE_ERROR],
    ['PING on a stream', [frame(T.PING, 0, 1, Buffer.alloc(8))], E.PROTOCOL_ERROR],
    ['PUSH_PROMISE from a client', [frame(5, 4, 1, Buffer.alloc(4))], E.PROTOCOL_ERROR],
  ];

  test('protocol violations: GOAWAY with the RFC 9113 error code, then close', async () => {
    for (const [name, parts, code, settings] of violations) {
      const c = await hostile(port, parts, 3000, settings ?? true);
      c.destroy();
      assert.equal(c.goawayCode(), code, `${name}: GOAWAY code`);
      assert.ok(c.closed, `${name}: connection closed`);
    }
    await assertHealthy('violations');
  });

  test('stream-level errors reset only the stream; unknown frames and closed streams are ignored', async () => {
    const c = await RawH2.open(port);
    try {
      // Unknown frame type and PRIORITY are ignored (RFC 9113 §5.5).
      c.send(frame(0xfa, 0xff, 1, Buffer.from('whatever')), frame(2, 0, 3, Buffer.alloc(5)));
      assert.ok(await answersPing(c), 'ignored unknown frame');
      // A finished call, then DATA and WINDOW_UPDATE on its (closed) stream.
      c.send(frame(T.HEADERS, 4, 5, requestHeaderBlock(RANGE)), frame(T.DATA, 1, 5, rangeBody));
      await c.waitFor((f) => f.id === 5 && f.type === T.HEADERS && (f.flags & 1) !== 0);
      assert.equal(streamStatus(c, 5).grpcStatus, 0);
      c.send(
        frame(T.DATA, 1, 5, rangeBody),
        frame(T.WINDOW_UPDATE, 0, 5, u32(10)),
        frame(T.RST_STREAM, 0, 5, u32(8)),
      );
      assert.ok(await answersPing(c), 'frames on a closed stream are ignored');
      // An open call, then a WINDOW_UPDATE of 0 on it: RST_STREAM PROTOCOL_ERROR for that stream only.
      c.send(frame(T.HEADERS, 4, 7, requestHeaderBlock(RANGE)), frame(T.WINDOW_UPDATE, 0, 7, u32(0)));
      const rst = await c.waitFor((f) => f.id === 7 && f.type === T.RST_STREAM);
      assert.equal(rst?.payload.readUInt32BE(0), E.PROTOCOL_ERROR);
      // Still serving calls.
      c.send(frame(T.HEADERS, 4, 9, requestHeaderBlock(RANGE)), frame(T.DATA, 1, 9, rangeBody));
      await c.waitFor((f) => f.id === 9 && f.type === T.HEADERS && (f.flags & 1) !== 0);
      assert.equal(streamStatus(c, 9).grpcStatus, 0);
      assert.equal(c.goawayCode(), undefined);
    } finally {
      c.destroy();
    }
    await assertHealthy('stream-errors');
  });

  test('RST_STREAM storm (rapid reset) is cut off with ENHANCE_YOUR_CALM; a few cancels are fine', async () => {
    const cancels = (from: number, n: number): Buffer[] =>
      Array.from({ length: n }, (_, i) => [
        frame(T.HEADERS, 4, from + 2 * i, requestHeaderBlock(RANGE)),
        frame(T.RST_STREAM, 0, from + 2 * i, u32(E.CANCEL)),
      ]).flat();
    const calm = await RawH2.open(port);
    calm.send(...cancels(1, 200));
    assert.ok(await answersPing(calm), '200 cancels are normal use');
    assert.equal(calm.goawayCode(), undefined);
    calm.destroy();
    const storm = await hostile(port, cancels(1, 20_000), 5000);
    storm.destroy();
    assert.equal(storm.goawayCode(), E.ENHANCE_YOUR_CALM);
    await assertHealthy('rst-storm');
  });

  test('PING flood: answered while read; bounded memory while not read', async () => {
    const reader = await RawH2.open(port);
    const pings = Array.from({ length: 5000 }, (_, i) =>
      frame(T.PING, 0, 0, Buffer.from(String(i).padStart(8, '0'))),
    );
    reader.send(...pings);
    const last = await reader.waitFor(
      (f) => f.type === T.PING && f.payload.toString() === '00004999',
      10_000,
    );
    assert.ok(last, 'every PING answered');
    assert.equal(reader.frames.filter((f) => f.type === T.PING && f.flags === 1).length, 5000);
    reader.destroy();

    // A client that floods PINGs and never reads the ACKs: the server must stop reading it
    // (as grpc-go does) instead of queueing ACKs without bound. The bytes it accepted are
    // what it read plus the two kernel socket buffers.
    const flooder = await RawH2.open(port);
    flooder.socket.pause();
    const chunk = Buffer.concat(Array.from({ length: 4096 }, () => frame(T.PING, 0, 0, Buffer.alloc(8))));
    const flood = pump(flooder.socket, chunk, 1500); // ≈ 100 MB of PINGs offered
    await assertHealthy('ping-flood-in-progress');
    // Parsing 100 MB takes the server seconds: wait until it has stopped taking bytes.
    const accepted = await settled(() => flood.accepted, 1500 * chunk.length);
    assert.ok(accepted < 24 * 1024 * 1024, `server accepted ${accepted} bytes of PINGs it could not answer`);
    assert.ok(accepted > 0);
    flooder.destroy();
    await assertHealthy('ping-flood');
  });

  test('keepalive: a client that PINGs with every request is served (Go client BDP pings)', async () => {
    const c = await RawH2.open(port);
    try {
      for (let id = 1; id < 400; id += 2) {
        c.send(
          frame(T.HEADERS, 4, id, requestHeaderBlock(RANGE)),
          frame(T.DATA, 1, id, rangeBody),
          frame(T.PING, 0, 0, Buffer.alloc(8, id & 0xff)),
        );
      }
      const last = await c.waitFor(
        (f) => f.id === 399 && f.type === T.HEADERS && (f.flags & 1) !== 0,
        10_000,
      );
      assert.ok(last, 'all 200 calls answered');
      assert.equal(c.frames.filter((f) => f.type === T.PING && f.flags === 1).length, 200);
      assert.equal(c.goawayCode(), undefined);
      assert.equal(c.closed, false);
    } finally {
      c.destroy();
    }
  });

  test('malformed gRPC messages get grpc-go/etcd status and wording', async () => {
    const cases: Array<[string, string, Buffer, ReadonlyArray<readonly [string, string]>, number, string]> = [
      [
        'bad protobuf',
        PUT,
        grpcMessage(Buffer.from([0x0a, 0xff, 0x01])),
        [],
        13,
        'grpc: error unmarshalling request: unexpected EOF',
      ],
      ['truncated message', PUT, rangeBody.subarray(0, 6), [], 2, 'unexpected EOF'],
      ['no message', PUT, Buffer.alloc(0), [], 2, 'EOF'],
      [
        'compressed flag',
        PUT,
        grpcMessage(Buffer.from('0a0161', 'hex'), true),
        [],
        13,
        'grpc: compressed flag set with identity or empty encoding',
      ],
      [
        'grpc-encoding gzip',
        PUT,
        rangeBody,
        [['grpc-encoding', 'gzip']],
        12,
        'grpc: Decompressor is not installed for grpc-encoding "gzip"',
      ],
      [
        'length prefix above the max',
        PUT,
        Buffer.from([0, 0x05, 0xf5, 0xe1, 0x00]),
        [],
        8,
        `grpc: received message larger than max (100000000 vs. ${MAX_RECEIVE})`,
      ],
      [
        'unknown method',
        '/etcdserverpb.KV/Nope',
        rangeBody,
        [],
        12,
        'unknown method Nope for service etcdserverpb.KV',
      ],
    ];
    for (const [name, path, body, headers, code, message] of cases) {
      const s = await rawCall(port, path, body, headers);
      assert.equal(s.grpcStatus, code, `${name}: status`);
      assert.equal(s.grpcMessage, message, `${name}: message`);
    }
    // A wrong content-type is not gRPC: answered as plain HTTP (etcd's HTTP mux: 404).
    const c = await RawH2.open(port);
    c.send(
      frame(T.HEADERS, 4, 1, requestHeaderBlock(PUT, [['content-type', 'application/json']])),
      frame(T.DATA, 1, 1, Buffer.from('{}')),
    );
    await c.waitFor((f) => f.id === 1 && (f.flags & 1) !== 0);
    assert.equal(streamStatus(c, 1).httpStatus, '404');
    assert.ok(await answersPing(c));
    c.destroy();
    // Through a real client: an oversized Put is refused with the exact sizes.
    const value = 'x'.repeat(MAX_RECEIVE);
    const size = PutRequest.encode(
      PutRequest.fromPartial({ key: Buffer.from('robust/big'), value: Buffer.from(value) }),
    ).finish().length;
    await assert.rejects(kv.put('robust/big', value), (err: { code: number; details: string }) => {
      assert.equal(err.code, 8);
      assert.equal(err.details, `grpc: received message larger than max (${size} vs. ${MAX_RECEIVE})`);
      return true;
    });
    await assertHealthy('malformed-grpc');
  });

  test('random protobuf bodies to Put and Range always get a status', async () => {
    const c = await RawH2.open(port);
    try {
      const rng = new Prng(4242);
      for (let i = 0; i < 150; i++) {
        const id = 1 + 2 * i;
        const body = rng.chance(0.2) ? rng.bytes(rng.int(30)) : grpcMessage(rng.bytes(rng.int(60)));
        c.send(
          frame(T.HEADERS, 4, id, requestHeaderBlock(rng.chance(0.5) ? PUT : RANGE)),
          frame(T.DATA, 1, id, body),
        );
        const end = await c.waitFor((f) => f.id === id && f.type === T.HEADERS && (f.flags & 1) !== 0, 5000);
        assert.ok(end, `seed 4242 call ${i}: no status`);
        const s = streamStatus(c, id);
        assert.notEqual(s.grpcStatus, undefined, `seed 4242 call ${i}: no grpc-status`);
        // Undecodable input is INTERNAL with grpc-go's wording; a decodable one gets etcd's answer.
        if (s.grpcStatus === 13)
          assert.match(s.grpcMessage ?? '', /^grpc: /, `seed 4242 call ${i}: ${s.grpcMessage}`);
      }
      assert.equal(c.goawayCode(), undefined);
    } finally {
      c.destroy();
    }
    await assertHealthy('random-protobuf');
  });

  test('slowloris: idle and half-open connections do not block service; no-SETTINGS ones are dropped', async () => {
    const idle: net.Socket[] = [];
    const open = (data: Buffer): net.Socket => {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      if (data.length > 0) s.write(data);
      idle.push(s);
      return s;
    };
    for (let i = 0; i < 5; i++) open(Buffer.alloc(0));
    for (let i = 0; i < 5; i++) open(PREFACE.subarray(0, 10));
    const settingsPartial = Array.from({ length: 5 }, () =>
      open(Buffer.concat([PREFACE, EMPTY_SETTINGS, Buffer.from([0, 0])])),
    );
    const noSettings = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const c = await RawH2.connect(port);
        c.send(PREFACE, frame(T.SETTINGS, 0, 0, Buffer.alloc(6)).subarray(0, 12)); // SETTINGS cut short
        return c;
      }),
    );
    try {
      await assertHealthy('slowloris-open');
      for (const c of noSettings) {
        assert.ok(await c.waitClosed(8000), 'connection without SETTINGS dropped');
        assert.equal(c.goawayCode(), E.PROTOCOL_ERROR);
      }
      for (const s of settingsPartial) assert.equal(s.destroyed, false, 'a connected client may sit idle');
    } finally {
      for (const s of idle) s.destroy();
      for (const c of noSettings) c.destroy();
    }
    await assertHealthy('slowloris');
  });
});
