import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LeaseError, type LeaseErrorCode, LeaseInvariantError } from './errors.js';
import { Lessor } from './lessor.js';
import { electionTimeoutMs, minLeaseTtlSec, requestTimeoutMs, revokeLimitPerRound } from './limits.js';
import { decodeLeaseRecord, leaseKey } from './record.js';
import { FOREVER_TTL_SEC, LEASE_BUCKET, MAX_LEASE_TTL_SEC, NO_LEASE } from './types.js';

const enc = new TextEncoder();
const k = (s: string) => enc.encode(s);

function throwsCode(fn: () => unknown, code: LeaseErrorCode): void {
  assert.throws(fn, (e: unknown) => e instanceof LeaseError && e.code === code);
}

function leader(opts: Partial<ConstructorParameters<typeof Lessor>[0]> = {}, now = 0): Lessor {
  const l = new Lessor({ minTtlSec: 2, ...opts });
  l.promote(now, 0);
  return l;
}

describe('limits', () => {
  test('minimum TTL is 1.5 election timeouts in whole ticks, rounded up to seconds', () => {
    assert.equal(minLeaseTtlSec(10, 100), 2); // etcd defaults: 15 ticks * 100 ms = 1.5 s -> 2
    assert.equal(minLeaseTtlSec(5, 100), 1); // 7 ticks (integer halving) = 0.7 s -> 1
    assert.equal(minLeaseTtlSec(10, 1000), 15);
    assert.equal(minLeaseTtlSec(3, 333), 2); // 4 ticks * 333 ms = 1.332 s -> 2
    assert.equal(minLeaseTtlSec(20, 100), 3);
  });

  test('request timeout, election timeout, revoke budget', () => {
    assert.equal(electionTimeoutMs(10, 100), 1000);
    assert.equal(requestTimeoutMs(10, 100), 7000);
    assert.equal(revokeLimitPerRound(), 500);
    assert.equal(revokeLimitPerRound(250, 1000), 250);
    assert.equal(revokeLimitPerRound(500, 1), 1);
  });
});

describe('errors', () => {
  test('carry a code and etcd text', () => {
    assert.equal(new LeaseError('lease-not-found').message, 'etcdserver: requested lease not found');
    assert.equal(new LeaseError('lease-exists').message, 'etcdserver: lease already exists');
    assert.equal(new LeaseError('ttl-too-large').message, 'etcdserver: too large lease TTL');
    assert.equal(new LeaseError('not-primary').code, 'not-primary');
  });
});

describe('grant', () => {
  test('raises a short TTL to the minimum and returns the record to write', () => {
    const l = new Lessor({ minTtlSec: 5 });
    const g = l.grant(7n, 1, 0);
    assert.equal(g.lease.grantedTtl, 5);
    assert.equal(g.put.bucket, LEASE_BUCKET);
    assert.deepEqual(g.put.key, leaseKey(7n));
    assert.deepEqual(decodeLeaseRecord(g.put.value), { id: 7n, ttl: 5, remainingTtl: 0 });
    assert.equal(l.grant(8n, 0, 0).lease.grantedTtl, 5);
    assert.equal(l.grant(9n, -30, 0).lease.grantedTtl, 5);
    assert.equal(l.grant(10n, 60, 0).lease.grantedTtl, 60);
  });

  test('refuses a TTL above 9e9 s, a taken id, id 0; asserts on ids outside int64 > 0', () => {
    const l = new Lessor({ minTtlSec: 1 });
    assert.equal(l.grant(1n, MAX_LEASE_TTL_SEC, 0).lease.grantedTtl, MAX_LEASE_TTL_SEC);
    throwsCode(() => l.grant(2n, MAX_LEASE_TTL_SEC + 1, 0), 'ttl-too-large');
    throwsCode(() => l.grant(1n, 10, 0), 'lease-exists');
    // etcd checks the TTL before looking for the id
    throwsCode(() => l.grant(1n, MAX_LEASE_TTL_SEC + 1, 0), 'ttl-too-large');
    throwsCode(() => l.grant(NO_LEASE, 10, 0), 'lease-not-found');
    assert.throws(() => l.grant(-1n, 10, 0), LeaseInvariantError);
    assert.throws(() => l.grant(1n << 63n, 10, 0), LeaseInvariantError);
    assert.throws(() => l.grant(3n, 1.5, 0), LeaseInvariantError);
    assert.deepEqual(l.leases(), [1n]);
  });

  test('on a follower the lease never expires; on the leader it expires TTL after now', () => {
    const f = new Lessor({ minTtlSec: 2 });
    f.grant(1n, 10, 1000);
    assert.equal(f.lookup(1n)!.expiryMs, Number.POSITIVE_INFINITY);
    assert.deepEqual(f.expired(1e12, 100), []);

    const l = leader({}, 0);
    l.grant(1n, 10, 1000);
    assert.equal(l.lookup(1n)!.expiryMs, 11_000);
    assert.deepEqual(l.expired(10_999, 100), []);
    assert.deepEqual(l.expired(11_000, 100), [1n]);
  });
});

