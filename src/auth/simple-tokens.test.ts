import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../util/seeded-random.js';
import { SimpleTokens, simpleTokenIndex, simpleTokenPrefix } from './simple-tokens.js';

function seededBytes(seed: number): (n: number) => Uint8Array {
  const r = seededRandom(seed);
  return (n) => Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

describe('simple tokens', () => {
  test('prefixes are 16 letters, reproducible from the random source', () => {
    const a = simpleTokenPrefix(seededBytes(1));
    assert.match(a, /^[a-zA-Z]{16}$/);
    assert.equal(simpleTokenPrefix(seededBytes(1)), a);
    assert.notEqual(simpleTokenPrefix(seededBytes(2)), a);
  });

  test('the index is what follows the one dot, as Go parses it', () => {
    assert.equal(simpleTokenIndex('abc.12'), 12);
    assert.equal(simpleTokenIndex('abc.+12'), 12);
    assert.equal(simpleTokenIndex('abc'), undefined);
    assert.equal(simpleTokenIndex('a.b.1'), undefined);
    assert.equal(simpleTokenIndex('abc.1x'), undefined);
  });

  test('a token lives for its TTL after its last use', () => {
    const t = new SimpleTokens(1000);
    t.enable();
    const token = t.assign('prefix', 7, 'alice', 0);
    assert.equal(token, 'prefix.7');
    assert.equal(t.info(token, 900), 'alice', 'used at 900: lives until 1900');
    assert.equal(t.info(token, 1800), 'alice');
    assert.equal(t.info(token, 2801), undefined, 'unused for more than the TTL');
    assert.equal(t.size, 0);
  });

  test('the sweep forgets expired tokens only', () => {
    const t = new SimpleTokens(1000);
    t.enable();
    t.assign('a', 1, 'alice', 0);
    t.assign('b', 2, 'bob', 500);
    assert.equal(t.sweep(1200), 1);
    assert.equal(t.info('a.1', 1200), undefined);
    assert.equal(t.info('b.2', 1200), 'bob');
  });

  test("invalidation: one user's tokens, or all of them when auth is disabled", () => {
    const t = new SimpleTokens(60_000);
    t.enable();
    t.assign('a', 1, 'alice', 0);
    t.assign('b', 2, 'alice', 0);
    t.assign('c', 3, 'bob', 0);
    t.invalidateUser('alice');
    assert.equal(t.info('a.1', 1), undefined);
    assert.equal(t.info('b.2', 1), undefined);
    assert.equal(t.info('c.3', 1), 'bob');
    t.disable();
    assert.equal(t.info('c.3', 1), undefined);
    t.assign('d', 4, 'bob', 0);
    assert.equal(t.info('d.4', 1), undefined, 'nothing is kept while auth is disabled');
  });

  test("a TTL of zero means etcd's default of five minutes", () => {
    const t = new SimpleTokens(0);
    t.enable();
    t.assign('a', 1, 'alice', 0);
    assert.equal(t.info('a.1', 299_000), 'alice');
    assert.equal(t.info('a.1', 299_000 + 300_001), undefined);
  });
});
