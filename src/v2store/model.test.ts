// A model test: random operations on a small key space, each checked against
// a plain map of paths that re-derives etcd's v2 rules (errors, indexes,
// values, TTL expiry), plus a snapshot round trip after every step.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../util/seeded-random.js';
import { V2Error, V2ErrorCode } from './errors.js';
import { decodeStoreJson, encodeStoreJson } from './json.js';
import { V2Store } from './store.js';
import { NS_PER_SECOND } from './time.js';

interface ModelNode {
  dir: boolean;
  value: string;
  created: number;
  modified: number;
  expire?: bigint;
}

class Model {
  index = 0;
  readonly nodes = new Map<string, ModelNode>([['/1', { dir: true, value: '', created: 0, modified: 0 }]]);

  parent(p: string): string {
    return p.slice(0, p.lastIndexOf('/'));
  }

  /** The first error walking to `p` (etcd's internalGet), or the node. */
  lookup(p: string): { code: V2ErrorCode; cause: string } | ModelNode {
    const parts = p.split('/').slice(1);
    let at = '';
    for (let i = 0; i < parts.length; i++) {
      const parent = at === '' ? '/' : at;
      at += `/${parts[i]}`;
      const n = this.nodes.get(at);
      if (n === undefined) return { code: V2ErrorCode.KeyNotFound, cause: at };
      if (i < parts.length - 1 && !n.dir) return { code: V2ErrorCode.NotDir, cause: at };
      void parent;
    }
    return this.nodes.get(p)!;
  }

  /** Creates missing parent directories at the next index; a file on the way is NotDir. */
  ensureParents(p: string): { code: V2ErrorCode; cause: string } | undefined {
    const parts = p.split('/').slice(1, -1);
    let at = '';
    for (const part of parts) {
      at += `/${part}`;
      const n = this.nodes.get(at);
      if (n !== undefined && !n.dir) return { code: V2ErrorCode.NotDir, cause: at };
    }
    at = '';
    for (const part of parts) {
      at += `/${part}`;
      if (!this.nodes.has(at))
        this.nodes.set(at, { dir: true, value: '', created: this.index + 1, modified: this.index + 1 });
    }
    return undefined;
  }

  removeTree(p: string): void {
    for (const k of [...this.nodes.keys()]) if (k === p || k.startsWith(`${p}/`)) this.nodes.delete(k);
  }
}

type Outcome = { code: V2ErrorCode; cause: string } | { index: number; value?: string };

const KEYS = ['/1/a', '/1/b', '/1/a/x', '/1/a/y', '/1/b/z', '/1/c'];