describe('attach, detach, revoke', () => {
  test('revoke returns the keys in bytewise order and forgets the lease', () => {
    const l = new Lessor({ minTtlSec: 1 });
    l.grant(1n, 10, 0);
    const keys = [k('b'), k('a'), k('ab'), Uint8Array.of(0xff), Uint8Array.of(0x7f, 0), k(''), k('a\0')];
    for (const key of keys) l.attach(1n, key);
    assert.equal(l.lookup(1n)!.keyCount, keys.length);
    assert.deepEqual(l.leaseOf(k('ab')), 1n);
    const r = l.revoke(1n);
    assert.deepEqual(r.keys, [
      k(''),
      k('a'),
      k('a\0'),
      k('ab'),
      k('b'),
      Uint8Array.of(0x7f, 0),
      Uint8Array.of(0xff),
    ]);
    assert.ok(r.keys.every((x) => Object.getPrototypeOf(x) === Uint8Array.prototype));
    assert.deepEqual(r.del, { bucket: LEASE_BUCKET, key: leaseKey(1n) });
    assert.equal(l.has(1n), false);
    assert.equal(l.leaseOf(k('ab')), NO_LEASE);
    // the server deleting those keys reports detaches from the revoked lease: harmless
    assert.equal(l.detach(1n, k('ab')), false);
    throwsCode(() => l.revoke(1n), 'lease-not-found');
    l.checkInvariants();
  });

  test('attach to an unknown lease is an invariant violation', () => {
    const l = new Lessor({ minTtlSec: 1 });
    assert.throws(() => l.attach(5n, k('x')), LeaseInvariantError);
  });

  test('a key moves between leases; detach only removes it from its own lease', () => {
    const l = new Lessor({ minTtlSec: 1 });
    l.grant(1n, 10, 0);
    l.grant(2n, 10, 0);
    l.attach(1n, k('x'));
    l.attach(1n, k('x'));
    assert.equal(l.lookup(1n)!.keyCount, 1);
    // PUT x with lease 2 over a value with lease 1: the server detaches from 1, attaches to 2
    assert.equal(l.detach(1n, k('x')), true);
    l.attach(2n, k('x'));
    assert.equal(l.leaseOf(k('x')), 2n);
    // a direct attach without the detach still moves it
    l.attach(1n, k('x'));
    assert.deepEqual(l.keysOf(2n), []);
    assert.deepEqual(l.keysOf(1n), [k('x')]);
    assert.equal(l.detach(2n, k('x')), false);
    assert.equal(l.leaseOf(k('x')), 1n);
    // a key given as a view into a larger buffer
    const buf = k('__y__');
    l.attach(2n, buf.subarray(2, 3));
    assert.deepEqual(l.keysOf(2n), [k('y')]);
    l.checkInvariants();
  });
});

