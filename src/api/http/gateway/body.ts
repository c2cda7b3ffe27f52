// Request bodies: all of it for single-request calls, or one JSON value at a
// time for streaming ones (a watch or keep-alive body is a sequence of JSON
// objects, read as they arrive, the way Go's json.Decoder reads them).
import type { GatewayRequest } from './http-io.js';
import { type GoJson, readValue } from './json/go-json.js';

/** The body went past what the gateway accepts. */
export class BodyTooLarge extends Error {
  constructor(readonly size: number) {
    super(`request body of ${size} bytes is too large`);
  }
}

function toBuffer(chunk: Buffer | string): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
}

/** The whole body; rejects with BodyTooLarge past `limit` bytes (the rest is drained, not kept). */
export function readWholeBody(req: GatewayRequest, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      if (size > limit) reject(new BodyTooLarge(size));
      else resolve(Buffer.concat(chunks, size));
    };
    req.on('data', (chunk) => {
      const b = toBuffer(chunk);
      size += b.length;
      if (size <= limit) chunks.push(b);
      else chunks.length = 0;
    });
    req.on('end', done);
    // A client that goes away mid-body: what arrived is all there is.
    req.on('close', done);
    req.on('error', done);
  });
}

/** Pause reading from the client once this much is buffered and unread. */
const PAUSE_AT = 256 * 1024;

/** A body read as a sequence of JSON values. */
export class JsonValueStream {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | undefined;
  private paused = false;

  constructor(
    private readonly req: GatewayRequest,
    /** Most bytes one value may take. */
    private readonly maxValueBytes: number,
  ) {
    req.on('data', (chunk) => {
      this.buf = this.buf.length === 0 ? toBuffer(chunk) : Buffer.concat([this.buf, toBuffer(chunk)]);
      if (this.buf.length >= PAUSE_AT && this.wake === undefined && !this.paused) {
        this.paused = true;
        req.pause();
      }
      this.notify();
    });
    const end = () => {
      this.ended = true;
      this.notify();
    };
    req.on('end', end);
    req.on('close', end);
    req.on('error', end);
  }

  /**
   * The next value, or undefined once only whitespace is left at the end.
   * Throws Go's syntax errors (GoJsonError), "unexpected EOF" when the body
   * ends inside a value, and BodyTooLarge.
   */
  async next(): Promise<GoJson | undefined> {
    for (;;) {
      const r = readValue(this.buf, 0, this.ended);
      if (r.kind === 'value') {
        this.buf = this.buf.subarray(r.end);
        return r.value;
      }
      if (r.kind === 'eof') return undefined;
      if (this.buf.length > this.maxValueBytes) throw new BodyTooLarge(this.buf.length);
      await this.moreInput();
    }
  }

  private moreInput(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      if (this.paused) {
        this.paused = false;
        this.req.resume();
      }
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
