// A node of the v2 store: a key with a value, or a directory with children.
// Its external form (NodeExtern) is what events and the HTTP API show.
import { splitPath } from './path.js';
import { NS_PER_SECOND } from './time.js';

/** A node as events and the v2 API show it (etcd's NodeExtern; omitted fields are Go's omitempty). */
export interface NodeExtern {
  key: string;
  /** Absent for directories (and for a deleted key's event node). */
  value?: string;
  dir?: boolean;
  /** Unix nanoseconds; absent for permanent nodes. */
  expiration?: bigint;
  /** Seconds left, rounded up; absent (0) for permanent nodes. */
  ttl?: number;
  nodes?: NodeExtern[];
  modifiedIndex: number;
  createdIndex: number;
}

export class V2Node {
  /** Position in the store's TTL heap, -1 when not in it. */
  heapIndex = -1;

  constructor(
    public path: string,
    public createdIndex: number,
    public modifiedIndex: number,
    public parent: V2Node | undefined,
    /** Unix nanoseconds; undefined = permanent (Go's zero time). */
    public expireTime: bigint | undefined,
    public value: string,
    /** Present exactly for directories. */
    public children: Map<string, V2Node> | undefined,
  ) {}

  static key(
    path: string,
    value: string,
    index: number,
    parent: V2Node | undefined,
    expire?: bigint,
  ): V2Node {
    return new V2Node(path, index, index, parent, expire, value, undefined);
  }

  static dir(path: string, index: number, parent: V2Node | undefined, expire?: bigint): V2Node {
    return new V2Node(path, index, index, parent, expire, '', new Map());
  }

  get isDir(): boolean {
    return this.children !== undefined;
  }

  get isPermanent(): boolean {
    return this.expireTime === undefined;
  }

  get name(): string {
    return splitPath(this.path)[1];
  }

  /** Hidden nodes ("_name") are left out of directory listings. */
  get isHidden(): boolean {
    return this.name.startsWith('_');
  }

  /** etcd's expirationAndTTL: the expire time and the seconds left, rounded up. */
  ttlFields(now: bigint): { expiration?: bigint; ttl?: number } {
    if (this.expireTime === undefined) return {};
    const left = this.expireTime - now;
    let ttl = left / NS_PER_SECOND;
    if (left % NS_PER_SECOND > 0n) ttl++;
    return ttl === 0n ? { expiration: this.expireTime } : { expiration: this.expireTime, ttl: Number(ttl) };
  }

  /** Children in listing order, hidden ones left out. */
  visibleChildren(): V2Node[] {
    return [...(this.children?.values() ?? [])].filter((c) => !c.isHidden);
  }

  /** etcd's Repr: the external form, with children when recursive. */
  repr(recursive: boolean, sorted: boolean, now: bigint): NodeExtern {
    const out: NodeExtern = {
      key: this.path,
      modifiedIndex: this.modifiedIndex,
      createdIndex: this.createdIndex,
    };
    if (this.isDir) {
      out.dir = true;
      Object.assign(out, this.ttlFields(now));
      if (recursive) out.nodes = listing(this, recursive, sorted, now);
      return out;
    }
    out.value = this.value;
    Object.assign(out, this.ttlFields(now));
    return out;
  }

  /** A deep copy (parents re-linked inside the copy). */
  clone(parent: V2Node | undefined): V2Node {
    const n = new V2Node(
      this.path,
      this.createdIndex,
      this.modifiedIndex,
      parent,
      this.expireTime,
      this.value,
      undefined,
    );
    if (this.children !== undefined) {
      n.children = new Map();
      for (const [k, c] of this.children) n.children.set(k, c.clone(n));
    }
    return n;
  }
}

/** A directory's visible children in external form (etcd's loadInternalNode / Repr listing). */
export function listing(dir: V2Node, recursive: boolean, sorted: boolean, now: bigint): NodeExtern[] {
  const nodes = dir.visibleChildren().map((c) => c.repr(recursive, sorted, now));
  if (sorted) nodes.sort((a, b) => compareUtf8(a.key, b.key));
  return nodes;
}

const utf8 = new TextEncoder();

/** Go's string order: by UTF-8 bytes (differs from UTF-16 order beyond the BMP). */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const ab = utf8.encode(a);
  const bb = utf8.encode(b);
  const n = Math.min(ab.length, bb.length);
  for (let i = 0; i < n; i++) if (ab[i] !== bb[i]) return ab[i]! - bb[i]!;
  return ab.length - bb.length;
}

export function cloneExtern(n: NodeExtern): NodeExtern {
  const out: NodeExtern = { ...n };
  if (n.nodes !== undefined) out.nodes = n.nodes.map(cloneExtern);
  return out;
}