describe('promote, demote, renew', () => {
  test('promote sets expiry = now + TTL + extend; demote makes every lease immortal', () => {
    const l = new Lessor({ minTtlSec: 2 });
    l.grant(1n, 10, 0);
    l.grant(2n, 3, 0);
    l.promote(50_000, 1000);
    assert.equal(l.isPrimary, true);
    assert.equal(l.lookup(1n)!.expiryMs, 61_000);
    assert.equal(l.lookup(2n)!.expiryMs, 54_000);
    assert.deepEqual(l.expired(54_000, 10), [2n]);
    l.demote();
    assert.equal(l.isPrimary, false);
    assert.equal(l.lookup(1n)!.expiryMs, Number.POSITIVE_INFINITY);
    assert.deepEqual(l.expired(1e15, 10), []);
    assert.equal(l.timeToLive(1n, 70_000, false).ttl, FOREVER_TTL_SEC);
    l.checkInvariants();
  });

  test('renew: only on the leader, only known and unexpired leases; returns the granted TTL', () => {
    const f = new Lessor({ minTtlSec: 2 });
    f.grant(1n, 10, 0);
    throwsCode(() => f.renew(1n, 0), 'not-primary');
    const l = leader();
    throwsCode(() => l.renew(1n, 0), 'lease-not-found');
    l.grant(1n, 10, 0);
    assert.equal(l.renew(1n, 4000), 10);
    assert.equal(l.lookup(1n)!.expiryMs, 14_000);
    assert.deepEqual(l.expired(13_999, 10), []);
    throwsCode(() => l.renew(1n, 14_000), 'lease-expired');
    assert.deepEqual(l.expired(14_000, 10), [1n]);
  });
});

describe('expired', () => {
  test('earliest first, at most max, the rest next time', () => {
    const l = leader();
    for (let i = 1n; i <= 5n; i++) l.grant(i, 10 - Number(i), 0);
    assert.deepEqual(l.expired(100_000, 2), [5n, 4n]);
    assert.deepEqual(l.expired(100_000, 10), [3n, 2n, 1n]);
    assert.deepEqual(l.expired(100_000, 10), []);
    assert.deepEqual(l.expired(100_000, 0), []);
  });

  test('a reported lease is reported again only after the retry interval, until revoked', () => {
    const l = leader({ expiredRetryMs: 3000 });
    l.grant(1n, 2, 0);
    l.grant(2n, 2, 0);
    assert.deepEqual(l.expired(2000, 10), [1n, 2n]);
    assert.deepEqual(l.expired(2500, 10), []);
    assert.deepEqual(l.expired(4999, 10), []);
    l.revoke(2n);
    assert.deepEqual(l.expired(5000, 10), [1n]);
    assert.deepEqual(l.expired(7999, 10), []);
    assert.deepEqual(l.expired(8000, 10), [1n]);
    l.checkInvariants();
  });

  test('promote after demote starts the clock again', () => {
    const l = leader();
    l.grant(1n, 2, 0);
    assert.deepEqual(l.expired(2000, 10), [1n]);
    l.demote();
    l.promote(2100, 1000);
    assert.deepEqual(l.expired(4000, 10), []);
    assert.deepEqual(l.expired(5100, 10), [1n]);
  });
});

describe('timeToLive', () => {
  test('remaining seconds truncate toward zero, like Go int64(d.Seconds())', () => {
    const l = leader();
    l.grant(1n, 10, 0);
    l.attach(1n, k('z'));
    l.attach(1n, k('a'));
    const at = (ms: number) => l.timeToLive(1n, ms, false).ttl;
    assert.equal(at(0), 10);
    assert.equal(at(1), 9);
    assert.equal(at(9_000), 1);
    assert.equal(at(9_001), 0);
    assert.equal(at(10_000), 0);
    assert.ok(Object.is(at(10_500), 0), 'no negative zero');
    assert.equal(at(11_000), -1);
    assert.equal(at(12_999), -2);
    assert.deepEqual(l.timeToLive(1n, 0, true), { id: 1n, ttl: 10, grantedTtl: 10, keys: [k('a'), k('z')] });
    assert.deepEqual(l.timeToLive(1n, 0, false), { id: 1n, ttl: 10, grantedTtl: 10 });
    throwsCode(() => l.timeToLive(2n, 0, false), 'lease-not-found');
  });
});

