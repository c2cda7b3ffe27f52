import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nopLogger } from '../log/index.js';
import { Compactor, compactorPlan } from './compactor.js';

describe('auto-compaction', () => {
  test('retention is read as etcd reads it', () => {
    assert.deepEqual(compactorPlan('periodic', '0'), { mode: 'off' });
    assert.deepEqual(compactorPlan('periodic', '1'), { mode: 'periodic', periodMs: 3_600_000 });
    assert.deepEqual(compactorPlan('periodic', '2s'), { mode: 'periodic', periodMs: 2000 });
    assert.deepEqual(compactorPlan('periodic', '1h30m'), { mode: 'periodic', periodMs: 5_400_000 });
    assert.deepEqual(compactorPlan('revision', '1000'), { mode: 'revision', retention: 1000 });
    assert.throws(() => compactorPlan('revision', '5m'));
  });

  test('periodic: compacts the revision from one period ago, only as leader', async () => {
    let rev = 10;
    let leadership: (isLeader: boolean) => void = () => undefined;
    const compacted: number[] = [];
    const c = new Compactor(
      compactorPlan('periodic', '200ms'),
      {
        currentRevision: () => rev,
        onLeadership: (listener) => {
          leadership = listener;
          return () => undefined;
        },
        compact: async (r) => {
          compacted.push(r);
        },
      },
      nopLogger(),
    );
    c.start(true);
    const grow = setInterval(() => {
      rev += 1;
    }, 10);
    await new Promise((r) => setTimeout(r, 330));
    leadership(false);
    const atStepDown = compacted.length;
    await new Promise((r) => setTimeout(r, 300));
    c.stop();
    clearInterval(grow);
    assert.ok(atStepDown >= 1, 'no compaction while leader');
    assert.equal(compacted.length, atStepDown, 'compacted while not leader');
    const first = compacted[0] ?? 0;
    assert.ok(
      first >= 10 && first < rev - 10,
      `compacted ${first}, current ${rev}: not a revision from the past`,
    );
  });
});
