import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../util/seeded-random.js';
import { SortedKeys } from './sorted-keys.js';

interface Item {
  key: string;
}

function check(s: SortedKeys<Item>, model: Set<string>, probes: string[]): void {
  const sorted = [...model].sort();
  assert.equal(s.size, sorted.length);
  assert.deepEqual(
    [...s.from()].map((i) => i.key),
    sorted,
  );
  for (const p of probes) {
    assert.deepEqual(
      [...s.from(p)].map((i) => i.key),
      sorted.filter((k) => k >= p),
      `from(${JSON.stringify(p)})`,
    );
  }
}

describe('SortedKeys', () => {
  test('random inserts and deletes match a sorted model, across chunk splits and removals', () => {
    for (const seed of [1, 2, 3]) {
      const rnd = seededRandom(seed);
      const s = new SortedKeys<Item>((i) => i.key);
      const model = new Set<string>();
      const keyOf = (n: number) =>
        String.fromCharCode(
          ...String(n)
            .split('')
            .map((c) => c.charCodeAt(0)),
        );
      for (let step = 0; step < 6000; step++) {
        const k = keyOf(Math.floor(rnd() * 3000));
        if (rnd() < 0.7) {
          if (model.has(k)) assert.throws(() => s.insert({ key: k }), /already present/);
          else {
            s.insert({ key: k });
            model.add(k);
          }
        } else {
          assert.equal(s.delete(k), model.has(k));
          model.delete(k);
        }
        if (step % 1000 === 999) check(s, model, ['', '1', '15', '2999', '9', '\xff', keyOf(1500)]);
      }
      check(s, model, ['', '0', '5', '~']);
    }
  });

  test('ascending appends, then deleting everything, leave an empty structure', () => {
    const s = new SortedKeys<Item>((i) => i.key);
    const keys: string[] = [];
    for (let i = 0; i < 5000; i++) keys.push(String(i).padStart(8, '0'));
    for (const k of keys) s.insert({ key: k });
    check(s, new Set(keys), ['00002500', '00004999', '00005000', '']);
    for (const k of keys.slice().reverse()) assert.ok(s.delete(k));
    assert.equal(s.size, 0);
    assert.deepEqual([...s.from('0')], []);
    assert.equal(s.delete('00000001'), false);
    s.insert({ key: 'a' });
    assert.deepEqual(
      [...s.from()].map((i) => i.key),
      ['a'],
    );
  });

  test('byte order for latin1 keys, high bytes included', () => {
    const s = new SortedKeys<Item>((i) => i.key);
    for (const k of ['\xff', 'a', '\x00', 'ab', '\x80z', 'b']) s.insert({ key: k });
    assert.deepEqual(
      [...s.from()].map((i) => i.key),
      ['\x00', 'a', 'ab', 'b', '\x80z', '\xff'],
    );
  });
});
