/**
 * gRPC length-prefixed message framing: 1 byte compressed flag, 4 bytes
 * big-endian length, then the message.
 */
export const FRAME_HEADER_BYTES = 5;
/** Upper bound on one incoming message; a peer announcing more is treated as broken. */
export const DEFAULT_MAX_MESSAGE_BYTES = 512 * 1024 * 1024;

export function encodeFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, FRAME_HEADER_BYTES);
  return frame;
}

/** Reassembles messages from arbitrarily split DATA chunks. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES) {}

  /** Feeds a chunk; returns every message it completes. Throws on compressed or oversized frames. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const messages: Buffer[] = [];
    for (;;) {
      if (this.buffered < FRAME_HEADER_BYTES) break;
      const head = this.peek(FRAME_HEADER_BYTES);
      if (head[0] !== 0) throw new Error('compressed gRPC messages are not supported');
      const length = head.readUInt32BE(1);
      if (length > this.maxMessageBytes) {
        throw new Error(`gRPC message of ${length} bytes exceeds the limit of ${this.maxMessageBytes}`);
      }
      if (this.buffered < FRAME_HEADER_BYTES + length) break;
      const whole = this.take(FRAME_HEADER_BYTES + length);
      messages.push(whole.subarray(FRAME_HEADER_BYTES));
    }
    return messages;
  }

  /** Bytes held that do not yet form a whole message (non-zero at stream end means truncation). */
  pendingBytes(): number {
    return this.buffered;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0] !== undefined && this.chunks[0].length >= n) return this.chunks[0];
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined;
  }

  private take(n: number): Buffer {
    const joined = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    const out = joined.subarray(0, n);
    const rest = joined.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}
