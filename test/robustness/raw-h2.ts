// A raw HTTP/2 client for the robustness tests: writes exactly the bytes it is given
// and records every frame the server sends, decoding header blocks with its own HPACK
// decoder (kept in step with the server's table across the connection).
import net from 'node:net';
import { HpackDecoder } from '../../src/api/grpc/h2/hpack.js';
import {
  frame,
  grpcMessage,
  type ParsedFrame,
  PREFACE,
  parseFrames,
  requestHeaderBlock,
} from '../../src/api/grpc/h2/test-support.js';

export const T = {
  DATA: 0,
  HEADERS: 1,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
};
export const EMPTY_SETTINGS = frame(T.SETTINGS, 0, 0, Buffer.alloc(0));

export class RawH2 {
  readonly frames: ParsedFrame[] = [];
  /** Decoded header blocks per stream, in arrival order. */
  readonly headers = new Map<number, Array<Record<string, string>>>();
  closed = false;
  error: Error | undefined;
  private rest: Buffer = Buffer.alloc(0);
  private readonly decoder = new HpackDecoder(4096, 1 << 20);
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.error = err;
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number): Promise<RawH2> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawH2(socket));
      });
    });
  }

  /** Connects and sends the preface and an empty SETTINGS frame. */
  static async open(port: number): Promise<RawH2> {
    const c = await RawH2.connect(port);
    c.send(PREFACE, EMPTY_SETTINGS);
    return c;
  }

  send(...parts: Buffer[]): void {
    if (!this.socket.destroyed) this.socket.write(Buffer.concat(parts));
  }

  /** Resolves with the first frame matching `pred` (already received or coming), or undefined at close/timeout. */
  async waitFor(pred: (f: ParsedFrame) => boolean, timeoutMs = 5000): Promise<ParsedFrame | undefined> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.frames.find(pred);
      if (hit || this.closed || Date.now() >= until) return hit;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, until - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < until) await this.waitFor(() => false, until - Date.now());
    return this.closed;
  }

  goawayCode(): number | undefined {
    return this.frames.find((f) => f.type === T.GOAWAY)?.payload.readUInt32BE(4);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const { frames, rest } = parseFrames(Buffer.concat([this.rest, chunk]));
    this.rest = Buffer.from(rest);
    for (const f of frames) {
      if (f.type === T.HEADERS) {
        const out: Record<string, string> = {};
        this.decoder.decode(f.payload, out);
        const list = this.headers.get(f.id) ?? [];
        list.push(out);
        this.headers.set(f.id, list);
      }
      this.frames.push(f);
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

export interface RawStatus {
  httpStatus: string | undefined;
  grpcStatus: number | undefined;
  grpcMessage: string | undefined;
}

/** Everything the server said about one stream, merged: :status and the trailers' grpc-status/message. */
export function streamStatus(c: RawH2, id: number): RawStatus {
  const merged: Record<string, string> = {};
  for (const h of c.headers.get(id) ?? []) Object.assign(merged, h);
  const code = merged['grpc-status'];
  return {
    httpStatus: merged[':status'],
    grpcStatus: code === undefined ? undefined : Number(code),
    grpcMessage:
      merged['grpc-message'] === undefined ? undefined : decodeURIComponent(merged['grpc-message']),
  };
}

/**
 * One call on a fresh connection with a hand-made body: HEADERS for `path`, then
 * `body` as one DATA frame with END_STREAM. Resolves with the final status.
 */
export async function rawCall(
  port: number,
  path: string,
  body: Buffer,
  extraHeaders: ReadonlyArray<readonly [string, string]> = [],
): Promise<RawStatus> {
  const c = await RawH2.open(port);
  try {
    c.send(frame(T.HEADERS, 0x4, 1, requestHeaderBlock(path, extraHeaders)), frame(T.DATA, 0x1, 1, body));
    const end = await c.waitFor((f) => f.id === 1 && (f.flags & 0x1) !== 0 && f.type === T.HEADERS, 5000);
    if (!end) throw new Error(`no final HEADERS for ${path}; GOAWAY ${c.goawayCode()}`);
    return streamStatus(c, 1);
  } finally {
    c.destroy();
  }
}

export { frame, grpcMessage, PREFACE, requestHeaderBlock };
