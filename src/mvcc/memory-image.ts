// The committed content of a MemoryBackend: records keyed by their revision key (as a latin1
// string, so string order is byte order, as in LMDB), meta values and side buckets. B-trees
// clone in O(1) (copy on write), which gives read views and crash images for free.

import BTreeModule from 'sorted-btree';
import type { MetaName } from './store-backend.js';

// sorted-btree is CommonJS with `exports.default`; under Node ESM the class sits on `.default`.
const BTree = BTreeModule.default;
type Tree = InstanceType<typeof BTree<string, Uint8Array>>;

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function newTree(): Tree {
  return new BTree<string, Uint8Array>(undefined, compareKeys);
}

/** One committed change; a commit is a list of them, applied in order. */
export type ImageChange =
  | { kind: 'put'; key: string; value: Uint8Array }
  | { kind: 'delete'; key: string }
  | { kind: 'meta'; name: MetaName; value: number }
  | { kind: 'aux'; bucket: string; key: string; value: Uint8Array | null };

export class MemoryImage {
  /** Bytes of keys and values held (what a compacted file would need). */
  liveBytes = 0;

  constructor(
    readonly records: Tree = newTree(),
    readonly meta: Map<MetaName, number> = new Map(),
    readonly aux: Map<string, Tree> = new Map(),
  ) {}

  clone(): MemoryImage {
    const aux = new Map<string, Tree>();
    for (const [name, tree] of this.aux) aux.set(name, tree.clone());
    const c = new MemoryImage(this.records.clone(), new Map(this.meta), aux);
    c.liveBytes = this.liveBytes;
    return c;
  }

  apply(changes: readonly ImageChange[]): void {
    for (const c of changes) {
      switch (c.kind) {
        case 'put':
          this.set(this.records, c.key, c.value);
          break;
        case 'delete':
          this.set(this.records, c.key, null);
          break;
        case 'meta':
          this.meta.set(c.name, c.value);
          break;
        case 'aux': {
          let tree = this.aux.get(c.bucket);
          if (tree === undefined) {
            tree = newTree();
            this.aux.set(c.bucket, tree);
          }
          this.set(tree, c.key, c.value);
          break;
        }
      }
    }
  }

  private set(tree: Tree, key: string, value: Uint8Array | null): void {
    const old = tree.get(key);
    if (old !== undefined) this.liveBytes -= key.length + old.length;
    if (value === null) {
      tree.delete(key);
      return;
    }
    tree.set(key, value);
    this.liveBytes += key.length + value.length;
  }
}
