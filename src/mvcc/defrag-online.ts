// What a backend offers for a defragmentation that does not stop the world: the long part
// (copying compacted while the store is in use) separate from the short swap, which
// StoreBackend.defragmented() does while the caller holds writes back.

import type { StoreBackend } from './store-backend.js';

export interface OnlineDefrag {
  /** Copies the backend compacted while reads and writes go on; defragmented() then only swaps. */
  prepareDefragment(): Promise<void>;
  /** Drops a prepared copy (the backend stays as it is). */
  cancelDefragment(): Promise<void>;
}

export function hasOnlineDefrag(b: StoreBackend): b is StoreBackend & OnlineDefrag {
  const candidate = b as Partial<OnlineDefrag>;
  return (
    typeof candidate.prepareDefragment === 'function' && typeof candidate.cancelDefragment === 'function'
  );
}
