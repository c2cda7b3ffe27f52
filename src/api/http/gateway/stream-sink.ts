// A streaming call's responses, written as grpc-gateway's ForwardResponseStream
// writes them: one {"result": ...} object per message and a newline, each sent
// at once (chunked); a failure becomes a final {"error": {...}} object, or the
// HTTP status itself when nothing was sent yet.
import { Status, type StatusCode } from '../../grpc/status.js';
import type { ResponseSink } from '../../grpc/types.js';
import { type GatewayResponse, httpStatusFromCode, streamErrorChunk } from './http-io.js';

export class JsonStreamSink<T> implements ResponseSink<T> {
  private started_ = false;
  private closed = false;

  constructor(
    private readonly res: GatewayResponse,
    private readonly encode: (message: T) => string,
    /** Unsent bytes at which a client that does not read is cut off. */
    private readonly maxPendingBytes: number,
    /** Called when the sink ends the call itself (a client that stopped reading). */
    private readonly onOverflow: () => void,
  ) {}

  /** Whether the answer has begun (status and headers sent with the first message). */
  get started(): boolean {
    return this.started_;
  }

  get ended(): boolean {
    return this.closed || this.res.writableEnded;
  }

  write(message: T): boolean {
    if (this.ended) return false;
    const line = `{"result":${this.encode(message)}}\n`;
    if (!this.started_) {
      this.started_ = true;
      this.streamHeaders();
      this.res.setHeader('Grpc-Metadata-Content-Type', 'application/grpc');
      this.res.writeHead(200);
    }
    if (this.res.writableLength + line.length > this.maxPendingBytes) {
      this.fail(Status.RESOURCE_EXHAUSTED, 'grpc: server send buffer full: client is not reading responses');
      this.onOverflow();
      return false;
    }
    return this.res.write(line);
  }

  drained(): Promise<void> {
    if (this.ended || this.res.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.res.removeListener('drain', done);
        this.res.removeListener('close', done);
        resolve();
      };
      this.res.once('drain', done);
      this.res.once('close', done);
    });
  }

  /** Set before anything is sent, as ForwardResponseStream sets them (chunked even when empty). */
  private streamHeaders(): void {
    this.res.setHeader('Transfer-Encoding', 'chunked');
    this.res.setHeader('Content-Type', 'application/json');
  }

  /** The call ended well: whatever was sent is the answer. */
  finish(): void {
    if (this.ended) return;
    this.closed = true;
    if (!this.started_) {
      this.streamHeaders();
      this.res.writeHead(200);
    }
    this.res.end();
  }

  /** The call failed with a status. */
  fail(code: StatusCode, message: string): void {
    if (this.ended) return;
    this.closed = true;
    const chunk = streamErrorChunk(code, message);
    if (!this.started_) {
      this.streamHeaders();
      this.res.writeHead(httpStatusFromCode(code));
    }
    this.res.write(chunk);
    this.res.end();
  }
}