/** Runs the model; returns how often each error code (0 for success) came up. */
function run(seed: number, steps: number): Map<number, number> {
  const seen = new Map<number, number>();
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  let now = 1_800_000_000n * NS_PER_SECOND;
  let store = new V2Store();
  const m = new Model();
  const ok = (value?: string): Outcome => {
    m.index++;
    return value === undefined ? { index: m.index } : { index: m.index, value };
  };
  for (let step = 0; step < steps; step++) {
    const key = pick(KEYS);
    const value = `v${Math.floor(rnd() * 3)}`;
    const ttl = rnd() < 0.2 ? now + BigInt(1 + Math.floor(rnd() * 3)) * NS_PER_SECOND : undefined;
    const op = pick(['set', 'mkdir', 'create', 'update', 'cas', 'delete', 'rdelete', 'cad', 'tick'] as const);
    let expected: Outcome;
    let actual: Outcome;
    const node = m.lookup(key);
    switch (op) {
      case 'set':
      case 'mkdir': {
        const dir = op === 'mkdir';
        const bad = 'code' in node && node.code !== V2ErrorCode.KeyNotFound ? node : m.ensureParents(key);
        if (bad !== undefined) expected = bad;
        else if (!('code' in node) && node.dir) expected = { code: V2ErrorCode.NotFile, cause: key };
        else {
          m.nodes.set(key, {
            dir,
            value: dir ? '' : value,
            created: m.index + 1,
            modified: m.index + 1,
            expire: ttl,
          });
          expected = ok(dir ? undefined : value);
        }
        actual = attempt(() => store.set(key, dir, value, { expireTime: ttl }, now));
        break;
      }
      case 'create': {
        const bad = m.ensureParents(key);
        if (bad !== undefined) expected = bad;
        else if (!('code' in node)) expected = { code: V2ErrorCode.NodeExist, cause: key };
        else {
          m.nodes.set(key, { dir: false, value, created: m.index + 1, modified: m.index + 1, expire: ttl });
          expected = ok(value);
        }
        actual = attempt(() => store.create(key, false, value, false, { expireTime: ttl }, now));
        break;
      }
      case 'update':
      case 'cas': {
        const prev = op === 'cas' ? `v${Math.floor(rnd() * 3)}` : '';
        if ('code' in node) expected = node;
        else if (node.dir) expected = { code: V2ErrorCode.NotFile, cause: key };
        else if (op === 'cas' && node.value !== prev) {
          expected = { code: V2ErrorCode.TestFailed, cause: `[${prev} != ${node.value}]` };
        } else {
          node.value = value;
          node.modified = m.index + 1;
          node.expire = ttl;
          expected = ok(value);
        }
        actual =
          op === 'cas'
            ? attempt(() => store.compareAndSwap(key, prev, 0, value, { expireTime: ttl }, now))
            : attempt(() => store.update(key, value, { expireTime: ttl }, now));
        break;
      }
      case 'delete':
      case 'rdelete': {
        const recursive = op === 'rdelete';
        if ('code' in node) expected = node;
        else if (node.dir && !recursive) expected = { code: V2ErrorCode.NotFile, cause: key };
        else {
          m.removeTree(key);
          expected = ok();
        }
        actual = attempt(() => store.delete(key, false, recursive, now));
        break;
      }
      case 'cad': {
        if ('code' in node) expected = node;
        else if (node.dir) expected = { code: V2ErrorCode.NotFile, cause: key };
        else if (node.value !== value)
          expected = { code: V2ErrorCode.TestFailed, cause: `[${value} != ${node.value}]` };
        else {
          m.nodes.delete(key);
          expected = ok();
        }
        actual = attempt(() => store.compareAndDelete(key, value, 0, now));
        break;
      }
      case 'tick': {
        now += NS_PER_SECOND;
        // Expire soonest first; a removed directory takes what is inside.
        const due = [...m.nodes.entries()]
          .filter(([, n]) => n.expire !== undefined && n.expire <= now)
          .sort((a, b) => (a[1].expire! < b[1].expire! ? -1 : a[1].expire! > b[1].expire! ? 1 : 0));
        for (const [p] of due) {
          if (!m.nodes.has(p)) continue;
          m.removeTree(p);
          m.index++;
        }
        store.deleteExpiredKeys(now);
        expected = { index: m.index };
        actual = { index: store.index };
        break;
      }
    }
    const where = `seed ${seed} step ${step}: ${op} ${key}`;
    assert.deepEqual(actual, 'code' in expected ? { ...expected } : expected, where);
    const code = 'code' in actual ? actual.code : 0;
    seen.set(code, (seen.get(code) ?? 0) + 1);
    assert.equal(store.index, m.index, where);
    // Every key the model has reads back the same; nothing else exists.
    for (const [p, n] of m.nodes) {
      if (p === '/1') continue;
      const got = store.get(p, false, false, now).node;
      assert.deepEqual(
        [got.dir === true, got.value ?? '', got.createdIndex, got.modifiedIndex, got.expiration],
        [n.dir, n.dir ? '' : n.value, n.created, n.dir ? got.modifiedIndex : n.modified, n.expire],
        `${where}: ${p}`,
      );
    }
    const json = encodeStoreJson(store);
    store = decodeStoreJson(json);
    assert.equal(encodeStoreJson(store), json, where);
  }
  return seen;
}

function attempt(fn: () => { node: { modifiedIndex: number; value?: string } }): Outcome {
  try {
    const e = fn();
    return e.node.value === undefined
      ? { index: e.node.modifiedIndex }
      : { index: e.node.modifiedIndex, value: e.node.value };
  } catch (err) {
    if (!(err instanceof V2Error)) throw err;
    return { code: err.errorCode, cause: err.cause };
  }
}

describe('v2 store model test', () => {
  const total = new Map<number, number>();
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    test(`seed ${seed}`, () => {
      for (const [code, n] of run(seed, 300)) total.set(code, (total.get(code) ?? 0) + n);
    });
  }
  test('the runs met every outcome the model knows', () => {
    for (const code of [
      0,
      V2ErrorCode.KeyNotFound,
      V2ErrorCode.TestFailed,
      V2ErrorCode.NotFile,
      V2ErrorCode.NotDir,
      V2ErrorCode.NodeExist,
    ]) {
      assert.ok((total.get(code) ?? 0) > 5, `outcome ${code} seen ${total.get(code) ?? 0} times`);
    }
  });
});
