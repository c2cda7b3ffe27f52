// Seeded, scripted runs of the lessor against a plain reference model, with the shell's part (the
// store's key events, the backend bucket, the expiry loop, restarts) simulated around it. A failing
// seed replays exactly: run it alone with the printed seed.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../util/seeded-random.js';
import { LeaseError } from './errors.js';
import { Lessor } from './lessor.js';
import { decodeLeaseRecord, leaseIdFromKey } from './record.js';
import { FOREVER_TTL_SEC, type LeaseId, MAX_LEASE_TTL_SEC, NO_LEASE } from './types.js';

const rng = seededRandom;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
// Keys chosen to exercise bytewise order: prefixes, NUL, bytes above 0x7f, the empty key.
const KEYS = ['', '61', '6162', '62', '00', 'ff', '7f00', '6100', '616263', '80'];

interface ModelLease {
  ttl: number;
  expiry: number;
  keys: Set<string>;
  /** When `expired` last reported it in this term, if it did. */
  reportedAt?: number;
}

function errCode(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof LeaseError) return e.code;
    throw e;
  }
}

interface RunConfig {
  seed: number;
  steps: number;
  revokeRatePerSec?: number;
}

function run({ seed, steps, revokeRatePerSec }: RunConfig): void {
  const rand = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const minTtl = 2;
  const retryMs = pick([1000, 3000, 7000]);
  const spreading = revokeRatePerSec !== undefined;
  const target = spreading ? Math.floor((3 * revokeRatePerSec) / 4) : Number.POSITIVE_INFINITY;
  const options = { minTtlSec: minTtl, expiredRetryMs: retryMs, revokeRatePerSec };
  let lessor = new Lessor(options);

  const model = new Map<LeaseId, ModelLease>();
  const store = new Map<string, LeaseId>(); // the KV store: key -> lease (only keys that exist)
  const bucket = new Map<LeaseId, Uint8Array>(); // the backend's "lease" bucket
  let primary = false;
  let now = int(0, 1e6);
  const ctx = () => `seed ${seed}`;
  // how often the interesting paths ran, so a run that never reaches them fails
  const seen = { delayed: 0, reported: 0, keyedRevokes: 0, restores: 0, renewed: 0 };

  const sortedKeys = (m: ModelLease) => [...m.keys].sort().map(unhex);
  const queueTime = (m: ModelLease) => (m.reportedAt !== undefined ? m.reportedAt + retryMs : m.expiry);

  const check = (): void => {
    lessor.checkInvariants();
    assert.equal(lessor.isPrimary, primary, ctx());
    assert.deepEqual(
      lessor.leases(),
      // Soonest expiry first (etcd's order), ties by id.
      [...model.entries()]
        .sort(([a, ma], [b, mb]) =>
          ma.expiry !== mb.expiry ? ma.expiry - mb.expiry : a < b ? -1 : a > b ? 1 : 0,
        )
        .map(([id]) => id),
      ctx(),
    );
    for (const [id, m] of model) {
      const v = lessor.lookup(id)!;
      assert.equal(v.grantedTtl, m.ttl, ctx());
      assert.equal(v.expiryMs, m.expiry, ctx());
      assert.equal(v.keyCount, m.keys.size, ctx());
      if (!primary) assert.equal(v.expiryMs, Number.POSITIVE_INFINITY, `${ctx()}: follower lease expires`);
    }
    for (const [key, id] of store) assert.equal(lessor.leaseOf(unhex(key)), id, ctx());
    // the bucket holds exactly the live leases
    assert.deepEqual(new Set(bucket.keys()), new Set(model.keys()), ctx());
  };

  const ops: Array<[number, () => void]> = [
    [
      8,
      () => {
        // grant
        const id = BigInt(int(1, 40));
        const ttl = rand() < 0.03 ? MAX_LEASE_TTL_SEC + int(1, 10) : int(-1, 12);
        const code = errCode(() => {
          const g = lessor.grant(id, ttl, now);
          bucket.set(leaseIdFromKey(g.put.key), g.put.value);
        });
        if (ttl > MAX_LEASE_TTL_SEC) assert.equal(code, 'ttl-too-large', ctx());
        else if (model.has(id)) assert.equal(code, 'lease-exists', ctx());
        else {
          assert.equal(code, undefined, ctx());
          const granted = Math.max(ttl, minTtl);
          model.set(id, { ttl: granted, expiry: primary ? now + granted * 1000 : Infinity, keys: new Set() });
          assert.deepEqual(decodeLeaseRecord(bucket.get(id)!), { id, ttl: granted, remainingTtl: 0 }, ctx());
        }
      },
    ],
    [
      10,
      () => {
        // put a key, with a lease (maybe unknown) or none; the server checks the lease first
        const key = pick(KEYS);
        const lease = rand() < 0.25 ? NO_LEASE : BigInt(int(1, 40));
        if (lease !== NO_LEASE && !lessor.has(lease)) {
          assert.equal(model.has(lease), false, ctx());
          return;
        }
        const prev = store.get(key) ?? NO_LEASE;
        if (prev !== NO_LEASE) {
          assert.equal(lessor.detach(prev, unhex(key)), true, ctx());
          model.get(prev)!.keys.delete(key);
        }
        if (lease !== NO_LEASE) {
          lessor.attach(lease, unhex(key));
          model.get(lease)!.keys.add(key);
        }
        store.set(key, lease);
      },
    ],
    [
      4,
      () => {
        // delete a key
        const key = pick(KEYS);
        const prev = store.get(key);
        if (prev === undefined) return;
        if (prev !== NO_LEASE) {
          assert.equal(lessor.detach(prev, unhex(key)), true, ctx());
          model.get(prev)!.keys.delete(key);
        }
        store.delete(key);
      },
    ],
    [
      4,
      () => {
        // a client revoke
        const id = BigInt(int(1, 40));
        revoke(id);
      },
    ],
    [
      10,
      () => {
        // keep-alive
        const id = BigInt(int(1, 40));
        const m = model.get(id);
        let ttl = -1;
        const code = errCode(() => {
          ttl = lessor.renew(id, now);
        });
        if (!primary) assert.equal(code, 'not-primary', ctx());
        else if (m === undefined) assert.equal(code, 'lease-not-found', ctx());
        else if (now >= m.expiry) assert.equal(code, 'lease-expired', ctx());
        else {
          assert.equal(code, undefined, ctx());
          assert.equal(ttl, m.ttl, ctx());
          seen.renewed++;
          m.expiry = now + m.ttl * 1000;
          m.reportedAt = undefined;
        }
      },
    ],
    [
      3,
      () => {
        // this member wins an election
        const extend = pick([0, 1000, 2000]);
        lessor.promote(now, extend);
        primary = true;
        const want = expectedPromotion(extend);
        for (const [id, m] of model) {
          const base = now + m.ttl * 1000 + extend;
          const got = lessor.lookup(id)!.expiryMs;
          assert.ok(got >= base, `${ctx()}: promote made lease ${id} expire early`);
          const delay = want.get(id) ?? 0;
          if (delay > 0) seen.delayed++;
          assert.ok(
            Math.abs(got - (base + delay)) < 1e-6,
            `${ctx()}: lease ${id} at ${got}, want ${base + delay}`,
          );
          m.expiry = got;
          m.reportedAt = undefined;
        }
      },
    ],
    [
      2,
      () => {
        lessor.demote();
        primary = false;
        for (const m of model.values()) {
          m.expiry = Infinity;
          m.reportedAt = undefined;
        }
      },
    ],
    [
      12,
      () => {
        // the expiry loop: report, then propose revokes, some of which get lost
        const max = pick([1, 2, 3, 500]);
        const got = lessor.expired(now, max);
        if (!primary) {
          assert.deepEqual(got, [], `${ctx()}: a follower reported expiries`);
          return;
        }
        const want = [...model.entries()]
          .filter(([, m]) => m.expiry <= now && queueTime(m) <= now)
          .sort(([ia, a], [ib, b]) => queueTime(a) - queueTime(b) || (ia < ib ? -1 : ia > ib ? 1 : 0))
          .slice(0, max)
          .map(([id]) => id);
        assert.deepEqual(got, want, ctx());
        for (const id of got) {
          const m = model.get(id)!;
          assert.ok(now >= m.expiry, `${ctx()}: lease ${id} reported before its expiry`);
          assert.ok(
            m.reportedAt === undefined || now >= m.reportedAt + retryMs,
            `${ctx()}: lease ${id} reported twice within the retry interval`,
          );
          m.reportedAt = now;
          seen.reported++;
        }
        for (const id of got) if (rand() < 0.6) revoke(id);
      },
    ],
    [
      12,
      () => {
        // time passes
        now += rand() < 0.2 ? rand() * 50 : int(0, 2500);
      },
    ],
    [
      5,
      () => {
        const id = BigInt(int(1, 40));
        const withKeys = rand() < 0.5;
        const m = model.get(id);
        let got: ReturnType<Lessor['timeToLive']> | undefined;
        const code = errCode(() => {
          got = lessor.timeToLive(id, now, withKeys);
        });
        if (m === undefined) {
          assert.equal(code, 'lease-not-found', ctx());
          return;
        }
        const ttl = m.expiry === Infinity ? FOREVER_TTL_SEC : Math.trunc((m.expiry - now) / 1000) || 0;
        assert.deepEqual(
          got,
          { id, ttl, grantedTtl: m.ttl, ...(withKeys ? { keys: sortedKeys(m) } : {}) },
          ctx(),
        );
      },
    ],
    [
      1,
      () => {
        // restart: a fresh lessor rebuilt from the bucket and the store's live keys
        lessor = new Lessor(options);
        const records = [...bucket.values()].map(decodeLeaseRecord);
        const attachments = [...store]
          .filter(([, id]) => id !== NO_LEASE)
          .map(([key, lease]) => ({ key: unhex(key), lease }));
        const r = lessor.restore(records, attachments);
        seen.restores++;
        assert.deepEqual(r, { leases: model.size, attached: attachments.length, orphans: [] }, ctx());
        primary = false;
        for (const m of model.values()) {
          m.expiry = Infinity;
          m.reportedAt = undefined;
        }
      },
    ],
  ];

  /**
   * Oracle for promote's spreading, restated from etcd's lessor.Promote: leases sorted by time left;
   * a window opens at the first lease and spans a second; past `target` leases in a window, each is
   * delayed so it lands at window start + count/target s, and the window end moves to start + delay.
   * Returns the extra delay (ms) per delayed lease.
   */
  function expectedPromotion(extend: number): Map<LeaseId, number> {
    const delays = new Map<LeaseId, number>();
    if (!spreading || model.size < revokeRatePerSec) return delays;
    const order = [...model.entries()]
      .map(([id, m]) => ({ id, left: extend + m.ttl * 1000 }))
      .sort((a, b) => a.left - b.left || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let base = order[0]!.left;
    let next = base + 1000;
    let count = 0;
    for (const o of order) {
      if (o.left > next) {
        base = o.left;
        next = base + 1000;
        count = 1;
        continue;
      }
      count++;
      if (count <= target) continue;
      const delay = (1000 * count) / target - (o.left - base);
      next = base + delay;
      delays.set(o.id, delay);
    }
    return delays;
  }

  function revoke(id: LeaseId): void {
    const m = model.get(id);
    let result: ReturnType<Lessor['revoke']> | undefined;
    const code = errCode(() => {
      result = lessor.revoke(id);
    });
    if (m === undefined) {
      assert.equal(code, 'lease-not-found', ctx());
      return;
    }
    assert.equal(code, undefined, ctx());
    assert.deepEqual(result!.keys, sortedKeys(m), `${ctx()}: revoke returned the wrong keys`);
    if (result!.keys.length > 0) seen.keyedRevokes++;
    assert.equal(leaseIdFromKey(result!.del.key), id, ctx());
    bucket.delete(id);
    // the server deletes the keys at one revision; the store's events detach from a gone lease
    for (const key of result!.keys) {
      assert.equal(store.get(hex(key)), id, ctx());
      store.delete(hex(key));
      assert.equal(lessor.detach(id, key), false, ctx());
    }
    model.delete(id);
  }

  const total = ops.reduce((s, [w]) => s + w, 0);
  for (let step = 0; step < steps; step++) {
    let r = rand() * total;
    for (const [w, op] of ops) {
      r -= w;
      if (r < 0) {
        op();
        break;
      }
    }
    check();
  }
  assert.ok(seen.reported > 0 && seen.keyedRevokes > 0 && seen.restores > 0 && seen.renewed > 0, ctx());
  if (spreading) assert.ok(seen.delayed > 0, `${ctx()}: promote never spread anything`);
}

describe('lessor model', () => {
  for (let seed = 1; seed <= 40; seed++) {
    test(`seed ${seed}`, () => run({ seed, steps: 1500 }));
  }
  for (let seed = 101; seed <= 115; seed++) {
    test(`seed ${seed}, low revoke rate so promote spreads expiries`, () =>
      run({ seed, steps: 1500, revokeRatePerSec: 4 }));
  }
});
