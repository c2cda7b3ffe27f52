import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from './rng.js';

test('rng: a seed gives the same stream every time, other seeds differ', () => {
  const draw = (seed: number): number[] => {
    const r = new Rng(seed);
    return Array.from({ length: 50 }, () => r.nextU32());
  };
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
  assert.notDeepEqual(draw(2 ** 40), draw(2 ** 40 + 2 ** 32), 'high seed bits matter');
});

test('rng: bounded draws stay in range and cover it', () => {
  const r = new Rng(7);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const x = r.range(3, 9);
    assert.ok(x >= 3 && x <= 9 && Number.isInteger(x));
    seen.add(x);
    const f = r.next();
    assert.ok(f >= 0 && f < 1);
  }
  assert.equal(seen.size, 7);
  assert.throws(() => r.int(0));
  assert.throws(() => r.pick([]));
});

test('rng: forks are independent of later draws on the parent', () => {
  const a = new Rng(5);
  const b = new Rng(5);
  const fa = a.fork();
  const fb = b.fork();
  b.nextU32(); // the parent moving on does not disturb the fork
  assert.deepEqual(
    Array.from({ length: 10 }, () => fa.nextU32()),
    Array.from({ length: 10 }, () => fb.nextU32()),
  );
});
