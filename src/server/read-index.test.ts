import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { realClock } from '../runtime/clock.js';
import { AppliedIndexWaiters } from './applied-wait.js';
import { ReadIndexBatcher } from './read-index.js';

function batcher(requests: Uint8Array[], timeoutMs = 1000): ReadIndexBatcher {
  return new ReadIndexBatcher(
    {
      request: (ctx) => requests.push(ctx),
      clock: realClock,
      retryMs: 10_000,
      timeoutMs,
      maxQueued: 4,
      makeTimeoutError: () => new Error('timed out'),
      makeTooManyError: () => new Error('too many'),
    },
    1n,
  );
}

describe('linearizable read batching', () => {
  test('reads arriving during a round share the next round', async () => {
    const sent: Uint8Array[] = [];
    const b = batcher(sent);
    const first = b.readIndex();
    const second = b.readIndex();
    const third = b.readIndex();
    assert.equal(sent.length, 1, 'one round in flight');
    b.onReadStates([{ index: 5, requestCtx: sent[0] as Uint8Array }]);
    assert.equal(await first, 5);
    assert.equal(sent.length, 2, 'the queued reads start one more round');
    b.onReadStates([{ index: 9, requestCtx: sent[1] as Uint8Array }]);
    assert.deepEqual(await Promise.all([second, third]), [9, 9]);
    b.stop(new Error('stopped'));
  });

  test('a stale context is ignored; an unanswered round times out; the queue is bounded', async () => {
    const sent: Uint8Array[] = [];
    const b = batcher(sent, 30);
    const r = b.readIndex();
    b.onReadStates([{ index: 3, requestCtx: new Uint8Array(16) }]);
    await assert.rejects(r, /timed out/);
    // One read opens a round; four more wait for the next one; the sixth is refused.
    const pending = [b.readIndex(), b.readIndex(), b.readIndex(), b.readIndex(), b.readIndex()];
    await assert.rejects(b.readIndex(), /too many/);
    b.stop(new Error('stopped'));
    for (const p of pending) await assert.rejects(p, /stopped/);
  });
});

describe('applied index waiters', () => {
  test('release in index order, never go back', async () => {
    const w = new AppliedIndexWaiters(10, 2);
    const order: number[] = [];
    await w.wait(1);
    const a = w.wait(5).then(() => order.push(5));
    const b = w.wait(3).then(() => order.push(3));
    w.advance(4);
    await b;
    assert.deepEqual(order, [3]);
    w.advance(5);
    await a;
    assert.deepEqual(order, [3, 5]);
    assert.throws(() => w.advance(4), /went back/);
  });
});
