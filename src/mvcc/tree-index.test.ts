import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bytesToKey, keyToBytes, TreeIndex } from './tree-index.js';

const r = (main: number, sub = 0) => ({ main, sub });

function build(): TreeIndex {
  const idx = new TreeIndex();
  idx.put('a', r(2));
  idx.put('b', r(3));
  idx.put('c', r(4));
  idx.put('a', r(5));
  assert.equal(idx.tombstone('b', r(6)), true);
  idx.put('d', r(7, 0));
  idx.put('e', r(7, 1));
  return idx;
}

const keysOf = (idx: TreeIndex, key: string, end: string | null, at: number) =>
  idx.range(key, end, at).map((x) => `${x.key}@${x.rev.main}.${x.rev.sub}`);

describe('TreeIndex', () => {
  test('latin1 keys sort like bytes', () => {
    const bytes = new Uint8Array([0x00, 0x7f, 0x80, 0xff]);
    assert.deepEqual(keyToBytes(bytesToKey(bytes)), bytes);
    assert.ok(bytesToKey(new Uint8Array([0x7f])) < bytesToKey(new Uint8Array([0x80])));
    assert.ok(bytesToKey(new Uint8Array([0xff])) < bytesToKey(new Uint8Array([0xff, 0x00])));
  });

  test('single key, bounded range and open range at revisions', () => {
    const idx = build();
    assert.deepEqual(keysOf(idx, 'a', null, 7), ['a@5.0']);
    assert.deepEqual(keysOf(idx, 'a', null, 4), ['a@2.0']);
    assert.deepEqual(keysOf(idx, 'a', 'd', 7), ['a@5.0', 'c@4.0']);
    assert.deepEqual(keysOf(idx, 'a', 'd', 5), ['a@5.0', 'b@3.0', 'c@4.0']);
    assert.deepEqual(keysOf(idx, 'c', '', 7), ['c@4.0', 'd@7.0', 'e@7.1']);
    assert.deepEqual(keysOf(idx, 'd', 'a', 7), [], 'end below key');
    assert.deepEqual(keysOf(idx, 'zz', null, 7), []);
    assert.deepEqual(keysOf(idx, '', '', 1), []);
  });

  test('restoreRecord rebuilds the same answers', () => {
    const idx = new TreeIndex();
    idx.restoreRecord('a', r(2), false, r(2), 1);
    idx.restoreRecord('b', r(3), false, r(3), 1);
    idx.restoreRecord('a', r(5), false, r(2), 2);
    idx.restoreRecord('b', r(6), true, r(0), 0);
    idx.restoreRecord('x', r(7), true, r(0), 0); // leading tombstone: ignored
    assert.deepEqual(keysOf(idx, '', '', 7), ['a@5.0']);
    assert.deepEqual(keysOf(idx, '', '', 5), ['a@5.0', 'b@3.0']);
    assert.deepEqual(idx.get('a', 7), { modified: r(5), created: r(2), version: 2 });
  });

  test('compact drops dead keys and reports what to keep', () => {
    const idx = build();
    const keep = idx.compact(6);
    assert.deepEqual([...keep].sort(), ['4.0', '5.0']);
    assert.equal(idx.size(), 4, 'b is gone');
    assert.deepEqual(keysOf(idx, '', '', 7), ['a@5.0', 'c@4.0', 'd@7.0', 'e@7.1']);
    assert.deepEqual([...build().keep(6)].sort(), ['4.0', '5.0']);
  });
});
