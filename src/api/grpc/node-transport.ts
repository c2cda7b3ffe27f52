/**
 * CallStream over node:http2's ServerHttp2Stream.
 */
import { constants, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { encodeGrpcMessage, Status, type StatusCode } from './status.js';
import type { CallEvents, CallStream } from './transport.js';

// Frozen so that any attempt by the runtime to mutate shared header objects
// fails loudly instead of leaking state between calls.
const RESPONSE_HEADERS: OutgoingHttpHeaders = Object.freeze({
  ':status': 200,
  'content-type': 'application/grpc',
});
const OK_TRAILERS: OutgoingHttpHeaders = Object.freeze({ 'grpc-status': '0' });
const WAIT_FOR_TRAILERS = Object.freeze({ waitForTrailers: true });
const END_STREAM = Object.freeze({ endStream: true });

function ignoreStreamError(): void {
  // Stream errors surface as 'close'; without a listener they would be thrown
  // as uncaught exceptions and take the process down.
}

function sendOkTrailers(this: ServerHttp2Stream): void {
  this.sendTrailers(OK_TRAILERS);
}

export function statusHeaders(code: StatusCode, message: string): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { 'grpc-status': String(code) };
  if (message !== '') headers['grpc-message'] = encodeGrpcMessage(message);
  return headers;
}

/** After the status, stop the client uploading more (RST NO_ERROR, as grpc-go does). */
function closeReadSide(stream: ServerHttp2Stream): void {
  if (!stream.readableEnded) stream.close(constants.NGHTTP2_NO_ERROR);
}

export class NodeCallStream implements CallStream {
  private headersSent = false;
  private trailers: OutgoingHttpHeaders = OK_TRAILERS;
  private finished = false;

  constructor(private readonly stream: ServerHttp2Stream) {
    stream.on('error', ignoreStreamError);
  }

  socket(): Socket | undefined {
    return this.stream.session?.socket as Socket | undefined;
  }

  get closed(): boolean {
    return this.finished || this.stream.destroyed || this.stream.closed;
  }

  get bufferedBytes(): number {
    return this.stream.writableLength;
  }

  attach(events: CallEvents): void {
    const stream = this.stream;
    stream.on('data', (chunk: Buffer) => events.onData(chunk));
    stream.on('end', () => events.onEnd());
    stream.once('close', () => {
      if (!this.finished) events.onClose();
    });
  }

  respondUnary(frame: Uint8Array): void {
    if (this.closed) return;
    this.finished = true;
    const stream = this.stream;
    stream.respond(RESPONSE_HEADERS, WAIT_FOR_TRAILERS);
    stream.once('wantTrailers', sendOkTrailers);
    stream.end(frame);
  }

  writeMessage(frame: Uint8Array): boolean {
    if (this.closed) return false;
    if (!this.headersSent) {
      this.headersSent = true;
      this.stream.respond(RESPONSE_HEADERS, WAIT_FOR_TRAILERS);
      this.stream.once('wantTrailers', () => this.stream.sendTrailers(this.trailers));
    }
    return this.stream.write(frame);
  }

  drained(): Promise<void> {
    const stream = this.stream;
    if (this.closed || !stream.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
    });
  }

  finish(code: StatusCode, message: string): void {
    if (this.closed) return;
    this.finished = true;
    const stream = this.stream;
    if (!this.headersSent) {
      this.headersSent = true;
      stream.respond({ ...RESPONSE_HEADERS, ...statusHeaders(code, message) }, END_STREAM);
    } else {
      this.trailers = code === Status.OK ? OK_TRAILERS : statusHeaders(code, message);
      stream.end();
    }
    closeReadSide(stream);
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }
}
