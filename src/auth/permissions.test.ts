import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Permission_Type } from '../pb/authpb/auth.js';
import { affineCompare, IntervalSet, permissionInterval, UserPermissions } from './permissions.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const perm = (permType: Permission_Type, key: string, rangeEnd = '') => ({
  permType,
  key: b(key),
  rangeEnd: b(rangeEnd),
});
const { READ, WRITE, READWRITE } = Permission_Type;

describe('affine byte order', () => {
  test('the empty string is +infinity, the rest is byte order', () => {
    assert.equal(affineCompare(b(''), b('\xff\xff')), 1);
    assert.equal(affineCompare(b('a'), b('')), -1);
    assert.equal(affineCompare(b(''), b('')), 0);
    assert.equal(affineCompare(b('a'), b('ab')), -1);
    assert.equal(affineCompare(b('b'), b('ab')), 1);
  });

  test('a permission without range end is its key alone; "\\0" reaches every later key', () => {
    assert.deepEqual(permissionInterval({ key: b('k'), rangeEnd: b('') }), {
      begin: b('k'),
      end: Uint8Array.of(0x6b, 0),
    });
    assert.deepEqual(permissionInterval({ key: b('k'), rangeEnd: b('\0') }), {
      begin: b('k'),
      end: new Uint8Array(0),
    });
    assert.deepEqual(permissionInterval({ key: b('a'), rangeEnd: b('c') }), { begin: b('a'), end: b('c') });
  });
});

describe('interval coverage', () => {
  const set = (...ivs: [string, string][]) =>
    new IntervalSet(ivs.map(([x, y]) => ({ begin: b(x), end: b(y) })));

  test('a key is covered by any interval containing it, ends excluded', () => {
    const s = set(['b', 'd'], ['x', '']);
    assert.equal(s.containsKey(b('b')), true);
    assert.equal(s.containsKey(b('c\xff')), true);
    assert.equal(s.containsKey(b('d')), false);
    assert.equal(s.containsKey(b('a')), false);
    assert.equal(s.containsKey(b('zzzz')), true);
  });

  test('a range needs overlapping grants without a gap', () => {
    const s = set(['a', 'c'], ['b', 'f'], ['f', 'h'], ['k', 'm']);
    assert.equal(s.covers({ begin: b('a'), end: b('h') }), true, 'overlapping and touching grants merge');
    assert.equal(s.covers({ begin: b('a'), end: b('i') }), false, 'past the last end');
    assert.equal(s.covers({ begin: b('g'), end: b('l') }), false, 'gap between h and k');
    assert.equal(s.covers({ begin: b('0'), end: b('b') }), false, 'starts before the first grant');
    assert.equal(s.covers({ begin: b('k'), end: b('m') }), true);
    assert.equal(s.covers({ begin: b('k'), end: b('') }), false, 'from-key needs an open-ended grant');
  });

  test('open-ended grants cover from-key ranges', () => {
    const s = set(['k', '']);
    assert.equal(s.covers({ begin: b('k'), end: b('') }), true);
    assert.equal(s.covers({ begin: b('l'), end: b('') }), true);
    assert.equal(s.covers({ begin: b('j'), end: b('') }), false);
    assert.equal(s.covers({ begin: b('z'), end: b('zz') }), true);
  });

  test('nothing granted covers nothing', () => {
    const s = set();
    assert.equal(s.containsKey(b('a')), false);
    assert.equal(s.covers({ begin: b('a'), end: b('b') }), false);
  });
});

describe("a user's merged permissions", () => {
  const p = new UserPermissions([
    perm(READWRITE, 'foo'),
    perm(READ, '/p/', '/p0'),
    perm(WRITE, 'a', 'm'),
    perm(WRITE, 'l', 'z'),
    perm(READWRITE, 'k', '\0'),
  ]);

  test('single keys', () => {
    assert.equal(p.permits('read', b('foo'), b('')), true);
    assert.equal(p.permits('write', b('foo'), b('')), true);
    assert.equal(p.permits('read', b('fo'), b('')), false);
    assert.equal(p.permits('read', b('/p/x'), b('')), true);
    assert.equal(p.permits('write', b('/p/x'), b('')), false, 'READ grants no write');
    assert.equal(p.permits('read', b('bar'), b('')), false, 'WRITE grants no read');
    assert.equal(p.permits('write', b('bar'), b('')), true);
  });

  test('prefixes and ranges', () => {
    assert.equal(p.permits('read', b('/p/'), b('/p0')), true);
    assert.equal(p.permits('read', b('/p/a'), b('/p/b')), true);
    assert.equal(p.permits('read', b('/p/'), b('/p1')), false);
    assert.equal(p.permits('write', b('a'), b('z')), true, 'two write grants that overlap merge');
    assert.equal(
      p.permits('write', b('a'), b('\0')),
      true,
      'write [a,m) + [l,z) + [k,∞) covers everything from a',
    );
    assert.equal(p.permits('read', b('k'), b('\0')), true);
    assert.equal(p.permits('read', b('j'), b('\0')), false);
    assert.equal(p.permits('read', b('foo'), b('\0')), false, 'foo alone does not reach k');
  });
});
