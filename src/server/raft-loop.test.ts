import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nopLogger } from '../log/index.js';
import type { MemoryStorage, RawNode } from '../raft/index.js';
import { type Entry, EntryType, MessageType, type Ready } from '../raft/types.js';
import { AppliedIndexWaiters } from './applied-wait.js';
import type { Applier } from './applier.js';
import type { KvBackend } from './backend.js';
import type { Membership } from './membership.js';
import { RaftLoop } from './raft-loop.js';
import type { SnapshotStore, WalLog } from './storage-types.js';

const entry = (index: number): Entry => ({ term: 2, index, type: EntryType.Normal, data: new Uint8Array() });

test('a Ready is persisted before its messages go out and its entries are applied; the next save is queued meanwhile', async () => {
  const events: string[] = [];
  const readies: Ready[] = [1, 2].map((i) => ({
    hardState: { term: 2, vote: 1n, commit: i },
    entries: [entry(i)],
    committedEntries: [entry(i)],
    messages: [
      {
        type: MessageType.App,
        to: 2n,
        from: 1n,
        term: 2,
        logTerm: 2,
        index: i - 1,
        entries: [],
        commit: i,
        reject: false,
        rejectHint: 0,
      },
    ],
    readStates: [],
    mustSync: true,
  }));
  const node = {
    hasReady: () => readies.length > 0,
    ready: () => readies.shift() as Ready,
    advance: (rd: Ready) => events.push(`advance ${rd.entries[0]?.index}`),
    tick: () => undefined,
  } as unknown as RawNode;
  // Like the real WAL: saves queue and complete in call order.
  let lastSave: Promise<void> = Promise.resolve();
  const wal: WalLog = {
    save: (_hs, ents, sync) => {
      const i = ents[0]?.index;
      events.push(`save ${i} sync=${sync}`);
      lastSave = lastSave
        .then(() => new Promise((r) => setTimeout(r, 5)))
        .then(() => {
          events.push(`saved ${i}`);
        });
      return lastSave;
    },
    saveSnapshot: () => undefined,
    releaseTo: () => undefined,
    close: () => undefined,
  };
  const storage = {
    append: (ents: Entry[]) => events.push(`append ${ents[0]?.index}`),
    setHardState: () => undefined,
  } as unknown as MemoryStorage;
  let applied = 0;
  const applier = {
    get appliedIndex() {
      return applied;
    },
    applyEntries: (ents: Entry[]) => {
      for (const e of ents) applied = e.index;
      events.push(`apply ${applied}`);
    },
  } as unknown as Applier;
  let finished: () => void = () => undefined;
  const done = new Promise<void>((r) => {
    finished = r;
  });
  const loop = new RaftLoop({
    node,
    storage,
    wal,
    snapshots: { save: () => undefined, purge: () => undefined } as SnapshotStore,
    applier,
    appliedWaiters: new AppliedIndexWaiters(10, 0),
    backend: {} as KvBackend,
    membership: {} as Membership,
    transport: {
      send: (ms) => {
        events.push(`send ${ms[0]?.commit}`);
        if (ms[0]?.commit === 2) finished();
      },
    },
    log: nopLogger(),
    tickMs: 1000,
    snapshotCount: 100,
    snapshotCatchUpEntries: 5,
    maxSnapshots: 1,
    snapshotIndex: 0,
    onSoftState: () => undefined,
    onHardState: () => undefined,
    onFatal: (err) => {
      throw err;
    },
  });
  loop.wake();
  loop.wake();
  await done;
  await loop.stop();
  const at = (e: string): number => {
    const i = events.indexOf(e);
    assert.ok(i >= 0, `missing event ${e} in ${events.join(', ')}`);
    return i;
  };
  for (const i of [1, 2]) {
    assert.ok(at(`save ${i} sync=true`) < at(`saved ${i}`));
    assert.ok(at(`append ${i}`) < at(`advance ${i}`), 'entries reach the in-memory log before advance');
    assert.ok(at(`saved ${i}`) < at(`send ${i}`), `messages of Ready ${i} left before its save`);
    assert.ok(at(`saved ${i}`) < at(`apply ${i}`), `Ready ${i} applied before its save`);
  }
  assert.ok(at('apply 1') < at('apply 2'), 'applied in order');
  assert.ok(at('send 1') < at('send 2'), 'sent in order');
  assert.ok(at('save 2 sync=true') < at('saved 1'), 'the second save was queued while the first was in flight');
});
