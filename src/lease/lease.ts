// One lease's in-memory state, and the representation of attached keys. Keys are held as "byte
// strings" (one UTF-16 unit per byte, 0..255) so they can live in Sets and Maps by value; comparing
// two such strings with < orders them exactly as comparing the bytes would.

import { Buffer } from 'node:buffer';
import type { LeaseId, LeaseView } from './types.js';

export type KeyString = string;

export function keyString(key: Uint8Array): KeyString {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

export function keyBytes(s: KeyString): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function byteOrder(a: KeyString, b: KeyString): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class Lease {
  /** Last checkpointed remaining TTL, seconds; 0 when none. */
  remainingTtl: number;
  /** Monotonic ms at which the lease expires; Infinity = never (the lessor is not primary). */
  expiryMs = Number.POSITIVE_INFINITY;
  readonly keys = new Set<KeyString>();

  constructor(
    readonly id: LeaseId,
    /** Granted TTL, seconds, already raised to the minimum. */
    readonly ttl: number,
    remainingTtl = 0,
  ) {
    this.remainingTtl = remainingTtl;
  }

  /** The TTL a refresh starts from: the checkpointed remainder if there is one, else the full TTL. */
  refreshTtl(): number {
    return this.remainingTtl > 0 ? this.remainingTtl : this.ttl;
  }

  /** Set the expiry to `nowMs + extendMs + refreshTtl()` seconds. */
  refresh(nowMs: number, extendMs: number): void {
    this.expiryMs = nowMs + extendMs + this.refreshTtl() * 1000;
  }

  expiredAt(nowMs: number): boolean {
    return nowMs >= this.expiryMs;
  }

  sortedKeys(): Uint8Array[] {
    return [...this.keys].sort(byteOrder).map(keyBytes);
  }

  view(): LeaseView {
    return {
      id: this.id,
      grantedTtl: this.ttl,
      checkpointedTtl: this.remainingTtl,
      expiryMs: this.expiryMs,
      keyCount: this.keys.size,
    };
  }
}
