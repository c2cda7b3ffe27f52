import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KeyHistory } from './key-history.js';

const r = (main: number, sub = 0) => ({ main, sub });

/** put@1, put@2, delete@3, put@4, delete@5 (etcd's documented example). */
function example(): KeyHistory {
  const h = new KeyHistory('foo');
  h.put(r(1));
  h.put(r(2));
  assert.equal(h.tombstone(r(3)), true);
  h.put(r(4));
  assert.equal(h.tombstone(r(5)), true);
  return h;
}

describe('KeyHistory', () => {
  test('generations follow puts and tombstones', () => {
    assert.deepEqual(example().describe(), [['1.0', '2.0', '3.0'], ['4.0', '5.0'], []]);
  });

  test('get answers per revision, with versions restarting after a delete', () => {
    const h = example();
    assert.equal(h.get(0), undefined);
    assert.deepEqual(h.get(1), { modified: r(1), created: r(1), version: 1 });
    assert.deepEqual(h.get(2), { modified: r(2), created: r(1), version: 2 });
    assert.equal(h.get(3), undefined, 'deleted at 3');
    assert.deepEqual(h.get(4), { modified: r(4), created: r(4), version: 1 });
    assert.equal(h.get(5), undefined);
    assert.equal(h.get(100), undefined);
    assert.equal(h.isLive(), false);
  });

  test('tombstone on a deleted key changes nothing', () => {
    const h = example();
    assert.equal(h.tombstone(r(6)), false);
    assert.deepEqual(h.describe(), [['1.0', '2.0', '3.0'], ['4.0', '5.0'], []]);
  });

  test('put must move forward', () => {
    const h = new KeyHistory('k');
    h.put(r(5, 1));
    assert.throws(() => h.put(r(5, 1)), /invariant/);
    assert.throws(() => h.put(r(4, 9)), /invariant/);
    h.put(r(5, 2));
  });

  test('compaction keeps the newest revision at or below the point, drops tombstones', () => {
    const cases: [number, string[][], string[]][] = [
      [1, [['1.0', '2.0', '3.0'], ['4.0', '5.0'], []], ['1.0']],
      [2, [['2.0', '3.0'], ['4.0', '5.0'], []], ['2.0']],
      [3, [['4.0', '5.0'], []], []],
      [4, [['4.0', '5.0'], []], ['4.0']],
      [5, [[]], []],
      [6, [[]], []],
    ];
    for (const [at, gens, kept] of cases) {
      const h = example();
      const keep = new Set<string>();
      h.compact(at, keep);
      assert.deepEqual(h.describe(), gens, `compact(${at})`);
      assert.deepEqual([...keep], kept, `keep of compact(${at})`);
      const probe = new Set<string>();
      example().keep(at, probe);
      assert.deepEqual([...probe], kept, `keep(${at}) agrees with compact(${at})`);
    }
  });

  test('compacted history still answers versions above the compaction point', () => {
    const h = new KeyHistory('k');
    for (let i = 2; i <= 6; i++) h.put(r(i));
    h.compact(4, new Set());
    assert.deepEqual(h.describe(), [['4.0', '5.0', '6.0']]);
    assert.deepEqual(h.get(6), { modified: r(6), created: r(2), version: 5 });
    assert.deepEqual(h.get(4), { modified: r(4), created: r(2), version: 3 });
  });

  test('restore seeds a key whose start was compacted away', () => {
    const h = new KeyHistory('k');
    h.restore(r(3), r(9), 4);
    h.put(r(11));
    assert.deepEqual(h.get(10), { modified: r(9), created: r(3), version: 4 });
    assert.deepEqual(h.get(11), { modified: r(11), created: r(3), version: 5 });
    assert.throws(() => h.restore(r(1), r(2), 1), /invariant/);
  });
});
