import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestQueue } from './request-queue.js';

function flow(): { pauses: number; resumes: number; pause(): void; resume(): void } {
  return {
    pauses: 0,
    resumes: 0,
    pause() {
      this.pauses++;
    },
    resume() {
      this.resumes++;
    },
  };
}

test('pauses reading at the high-water mark and resumes at half', async () => {
  const f = flow();
  const q = new RequestQueue<number>(f, 4);
  for (let i = 0; i < 6; i++) q.push(i);
  assert.equal(f.pauses, 1);
  assert.deepEqual((await q.next()).value, 0);
  assert.deepEqual((await q.next()).value, 1);
  assert.equal(f.resumes, 0);
  await q.next();
  await q.next(); // 2 left = half of 4
  assert.equal(f.resumes, 1);
});

test('a waiting consumer gets the next push; end() finishes after queued items', async () => {
  const q = new RequestQueue<string>(flow(), 4);
  const waiting = q.next();
  q.push('a');
  assert.deepEqual(await waiting, { value: 'a', done: false });
  q.push('b');
  q.end();
  const seen: string[] = [];
  for await (const item of q) seen.push(item);
  assert.deepEqual(seen, ['b']);
});

test('fail() rejects the waiting consumer and every later next()', async () => {
  const q = new RequestQueue<number>(flow(), 4);
  const waiting = q.next();
  q.fail(new Error('gone'));
  await assert.rejects(waiting, /gone/);
  await assert.rejects(q.next(), /gone/);
  q.push(1); // ignored after failure
  await assert.rejects(q.next(), /gone/);
});

test('return() drops input and resumes a paused stream', async () => {
  const f = flow();
  const q = new RequestQueue<number>(f, 2);
  q.push(1);
  q.push(2);
  assert.equal(f.pauses, 1);
  await q.return();
  assert.equal(f.resumes, 1);
  q.push(3);
  assert.deepEqual(await q.next(), { value: undefined, done: true });
});
