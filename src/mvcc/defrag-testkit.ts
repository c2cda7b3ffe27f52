// Shared by the defragmentation tests (not a test itself): a deterministic sequence of backend
// commits, and a digest of everything a backend holds, so a file left by a crash can be checked
// against a model that ran the same commits.

import { createHash } from 'node:crypto';
import { encodeRevision } from './revision.js';
import type { MetaName, StoreBackend } from './store-backend.js';

/** Steps 0..FILL-1 fill the backend; step FILL deletes most of it (something to reclaim). */
export const FILL = 300;

function filled(i: number, size: number): Uint8Array {
  return new Uint8Array(size).fill(i % 251);
}

/** Commit number `i` of the sequence; every step commits and stores consistent_index = i + 1. */
export function writeStep(b: StoreBackend, i: number): void {
  if (i === FILL) {
    const doomed = [];
    for (let main = 1; main <= FILL - 20; main++) doomed.push(encodeRevision({ main, sub: 0 }, false));
    b.deleteCommitted(doomed, [['consistent_index', i + 1]]);
    return;
  }
  b.putRecord({ main: i + 1, sub: 0 }, false, filled(i, i < FILL ? 4000 : 300));
  if (i % 3 === 0) b.putRecord({ main: i + 1, sub: 1 }, true, filled(i, 40));
  b.setAux('lease', new Uint8Array([i % 7]), i % 5 === 0 ? null : filled(i, 16));
  b.setAux('alarm', new Uint8Array([i % 2]), filled(i, 8));
  b.setMeta('consistent_index', i + 1);
  b.commit();
}

const META: MetaName[] = ['consistent_index', 'scheduledCompactRev', 'finishedCompactRev'];

/** sha256 over every record, meta value and side-bucket entry the backend has committed. */
export function digest(b: StoreBackend): string {
  const h = createHash('sha256');
  const view = b.readView();
  try {
    for (const { key, value } of view.records())
      h.update(`r${key.toString('hex')}=${value.toString('hex')};`);
    for (const name of META) h.update(`m${name}=${view.metaValue(name)};`);
    for (const bucket of view.auxBuckets()) {
      for (const { key, value } of view.aux(bucket))
        h.update(`a${bucket}:${key.toString('hex')}=${value.toString('hex')};`);
    }
  } finally {
    view.close();
  }
  return h.digest('hex');
}
