// The interval tree and watcher group against brute force, with random inserts,
// deletes and stabs (including the +infinity end of from-key watchers).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IntervalTree } from './interval-tree.js';
import { KEY_INFINITY, requestRange, toKeyString } from './key-range.js';
import { rng } from './testkit.js';

const ALPHABET = ['\0', 'a', 'b', 'c', '\xff'];

function randomKey(r: () => number): string {
  let s = '';
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)]!;
  return s;
}

test('interval tree stabs match brute force', () => {
  for (let seed = 1; seed <= 30; seed++) {
    const r = rng(seed);
    const tree = new IntervalTree<string>();
    const model = new Map<string, [string, string]>();
    for (let step = 0; step < 600; step++) {
      const x = r();
      if (x < 0.5) {
        const a = randomKey(r);
        const b = r() < 0.15 ? KEY_INFINITY : randomKey(r);
        if (!(a < b)) continue;
        const id = `${a}|${b}`;
        if (model.has(id)) {
          assert.equal(tree.get(a, b), id);
          continue;
        }
        tree.insert(a, b, id);
        model.set(id, [a, b]);
      } else if (x < 0.8 && model.size > 0) {
        const ids = [...model.keys()];
        const id = ids[Math.floor(r() * ids.length)]!;
        const [a, b] = model.get(id)!;
        assert.equal(tree.delete(a, b), true);
        assert.equal(tree.delete(a, b), false);
        model.delete(id);
      } else {
        const k = randomKey(r);
        const got: string[] = [];
        tree.stab(k, (v) => got.push(v));
        const want = [...model.entries()].filter(([, [a, b]]) => a <= k && k < b).map(([id]) => id);
        assert.deepEqual(got.sort(), want.sort(), `seed ${seed} step ${step} key ${JSON.stringify(k)}`);
      }
      assert.equal(tree.size, model.size);
    }
  }
});

test('key strings order like bytes; request ranges follow etcd conventions', () => {
  const a = toKeyString(Uint8Array.from([0x61, 0xff]));
  const b = toKeyString(Uint8Array.from([0x62]));
  const long = toKeyString(Buffer.alloc(40, 0xfe));
  assert.ok(a < b && b < long && long < KEY_INFINITY);
  assert.equal(long.length, 40);
  assert.deepEqual(requestRange(new Uint8Array(0), undefined), { start: '\0', end: undefined });
  assert.deepEqual(requestRange(Buffer.from('k'), Buffer.from([0])), { start: 'k', end: KEY_INFINITY });
  assert.deepEqual(requestRange(Buffer.from('k'), Buffer.alloc(0)), { start: 'k', end: undefined });
  assert.equal(requestRange(Buffer.from('k'), Buffer.from('k')), undefined);
  assert.deepEqual(requestRange(Buffer.from('k'), Buffer.from('l')), { start: 'k', end: 'l' });
});
