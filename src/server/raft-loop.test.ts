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

test('each Ready is persisted before its messages go out and its entries are applied; saves never overlap', async () => {
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
  let saving = 0;
  const wal: WalLog = {
    save: async (_hs, ents, sync) => {
      assert.equal(saving, 0, 'two WAL saves in flight');
      saving++;
      events.push(`save ${ents[0]?.index} sync=${sync}`);
      await new Promise((r) => setTimeout(r, 5));
      saving--;
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
  assert.deepEqual(events, [
    'save 1 sync=true',
    'append 1',
    'send 1',
    'apply 1',
    'advance 1',
    'save 2 sync=true',
    'append 2',
    'send 2',
    'apply 2',
    'advance 2',
  ]);
});
