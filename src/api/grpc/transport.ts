/**
 * The seam between a call (call.ts) and the HTTP/2 implementation carrying it.
 * Two implementations: node-transport.ts (node:http2) and h2/ (our own).
 */
import type { Socket } from 'node:net';
import type { StatusCode } from './status.js';

/** What a transport tells the call about its stream. */
export interface CallEvents {
  /** A chunk of the request body (gRPC frames, cut anywhere). */
  onData(chunk: Buffer): void;
  /** The client half-closed its side. */
  onEnd(): void;
  /** The stream is gone (reset by the client, connection lost); not called after a normal finish. */
  onClose(): void;
}

/** The outgoing side of one stream, as a call drives it. */
export interface CallStream {
  /** True once the stream can no longer send (reset, connection lost, or finished). */
  readonly closed: boolean;
  /** Fast path for unary: headers, one message, OK trailers. */
  respondUnary(frame: Uint8Array): void;
  /** Sends headers if not yet sent, then one framed message. False: above the high-water mark. */
  writeMessage(frame: Uint8Array): boolean;
  /** Bytes accepted by writeMessage but not yet handed to the socket. */
  readonly bufferedBytes: number;
  /** Resolves when bufferedBytes is below the high-water mark again, or the stream closed. */
  drained(): Promise<void>;
  /** Ends the stream with a status: trailers-only if nothing was sent, trailers otherwise. */
  finish(code: StatusCode, message: string): void;
  /** Inbound flow control for streaming requests. */
  pause(): void;
  resume(): void;
  /** Connects the call; the transport then delivers data/end/close to it. */
  attach(events: CallEvents): void;
  /** The connection's socket (a TLSSocket on TLS), for what the call needs to know of its peer. */
  socket?(): Socket | undefined;
}
