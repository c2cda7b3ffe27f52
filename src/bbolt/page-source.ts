// Where a reader gets its bytes: a Buffer already in memory, or a file read page by page with
// pread (never mapped or loaded whole, so a 1 GiB db costs a few pages of memory).

import fs from 'node:fs';
import { BoltFormatError } from './errors.js';

export interface PageSource {
  /** Bytes available. */
  readonly size: number;
  /**
   * `length` bytes at `offset`. The result is never reused by the source, so callers may keep
   * views into it. Throws BoltFormatError past the end.
   */
  read(offset: number, length: number): Buffer;
  close(): void;
}

function checkRange(size: number, offset: number, length: number): void {
  if (offset < 0 || length < 0 || offset + length > size) {
    throw new BoltFormatError(
      `truncated file: need bytes [${offset}, ${offset + length}) but it has ${size}`,
    );
  }
}

export class BufferSource implements PageSource {
  constructor(private readonly buf: Buffer) {}

  get size(): number {
    return this.buf.length;
  }

  read(offset: number, length: number): Buffer {
    checkRange(this.buf.length, offset, length);
    return this.buf.subarray(offset, offset + length);
  }

  close(): void {}
}

export class FileSource implements PageSource {
  private fd: number | undefined;
  readonly size: number;

  constructor(path: string) {
    this.fd = fs.openSync(path, 'r');
    this.size = fs.fstatSync(this.fd).size;
  }

  read(offset: number, length: number): Buffer {
    checkRange(this.size, offset, length);
    if (this.fd === undefined) throw new Error('bbolt: file already closed');
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, out, done, length - done, offset + done);
      if (n === 0) throw new BoltFormatError(`file shrank while reading at ${offset + done}`);
      done += n;
    }
    return out;
  }

  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
