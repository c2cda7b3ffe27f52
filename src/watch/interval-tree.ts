// Dynamic set of half-open key intervals [start, end) with a payload each, answering
// "which intervals contain this key" (a stab) in O(log n + matches) expected time.
//
// It is a treap ordered by (start, end) where every node also knows the largest `end`
// in its subtree, so a stab skips subtrees that end at or before the key. Priorities
// come from a private xorshift sequence: deterministic, no Math.random, and not under
// the control of whoever picks the keys. Chosen over a sorted list because prefix
// watchers can number in the thousands and a list would be scanned per event.

interface Node<T> {
  start: string;
  end: string;
  maxEnd: string;
  prio: number;
  left: Node<T> | null;
  right: Node<T> | null;
  value: T;
}

function order(aStart: string, aEnd: string, b: Node<unknown>): number {
  if (aStart !== b.start) return aStart < b.start ? -1 : 1;
  if (aEnd !== b.end) return aEnd < b.end ? -1 : 1;
  return 0;
}

function refresh<T>(n: Node<T>): void {
  let m = n.end;
  if (n.left !== null && n.left.maxEnd > m) m = n.left.maxEnd;
  if (n.right !== null && n.right.maxEnd > m) m = n.right.maxEnd;
  n.maxEnd = m;
}

function rotateRight<T>(n: Node<T>): Node<T> {
  const l = n.left!;
  n.left = l.right;
  l.right = n;
  refresh(n);
  refresh(l);
  return l;
}

function rotateLeft<T>(n: Node<T>): Node<T> {
  const r = n.right!;
  n.right = r.left;
  r.left = n;
  refresh(n);
  refresh(r);
  return r;
}

export class IntervalTree<T> {
  private root: Node<T> | null = null;
  private readonly nodes = new Map<string, Node<T>>();
  private prioState = 0x2545f491;

  get size(): number {
    return this.nodes.size;
  }

  get(start: string, end: string): T | undefined {
    return this.nodes.get(start + KEY_SEP + end)?.value;
  }

  /** Replaces the payload of [start, end), which must be present. */
  set(start: string, end: string, value: T): void {
    const node = this.nodes.get(start + KEY_SEP + end);
    if (node === undefined) throw new Error('interval-tree: setting an interval that is not present');
    node.value = value;
  }

  /** Adds [start, end) with its payload; the interval must not be present yet. */
  insert(start: string, end: string, value: T): void {
    if (!(start < end)) throw new Error(`interval-tree: empty interval inserted`);
    const id = start + KEY_SEP + end;
    if (this.nodes.has(id)) throw new Error('interval-tree: interval inserted twice');
    const node: Node<T> = { start, end, maxEnd: end, prio: this.nextPrio(), left: null, right: null, value };
    this.nodes.set(id, node);
    this.root = this.insertAt(this.root, node);
  }

  /** Removes [start, end); returns whether it was present. */
  delete(start: string, end: string): boolean {
    const id = start + KEY_SEP + end;
    if (!this.nodes.delete(id)) return false;
    this.root = this.deleteAt(this.root, start, end);
    return true;
  }

  /** Calls `visit` with the payload of every interval containing `key`. The tree must not change meanwhile. */
  stab(key: string, visit: (value: T) => void): void {
    const stack: Node<T>[] = [];
    let n = this.root;
    while (n !== null || stack.length > 0) {
      if (n === null) n = stack.pop()!;
      if (n.maxEnd <= key) {
        n = null;
        continue;
      }
      if (n.start <= key) {
        if (key < n.end) visit(n.value);
        if (n.right !== null) stack.push(n.right);
      }
      n = n.left;
    }
  }

  forEach(visit: (value: T, start: string, end: string) => void): void {
    for (const n of this.nodes.values()) visit(n.value, n.start, n.end);
  }

  private nextPrio(): number {
    let x = this.prioState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.prioState = x >>> 0;
    return this.prioState;
  }

  private insertAt(n: Node<T> | null, node: Node<T>): Node<T> {
    if (n === null) return node;
    if (order(node.start, node.end, n) < 0) {
      n.left = this.insertAt(n.left, node);
      if (n.left.prio > n.prio) return rotateRight(n);
    } else {
      n.right = this.insertAt(n.right, node);
      if (n.right.prio > n.prio) return rotateLeft(n);
    }
    refresh(n);
    return n;
  }

  private deleteAt(n: Node<T> | null, start: string, end: string): Node<T> | null {
    if (n === null) throw new Error('interval-tree: indexed interval missing from the tree');
    const c = order(start, end, n);
    if (c < 0) n.left = this.deleteAt(n.left, start, end);
    else if (c > 0) n.right = this.deleteAt(n.right, start, end);
    else {
      if (n.left === null) return n.right;
      if (n.right === null) return n.left;
      // Rotate the node below its higher-priority child, then keep removing it there.
      if (n.left.prio > n.right.prio) {
        const top = rotateRight(n);
        top.right = this.deleteAt(top.right, start, end);
        refresh(top);
        return top;
      }
      const top = rotateLeft(n);
      top.left = this.deleteAt(top.left, start, end);
      refresh(top);
      return top;
    }
    refresh(n);
    return n;
  }
}

/** Separates start and end in the lookup id; above every latin1 char, so ids are unambiguous. */
const KEY_SEP = '\u0101';
