/**
 * gRPC length-prefixed message framing: each message is
 * [1 byte compressed flag][4 bytes big-endian length][payload].
 * HTTP/2 DATA chunks cut frames anywhere, so the reader reassembles.
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { GrpcError, Status } from './status.js';

export const FRAME_HEADER_BYTES = 5;

/** The subset of a ts-proto message object this layer needs. */
export interface MessageCodec<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  decode(input: Uint8Array, length?: number): T;
  /**
   * Optional hand-tuned fast path: the whole frame (header included) in one exact-size
   * buffer, or undefined to use `encode` for this message.
   */
  encodeFramed?(message: T): Uint8Array | undefined;
}

const HEADER_PLACEHOLDER = new Uint8Array(FRAME_HEADER_BYTES);

/**
 * Encodes one message with its frame header in a single buffer: the header is
 * reserved first and patched after encoding, which saves a copy of the payload.
 */
export function encodeFrame<T>(codec: MessageCodec<T>, message: T): Uint8Array {
  const fast = codec.encodeFramed?.(message);
  if (fast !== undefined) return fast;
  const writer = new BinaryWriter();
  writer.raw(HEADER_PLACEHOLDER);
  codec.encode(message, writer);
  const frame = writer.finish();
  const length = frame.length - FRAME_HEADER_BYTES;
  frame[0] = 0;
  frame[1] = length >>> 24;
  frame[2] = (length >>> 16) & 0xff;
  frame[3] = (length >>> 8) & 0xff;
  frame[4] = length & 0xff;
  return frame;
}

/** Frames an already-encoded payload (used by tests and raw clients). */
export function frameBytes(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame[0] = 0;
  frame.writeUInt32BE(payload.length, 1);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Incremental frame parser for one stream. push() calls onMessage for every
 * complete message, in order; a payload is a view into the chunk when the
 * frame arrived whole (the common case) and a fresh buffer otherwise.
 * Violations throw GrpcError with grpc-go's status and wording.
 */
export class FrameReader {
  private readonly maxMessageBytes: number;
  /** Bytes of an incomplete frame (header and/or payload) carried over. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Payload length of the frame being assembled, or -1 if header incomplete. */
  private expected = -1;

  constructor(maxMessageBytes: number) {
    if (!(maxMessageBytes >= 0)) throw new RangeError('maxMessageBytes must be >= 0');
    this.maxMessageBytes = maxMessageBytes;
  }

  /** True when no partial frame is buffered (a clean end of stream). */
  get idle(): boolean {
    return this.pendingBytes === 0;
  }

  push(chunk: Buffer, onMessage: (payload: Buffer) => void): void {
    if (this.pendingBytes === 0) {
      this.scan(chunk, onMessage);
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.expected < 0) {
      if (this.pendingBytes < FRAME_HEADER_BYTES) return;
      const joined = this.takePending();
      this.scan(joined, onMessage);
      return;
    }
    if (this.pendingBytes < FRAME_HEADER_BYTES + this.expected) return;
    this.scan(this.takePending(), onMessage);
  }

  /** Parses as many whole frames as `buf` holds; keeps the remainder. */
  private scan(buf: Buffer, onMessage: (payload: Buffer) => void): void {
    let offset = 0;
    while (buf.length - offset >= FRAME_HEADER_BYTES) {
      const length = this.checkHeader(buf, offset);
      const end = offset + FRAME_HEADER_BYTES + length;
      if (end > buf.length) {
        this.expected = length;
        break;
      }
      offset = end;
      this.expected = -1;
      onMessage(buf.subarray(end - length, end));
    }
    if (offset < buf.length) {
      const rest = buf.subarray(offset);
      this.pending = [rest];
      this.pendingBytes = rest.length;
      if (rest.length < FRAME_HEADER_BYTES) this.expected = -1;
    }
  }

  private checkHeader(buf: Buffer, offset: number): number {
    const flag = buf[offset]!;
    const length = buf.readUInt32BE(offset + 1);
    if (flag !== 0) {
      throw new GrpcError(Status.INTERNAL, 'grpc: compressed flag set with identity or empty encoding');
    }
    if (length > this.maxMessageBytes) {
      throw new GrpcError(
        Status.RESOURCE_EXHAUSTED,
        `grpc: received message larger than max (${length} vs. ${this.maxMessageBytes})`,
      );
    }
    return length;
  }

  private takePending(): Buffer {
    const joined =
      this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return joined;
  }
}
