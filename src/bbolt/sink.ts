// Where written pages go: a path, a file descriptor or a Writable. Pages are gathered into
// ~1 MiB batches and written with backpressure (the writer awaits the returned promise), and
// every byte is fed to a sha256 so the etcd snapshot trailer needs no second read.

import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import type { Writable } from 'node:stream';

export type BoltOutput = string | number | Writable;

const BATCH_BYTES = 1 << 20;

export class PageSink {
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private position = 0;
  private chain: Promise<void> = Promise.resolve();
  private readonly hash: Hash = createHash('sha256');
  private streamError: Error | undefined;
  private readonly onError = (err: Error): void => {
    this.streamError = err;
  };

  private constructor(
    private readonly fd: number | undefined,
    private readonly stream: Writable | undefined,
    private readonly ownsFd: boolean,
  ) {
    stream?.on('error', this.onError);
  }

  static open(out: BoltOutput): PageSink {
    if (typeof out === 'string') return new PageSink(fs.openSync(out, 'w', 0o600), undefined, true);
    if (typeof out === 'number') return new PageSink(out, undefined, false);
    return new PageSink(undefined, out, false);
  }

  /** Bytes handed to the sink so far. */
  get written(): number {
    return this.position + this.batchBytes;
  }

  /** Queues `buf` (the sink keeps it: do not reuse it). A promise means "wait before writing more". */
  write(buf: Buffer): Promise<void> | undefined {
    this.hash.update(buf);
    this.batch.push(buf);
    this.batchBytes += buf.length;
    return this.batchBytes >= BATCH_BYTES ? this.flushBatch() : undefined;
  }

  /** sha256 of everything written so far; ends the hash. */
  digest(): Buffer {
    return this.hash.digest();
  }

  /** Writes `buf` without hashing it (the trailer). */
  writeUnhashed(buf: Buffer): Promise<void> {
    this.batch.push(buf);
    this.batchBytes += buf.length;
    return this.flushBatch();
  }

  /** Flushes what is queued; fsyncs and closes a file this sink opened itself. */
  async finish(): Promise<void> {
    await this.flushBatch();
    if (this.fd !== undefined && this.ownsFd) {
      await new Promise<void>((resolve, reject) =>
        fs.fdatasync(this.fd!, (e) => (e ? reject(e) : resolve())),
      );
    }
    this.close();
  }

  /** Releases the file this sink opened (also after a failure). */
  close(): void {
    this.stream?.off('error', this.onError);
    if (this.fd !== undefined && this.ownsFd) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // already closed
      }
    }
  }

  /** Hands the queued pages to the output; writes are chained so they land in order. */
  private flushBatch(): Promise<void> {
    const bufs = this.batch;
    this.position += this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    if (bufs.length > 0) {
      this.chain = this.chain.then(() => this.output(bufs));
      // A failure surfaces through whoever awaits the chain; never as an unhandled rejection.
      this.chain.catch(() => {});
    }
    return this.chain;
  }

  private async output(bufs: Buffer[]): Promise<void> {
    if (this.fd !== undefined) {
      const fd = this.fd;
      let pending = bufs;
      // At the fd's current offset (so pipes and sockets work too); writev may write less
      // than asked, so continue from where it stopped.
      while (pending.length > 0) {
        const n = await new Promise<number>((resolve, reject) =>
          fs.writev(fd, pending, (e, w) => (e ? reject(e) : resolve(w))),
        );
        pending = dropBytes(pending, n);
      }
      return;
    }
    const s = this.stream!;
    if (this.streamError) throw this.streamError;
    let ok = true;
    for (const b of bufs) ok = s.write(b);
    if (!ok) await drained(s);
    if (this.streamError) throw this.streamError;
  }
}

function dropBytes(bufs: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of bufs) {
    if (n >= b.length) {
      n -= b.length;
      continue;
    }
    out.push(n > 0 ? b.subarray(n) : b);
    n = 0;
  }
  return out;
}

function drained(s: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      s.off('drain', onDrain);
      s.off('error', done);
      s.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new Error('bbolt writer: output stream closed'));
    s.once('drain', onDrain);
    s.once('error', done);
    s.once('close', onClose);
  });
}