describe('promote spreads bunched expiries', () => {
  test('small revoke rate: beyond 3/4 of the rate, leases are placed 1/target s apart', () => {
    const l = new Lessor({ minTtlSec: 1, revokeRatePerSec: 8 }); // target 6 per second
    for (let i = 1n; i <= 10n; i++) l.grant(i, 10, 0);
    l.promote(0, 0);
    const expiries = l.leases().map((id) => l.lookup(id)!.expiryMs);
    assert.deepEqual(expiries.slice(0, 6), [10_000, 10_000, 10_000, 10_000, 10_000, 10_000]);
    const tail = expiries.slice(6);
    const want = [7, 8, 9, 10].map((n) => 10_000 + (1000 * n) / 6);
    for (const [i, e] of tail.entries()) assert.ok(Math.abs(e - want[i]!) < 1e-6, `${e} vs ${want[i]}`);
  });

  test('fewer leases than the rate: nothing moves', () => {
    const l = new Lessor({ minTtlSec: 1, revokeRatePerSec: 8 });
    for (let i = 1n; i <= 7n; i++) l.grant(i, 10, 0);
    l.promote(0, 500);
    assert.ok(l.leases().every((id) => l.lookup(id)!.expiryMs === 10_500));
  });

  test('5000 leases with one TTL: no second holds more than 750 expiries, none expires early', () => {
    const l = new Lessor({ minTtlSec: 1 });
    for (let i = 1; i <= 5000; i++) l.grant(BigInt(i), 30 + (i % 3), 0);
    l.promote(1_000_000, 1000);
    const times = l
      .leases()
      .map((id) => {
        const v = l.lookup(id)!;
        assert.ok(v.expiryMs >= 1_000_000 + 1000 + v.grantedTtl * 1000);
        return v.expiryMs;
      })
      .sort((a, b) => a - b);
    let j = 0;
    for (let i = 0; i < times.length; i++) {
      while (j < times.length && times[j]! < times[i]! + 1000) j++;
      assert.ok(j - i <= 750, `${j - i} expiries in the second from ${times[i]}`);
    }
    l.checkInvariants();
  });
});

describe('checkpoints', () => {
  test('off by default: no proposals, checkpoint() still applies and is not persisted', () => {
    const l = leader({ checkpointIntervalMs: 1000 });
    l.grant(1n, 100, 0);
    assert.deepEqual(l.dueCheckpoints(50_000, 10), []);
    assert.equal(l.checkpoint(1n, 40, 0), undefined);
    assert.equal(l.lookup(1n)!.checkpointedTtl, 40);
    assert.equal(l.checkpoint(99n, 40, 0), undefined, 'unknown lease ignored');
  });

  test('the leader proposes the remaining TTL; promote resumes from it', () => {
    const l = leader({ checkpointing: true, checkpointIntervalMs: 5000, checkpointPersist: true });
    l.grant(1n, 100, 0);
    l.grant(2n, 4, 0); // not longer than one interval: never checkpointed
    assert.deepEqual(l.dueCheckpoints(4999, 10), []);
    assert.deepEqual(l.dueCheckpoints(5000, 10), [{ id: 1n, remainingTtl: 95 }]);
    assert.deepEqual(l.dueCheckpoints(9000, 10), [], 'nothing scheduled until the checkpoint applies');
    const put = l.checkpoint(1n, 95, 5200);
    assert.deepEqual(decodeLeaseRecord(put!.value), { id: 1n, ttl: 100, remainingTtl: 95 });
    assert.deepEqual(l.dueCheckpoints(10_200, 10), [{ id: 1n, remainingTtl: 90 }]);

    // a new leader starts lease 1 from its checkpoint
    const f = new Lessor({ minTtlSec: 2, checkpointing: true });
    f.grant(1n, 100, 0);
    f.checkpoint(1n, 95, 0);
    f.promote(1_000_000, 1000);
    assert.equal(f.lookup(1n)!.expiryMs, 1_000_000 + 1000 + 95_000);
  });

  test('renewing a checkpointed lease uses the full TTL and asks to clear the checkpoint', () => {
    const l = new Lessor({ minTtlSec: 2, checkpointing: true, checkpointIntervalMs: 60_000 });
    l.grant(1n, 100, 0);
    l.checkpoint(1n, 30, 0);
    l.promote(0, 0);
    assert.equal(l.lookup(1n)!.expiryMs, 30_000);
    assert.equal(l.renew(1n, 1000), 100);
    assert.equal(l.lookup(1n)!.expiryMs, 101_000);
    assert.deepEqual(l.dueCheckpoints(1000, 10), [{ id: 1n, remainingTtl: 0 }]);
    assert.deepEqual(l.dueCheckpoints(1000, 10), []);
    l.checkpoint(1n, 0, 1500);
    assert.equal(l.lookup(1n)!.checkpointedTtl, 0);
    assert.equal(l.renew(1n, 2000), 100);
    assert.deepEqual(l.dueCheckpoints(2000, 10), [], 'nothing to clear any more');
  });
});

