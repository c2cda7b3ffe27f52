// The window of MsgApp messages sent to one follower but not yet acknowledged.
// Bounded both by count (maxInflightMsgs) and by bytes (maxInflightBytes, 0 = no byte bound).
import { assert, violated } from './util.js';

interface Inflight {
  index: number;
  bytes: number;
}

export class Inflights {
  private readonly buffer: Inflight[] = [];
  private start = 0;
  private totalBytes = 0;
  readonly maxCount: number;
  readonly maxBytes: number;

  constructor(maxCount: number, maxBytes: number) {
    assert(maxCount > 0, 'maxInflightMsgs must be positive');
    this.maxCount = maxCount;
    this.maxBytes = maxBytes;
  }

  get count(): number {
    return this.buffer.length - this.start;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Record a message whose last entry is `index`; indexes must increase. */
  add(index: number, bytes: number): void {
    assert(!this.full(), 'inflights: add to a full window');
    const last = this.buffer[this.buffer.length - 1];
    if (!(this.count === 0 || last.index < index)) violated(`inflights: index ${index} not increasing`);
    this.buffer.push({ index, bytes });
    this.totalBytes += bytes;
  }

  /** The follower acknowledged everything up to `to`. */
  freeLE(to: number): void {
    while (this.start < this.buffer.length && this.buffer[this.start].index <= to) {
      this.totalBytes -= this.buffer[this.start].bytes;
      this.start++;
    }
    this.compactIfSparse();
  }

  freeFirstOne(): void {
    if (this.count === 0) return;
    this.freeLE(this.buffer[this.start].index);
  }

  full(): boolean {
    return this.count >= this.maxCount || (this.maxBytes > 0 && this.totalBytes >= this.maxBytes);
  }

  reset(): void {
    this.buffer.length = 0;
    this.start = 0;
    this.totalBytes = 0;
  }

  /** Keep the backing array from growing without bound as entries are freed from the front. */
  private compactIfSparse(): void {
    if (this.start === this.buffer.length) {
      this.reset();
    } else if (this.start > this.maxCount) {
      this.buffer.splice(0, this.start);
      this.start = 0;
    }
  }
}
