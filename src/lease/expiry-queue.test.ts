import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../util/seeded-random.js';
import { ExpiryQueue } from './expiry-queue.js';

const rng = seededRandom;

function drain(q: ExpiryQueue): Array<[bigint, number]> {
  const out: Array<[bigint, number]> = [];
  for (let e = q.pop(); e !== undefined; e = q.pop()) out.push([e.id, e.time]);
  return out;
}

describe('ExpiryQueue', () => {
  test('pops in time order, ties by id', () => {
    const q = new ExpiryQueue();
    q.set(5n, 100);
    q.set(2n, 50);
    q.set(9n, 100);
    q.set(1n, 100);
    q.set(7n, 10);
    assert.equal(q.size, 5);
    assert.deepEqual(q.peek(), { id: 7n, time: 10 });
    assert.deepEqual(drain(q), [
      [7n, 10],
      [2n, 50],
      [1n, 100],
      [5n, 100],
      [9n, 100],
    ]);
    assert.equal(q.size, 0);
    assert.equal(q.peek(), undefined);
    assert.equal(q.pop(), undefined);
  });

  test('set moves an existing entry both ways; one entry per id', () => {
    const q = new ExpiryQueue();
    for (let i = 1n; i <= 10n; i++) q.set(i, Number(i) * 10);
    q.set(10n, 1);
    q.set(1n, 1000);
    q.set(5n, 50);
    assert.equal(q.size, 10);
    assert.equal(q.timeOf(10n), 1);
    q.checkConsistency();
    assert.deepEqual(
      drain(q).map(([id]) => id),
      [10n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 1n],
    );
  });

  test('delete removes from anywhere', () => {
    const q = new ExpiryQueue();
    for (let i = 1n; i <= 7n; i++) q.set(i, Number(i));
    assert.equal(q.delete(4n), true);
    assert.equal(q.delete(4n), false);
    assert.equal(q.delete(1n), true);
    assert.equal(q.delete(7n), true);
    assert.equal(q.has(4n), false);
    assert.equal(q.timeOf(4n), undefined);
    q.checkConsistency();
    assert.deepEqual(
      drain(q).map(([id]) => id),
      [2n, 3n, 5n, 6n],
    );
  });

  test('Infinity sorts last; NaN is refused', () => {
    const q = new ExpiryQueue();
    q.set(1n, Number.POSITIVE_INFINITY);
    q.set(2n, 5);
    assert.deepEqual(q.peek(), { id: 2n, time: 5 });
    assert.throws(() => q.set(3n, Number.NaN), RangeError);
  });

  test('clear empties it', () => {
    const q = new ExpiryQueue();
    q.set(1n, 1);
    q.set(2n, 2);
    q.clear();
    assert.equal(q.size, 0);
    assert.equal(q.has(1n), false);
    q.set(1n, 3);
    assert.deepEqual(q.pop(), { id: 1n, time: 3 });
  });

  for (const seed of [1, 2, 3, 42, 1234]) {
    test(`matches a sorted-array model under random operations (seed ${seed})`, () => {
      const rand = rng(seed);
      const q = new ExpiryQueue();
      const model = new Map<bigint, number>();
      const order = (a: [bigint, number], b: [bigint, number]) =>
        a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
      for (let step = 0; step < 3000; step++) {
        const id = BigInt(1 + Math.floor(rand() * 200));
        const r = rand();
        if (r < 0.5) {
          const t = Math.floor(rand() * 1000);
          q.set(id, t);
          model.set(id, t);
        } else if (r < 0.7) {
          assert.equal(q.delete(id), model.delete(id));
        } else if (r < 0.85) {
          const want = [...model.entries()].sort(order)[0];
          const got = q.pop();
          if (want === undefined) assert.equal(got, undefined);
          else {
            assert.deepEqual(got, { id: want[0], time: want[1] });
            model.delete(want[0]);
          }
        } else {
          const want = [...model.entries()].sort(order)[0];
          const got = q.peek();
          assert.deepEqual(got, want === undefined ? undefined : { id: want[0], time: want[1] });
        }
        assert.equal(q.size, model.size);
        if (step % 100 === 0) q.checkConsistency();
      }
      assert.deepEqual(drain(q), [...model.entries()].sort(order));
    });
  }

  test('100,000 entries: inserts, moves and pops stay cheap', () => {
    const q = new ExpiryQueue();
    const n = 100_000;
    const start = performance.now();
    for (let i = 0; i < n; i++) q.set(BigInt(i + 1), (i * 7919) % n);
    for (let i = 0; i < n; i += 2) q.set(BigInt(i + 1), n + i);
    let last = -1;
    for (let i = 0; i < n; i++) {
      const e = q.pop()!;
      assert.ok(e.time >= last);
      last = e.time;
    }
    const elapsed = performance.now() - start;
    assert.ok(elapsed < 5000, `took ${elapsed} ms`);
  });
});