describe('restore', () => {
  test('rebuilds leases and attachments; nothing expires until promote', () => {
    const l = leader();
    l.grant(99n, 10, 0);
    const r = l.restore(
      [
        { id: 1n, ttl: 1, remainingTtl: 0 },
        { id: 2n, ttl: 60, remainingTtl: 20 },
      ],
      [
        { key: k('a'), lease: 1n },
        { key: k('b'), lease: 2n },
        { key: k('c'), lease: 2n },
        { key: k('d'), lease: 3n },
      ],
    );
    assert.deepEqual(r, { leases: 2, attached: 3, orphans: [{ key: k('d'), lease: 3n }] });
    assert.equal(l.isPrimary, false);
    assert.deepEqual(l.leases(), [1n, 2n]);
    assert.equal(l.lookup(1n)!.grantedTtl, 2, 'raised to the minimum');
    assert.deepEqual(l.keysOf(2n), [k('b'), k('c')]);
    assert.deepEqual(l.expired(1e12, 10), []);
    l.checkInvariants();
    l.promote(0, 0);
    assert.equal(l.lookup(2n)!.expiryMs, 20_000);
    assert.deepEqual(l.expired(20_000, 10), [1n, 2n]);
  });

  test('duplicate or invalid stored ids are invariant violations', () => {
    const l = new Lessor({ minTtlSec: 1 });
    const rec = { id: 1n, ttl: 5, remainingTtl: 0 };
    assert.throws(() => l.restore([rec, rec], []), LeaseInvariantError);
    assert.throws(() => l.restore([{ ...rec, id: 0n }], []), LeaseInvariantError);
  });
});

describe('scale', () => {
  test('100,000 leases: grant, promote, expire in rounds, revoke', () => {
    const l = new Lessor({ minTtlSec: 1 });
    const n = 100_000;
    const start = performance.now();
    for (let i = 1; i <= n; i++) l.grant(BigInt(i), 5 + (i % 50), 0);
    l.promote(0, 1000);
    let revoked = 0;
    let now = 0;
    const limit = revokeLimitPerRound();
    while (revoked < n) {
      now += 500;
      const ids = l.expired(now, limit);
      assert.ok(ids.length <= limit);
      for (const id of ids) {
        assert.ok(l.lookup(id)!.expiryMs <= now);
        l.revoke(id);
      }
      revoked += ids.length;
      assert.ok(now < 1_000_000, 'expiry rounds did not finish');
    }
    assert.equal(l.size, 0);
    const elapsed = performance.now() - start;
    assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
  });
});
