import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BCRYPT_DEFAULT_COST,
  bcryptConcurrency,
  bcryptHasher,
  effectiveBcryptCost,
  Semaphore,
} from './password.js';

describe('password hashing', () => {
  test('the cost asked for is the cost stored, in Go\'s "$2a$" form', async () => {
    for (const cost of [4, 5]) {
      const h = bcryptHasher(cost);
      const stored = Buffer.from(await h.hash('pw')).toString();
      assert.equal(stored.slice(0, 7), `$2a$0${cost}$`);
      assert.equal(stored.length, 60);
      assert.equal(await h.verify('pw', Buffer.from(stored)), true);
      assert.equal(await h.verify('other', Buffer.from(stored)), false);
      assert.equal(Buffer.from(h.hashBlocking('pw')).toString().slice(0, 7), `$2a$0${cost}$`);
    }
  });

  test("a cost outside bcrypt's 4..31 is etcd's default, 10", () => {
    assert.equal(effectiveBcryptCost(3), BCRYPT_DEFAULT_COST);
    assert.equal(effectiveBcryptCost(32), BCRYPT_DEFAULT_COST);
    assert.equal(effectiveBcryptCost(4), 4);
    assert.equal(effectiveBcryptCost(31), 31);
  });

  test('hashes written by etcd (Go, "$2a$") verify; an empty or malformed stored hash does not', async () => {
    const h = bcryptHasher(4);
    // bcrypt("pw") at cost 10, as etcd 3.4 stored it for a user added with password "pw".
    const go = Buffer.from('$2a$10$Mbbk1OV2uAl82WE8kucJW.oOI9a95IEZepXrCATShw76AlMJFXAU2');
    assert.equal(await h.verify('pw', go), true, 'the stored cost decides, not the configured one');
    assert.equal(await h.verify('pW', go), false);
    assert.equal(await h.verify('pw', new Uint8Array()), false);
    assert.equal(await h.verify('pw', Buffer.from('not a hash')), false);
  });

  test('hashing and checking leave the event loop free (they run off the main thread)', async () => {
    const h = bcryptHasher(8);
    const stored = await h.hash('pw');
    // A hasher that computed in place would settle before the loop turned once; ours answers
    // from libuv's pool, so an immediate queued now runs first.
    for (const job of [() => h.hash('pw'), () => h.verify('pw', stored)]) {
      let turned = false;
      setImmediate(() => {
        turned = true;
      });
      await job();
      assert.equal(turned, true);
    }
  });

  test('at most `limit` jobs run at once, the rest in arrival order', async () => {
    const s = new Semaphore(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const job = (i: number) =>
      s.run(async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        order.push(i);
        running--;
        return i;
      });
    assert.deepEqual(await Promise.all([0, 1, 2, 3, 4].map(job)), [0, 1, 2, 3, 4]);
    assert.equal(most, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
  });

  test("half of libuv's pool, leaving a core to the event loop, at least one", () => {
    assert.equal(bcryptConcurrency({}, 8), 2);
    assert.equal(bcryptConcurrency({ UV_THREADPOOL_SIZE: '16' }, 16), 8);
    assert.equal(bcryptConcurrency({ UV_THREADPOOL_SIZE: '16' }, 4), 3);
    assert.equal(bcryptConcurrency({}, 2), 1);
    assert.equal(bcryptConcurrency({}, 1), 1);
    assert.equal(bcryptConcurrency({ UV_THREADPOOL_SIZE: '1' }, 8), 1);
  });
});
