// Small helpers shared by the Raft core. Nothing here keeps state.
import type { Entry } from './types.js';

/** Invariant check that stays on in production: a violated invariant means a bug, never a user error. */
export function assert(cond: boolean, msg: string): asserts cond {
  if (!cond) violated(msg);
}

/**
 * Throws for a broken invariant. Hot paths write `if (!(cond)) violated(`...`)` rather than
 * `assert(cond, `...`)`, so the message is only built when the check fails.
 */
export function violated(msg: string): never {
  throw new Error(`raft invariant violated: ${msg}`);
}

/** Fixed per-entry overhead (term, index, type, framing) used for all size estimates. */
export const ENTRY_OVERHEAD_BYTES = 24;

export function entrySize(e: Entry): number {
  return e.data.length + ENTRY_OVERHEAD_BYTES;
}

export function entriesSize(ents: readonly Entry[]): number {
  let total = 0;
  for (const e of ents) total += entrySize(e);
  return total;
}

/** Bytes the application asked Raft to replicate; the bound on uncommitted proposals counts only these. */
export function payloadSize(ents: readonly Entry[]): number {
  let total = 0;
  for (const e of ents) total += e.data.length;
  return total;
}

/** The longest prefix within maxSizeBytes, but never empty when the input is not (progress must be possible). */
export function limitSize(ents: Entry[], maxSizeBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySize(ents[0]);
  let n = 1;
  while (n < ents.length) {
    size += entrySize(ents[n]);
    if (size > maxSizeBytes) break;
    n++;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

/** A map key for an opaque byte string (read request contexts). */
export function bytesKey(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

export function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);
