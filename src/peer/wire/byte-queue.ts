import { readU32BE, readU64BE } from './gogo-wire.js';

// A FIFO of received bytes for the incremental stream decoders: chunks are kept as they
// arrive and read in order, copying only when a read spans chunks, so a frame split over
// many chunks costs one copy and no quadratic re-concatenation.

export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** Index of the first unread chunk in `chunks`. */
  private head = 0;
  /** Read offset inside chunks[head]. */
  private offset = 0;
  private size = 0;

  /** Unread bytes. */
  get length(): number {
    return this.size;
  }

  /** Takes ownership of `chunk`: the caller must not modify it afterwards. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** The next n bytes (n <= length): a view when they lie in one chunk, else a copy. */
  take(n: number): Uint8Array {
    if (n > this.size) throw new RangeError(`take(${n}) with ${this.size} bytes queued`);
    this.size -= n;
    const first = this.chunks[this.head];
    if (n === 0 || first === undefined) return new Uint8Array(0);
    if (first.length - this.offset >= n) {
      const view = first.subarray(this.offset, this.offset + n);
      this.offset += n;
      if (this.offset === first.length) this.dropHead();
      return view;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.head]!;
      const part = Math.min(n - filled, chunk.length - this.offset);
      out.set(chunk.subarray(this.offset, this.offset + part), filled);
      filled += part;
      this.offset += part;
      if (this.offset === chunk.length) this.dropHead();
    }
    return out;
  }

  takeU8(): number {
    return this.take(1)[0]!;
  }

  takeU64BE(): bigint {
    return readU64BE(this.take(8), 0);
  }

  /**
   * The next 8 bytes as a big-endian unsigned integer in a JS number: exact up to 2^53-1,
   * rounded above (callers compare it with limits far below that). No view or BigInt is
   * made when the bytes lie in one chunk, the usual case for frame and entry sizes.
   */
  takeU64BENumber(): number {
    const first = this.chunks[this.head];
    if (first !== undefined && first.length - this.offset >= 8 && this.size >= 8) {
      const hi = readU32BE(first, this.offset);
      const lo = readU32BE(first, this.offset + 4);
      this.size -= 8;
      this.offset += 8;
      if (this.offset === first.length) this.dropHead();
      return hi * 0x100000000 + lo;
    }
    return Number(this.takeU64BE());
  }

  private dropHead(): void {
    this.chunks[this.head] = EMPTY;
    this.head++;
    this.offset = 0;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= 1024) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);
