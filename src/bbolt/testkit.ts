// Helpers for the bbolt tests (not a test file): a deterministic db description, writing it to
// memory, and dumping what a reader sees.

import { PassThrough } from 'node:stream';
import { seededRandom } from '../util/seeded-random.js';
import type { BoltBucket, BoltDb } from './reader.js';
import { type BoltProducer, type BoltWriteOptions, type BoltWriteResult, writeBolt } from './writer.js';

/** A bucket: sorted entries, each a value or a nested bucket. */
export interface TestBucket {
  entries: [Buffer, Buffer | TestBucket][];
}

export function producerOf(top: [Buffer, TestBucket][]): BoltProducer {
  const walk = async (b: Parameters<BoltProducer>[0], bucket: TestBucket): Promise<void> => {
    for (const [k, v] of bucket.entries) {
      if (Buffer.isBuffer(v)) {
        await b.put(k, v);
      } else {
        await b.bucket(k);
        await walk(b, v);
        await b.end();
      }
    }
  };
  return async (b) => {
    for (const [name, bucket] of top) {
      await b.bucket(name);
      await walk(b, bucket);
      await b.end();
    }
  };
}

function sortEntries<T>(entries: [Buffer, T][]): [Buffer, T][] {
  const seen = new Set<string>();
  return entries
    .filter(([k]) => {
      const h = k.toString('hex');
      if (seen.has(h)) return false;
      seen.add(h);
      return true;
    })
    .sort(([a], [b]) => Buffer.compare(a, b));
}

/** Random keys and values of varied sizes (some big enough to overflow a page), sub-buckets. */
export function randomBucket(seed: number, count: number, depth = 0): TestBucket {
  const rnd = seededRandom(seed);
  const entries: [Buffer, Buffer | TestBucket][] = [];
  for (let i = 0; i < count; i++) {
    const klen = 1 + Math.floor(rnd() * 40);
    const key = Buffer.alloc(klen);
    for (let j = 0; j < klen; j++) key[j] = Math.floor(rnd() * 256);
    const r = rnd();
    if (depth < 2 && r < 0.005) {
      entries.push([key, randomBucket(seed * 31 + i, Math.floor(rnd() * 200), depth + 1)]);
    } else {
      const vlen = r < 0.015 ? 4000 + Math.floor(rnd() * 9000) : Math.floor(rnd() * 120);
      entries.push([key, Buffer.alloc(vlen, Math.floor(rnd() * 256))]);
    }
  }
  return { entries: sortEntries(entries) };
}

/** Writes into memory through a Writable (the streaming path) and returns the bytes. */
export async function writeToBuffer(
  produce: BoltProducer,
  opts: BoltWriteOptions = {},
): Promise<{ bytes: Buffer; result: BoltWriteResult }> {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  const result = await writeBolt(produce, stream, opts);
  stream.end();
  return { bytes: Buffer.concat(chunks), result };
}

/** Lines "<path> <key hex> <value hex | bucket>", the format of test/interop/go/bbolt-check -dump. */
export function dumpDb(db: BoltDb): string[] {
  const lines: string[] = [];
  const walk = (b: BoltBucket, path: string[]): void => {
    for (const e of b.entries()) {
      if (e.isBucket) {
        lines.push(`${path.join('/')} ${e.key.toString('hex')} bucket`);
        walk(b.open(e), [...path, e.key.toString('hex')]);
      } else {
        lines.push(`${path.join('/')} ${e.key.toString('hex')} ${e.value.toString('hex')}`);
      }
    }
  };
  const root = db.root();
  for (const e of root.entries()) {
    if (!e.isBucket) {
      lines.push(`- ${e.key.toString('hex')} ${e.value.toString('hex')}`);
      continue;
    }
    lines.push(`- ${e.key.toString('hex')} bucket`);
    walk(root.open(e), [e.key.toString('hex')]);
  }
  return lines;
}

export function dumpSpec(top: [Buffer, TestBucket][]): string[] {
  const lines: string[] = [];
  const walk = (b: TestBucket, path: string[]): void => {
    for (const [k, v] of b.entries) {
      if (Buffer.isBuffer(v)) lines.push(`${path.join('/')} ${k.toString('hex')} ${v.toString('hex')}`);
      else {
        lines.push(`${path.join('/')} ${k.toString('hex')} bucket`);
        walk(v, [...path, k.toString('hex')]);
      }
    }
  };
  for (const [name, b] of top) {
    lines.push(`- ${name.toString('hex')} bucket`);
    walk(b, [name.toString('hex')]);
  }
  return lines;
}
