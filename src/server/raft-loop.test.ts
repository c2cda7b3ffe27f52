import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nopLogger } from '../log/index.js';
import type { MemoryStorage, RawNode } from '../raft/index.js';
import { type Entry, EntryType, type Message, MessageType, type Ready } from '../raft/types.js';
import { realClock } from '../runtime/clock.js';
import { AppliedIndexWaiters } from './applied-wait.js';
import type { Applier } from './applier.js';
import type { KvBackend } from './backend.js';
import type { Membership } from './membership.js';
import { RaftLoop } from './raft-loop.js';
import type { SnapshotStore, WalLog } from './storage-types.js';

/** The options every loop here shares: no log, no callbacks, snapshots far away. */
const QUIET = {
  log: nopLogger(),
  snapshotCatchUpEntries: 5,
  maxSnapshots: 1,
  snapshotIndex: 0,
  onSoftState: () => undefined,
  onHardState: () => undefined,
};

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
    persisted: (i: number) => events.push(`persisted ${i}`),
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
    ...QUIET,
    tickMs: 1000,
    snapshotCount: 100,
    clock: realClock,
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
    assert.ok(at(`saved ${i}`) < at(`persisted ${i}`), `Ready ${i} reported durable before its save`);
  }
  assert.ok(at('apply 1') < at('apply 2'), 'applied in order');
  assert.ok(at('send 1') < at('send 2'), 'sent in order');
  assert.ok(
    at('save 2 sync=true') < at('saved 1'),
    'the second save was queued while the first was in flight',
  );
});

test('once term and vote are durable, appends go out before the save, other messages after it; a commit-only Ready writes nothing', async () => {
  const msg = (type: MessageType, commit: number) => ({
    type,
    to: 2n,
    from: 1n,
    term: 2,
    logTerm: 2,
    index: 0,
    entries: [],
    commit,
    reject: false,
    rejectHint: 0,
  });
  const first: Ready = {
    hardState: { term: 2, vote: 1n, commit: 0 },
    entries: [entry(1)],
    committedEntries: [],
    messages: [msg(MessageType.App, 0)],
    readStates: [],
    mustSync: true,
  };
  // What raft has next once the first Ready is durable: an append (same term and vote),
  // then only a higher commit index.
  const later: Ready[] = [
    {
      hardState: { term: 2, vote: 1n, commit: 1 },
      entries: [entry(2)],
      committedEntries: [entry(1)],
      messages: [msg(MessageType.App, 1), msg(MessageType.ReadIndexResp, 1)],
      readStates: [],
      mustSync: true,
    },
    {
      hardState: { term: 2, vote: 1n, commit: 2 },
      entries: [],
      committedEntries: [entry(2)],
      messages: [],
      readStates: [],
      mustSync: false,
    },
  ];
  const readies: Ready[] = [first];
  const { loop, events, fatal, sent } = scriptedLoop(readies);
  const node = (loop as unknown as { o: { node: { persisted: (i: number) => void } } }).o.node;
  const persisted = node.persisted;
  node.persisted = (i: number) => {
    persisted(i);
    if (i === 1) readies.push(later.shift() as Ready);
    if (i === 2) readies.push(later.shift() as Ready);
    loop.wake();
  };
  loop.wake();
  for (let i = 0; i < 200 && !events.includes('apply 2'); i++) await new Promise((r) => setTimeout(r, 5));
  await loop.stop();
  assert.deepEqual(fatal, []);
  const at = (e: string): number => {
    const i = events.indexOf(e);
    assert.ok(i >= 0, `missing event ${e} in ${events.join(', ')}`);
    return i;
  };
  assert.ok(at('saved 1') < at('send App 0'), 'the Ready that set term and vote sent before its save');
  assert.ok(at('send App 1') < at('saved 2'), 'the append did not go out ahead of the save');
  assert.ok(at('saved 2') < at('send ReadIndexResp 1'), 'a read-index answer went out ahead of the save');
  assert.ok(at('saved 2') < at('persisted 2'));
  assert.ok(at('saved 2') < at('apply 2'), 'applied before the entry was durable');
  assert.equal(
    events.filter((e) => e.startsWith('save ')).length,
    2,
    `a commit-only Ready was written: ${events}`,
  );
  assert.equal(sent.length, 3);
});

/** A loop over scripted Readys with recording fakes; `saveDelayMs` per save, `failSave` rejects that index. */
function scriptedLoop(readies: Ready[], opts: { failSave?: number } = {}) {
  const events: string[] = [];
  const fatal: Error[] = [];
  const sent: Message[] = [];
  let lastSave: Promise<void> = Promise.resolve();
  const node = {
    hasReady: () => readies.length > 0,
    ready: () => readies.shift() as Ready,
    advance: (rd: Ready) => events.push(`advance ${rd.entries[0]?.index ?? 'snap'}`),
    persisted: (i: number) => events.push(`persisted ${i}`),
    tick: () => undefined,
  } as unknown as RawNode;
  const wal: WalLog = {
    save: (_hs, ents) => {
      const i = ents[0]?.index;
      events.push(`save ${i}`);
      lastSave = lastSave
        .then(() => new Promise<void>((r) => setTimeout(r, 3)))
        .then(() => {
          if (i === opts.failSave) throw new Error(`disk failed at ${i}`);
          events.push(`saved ${i}`);
        });
      return lastSave;
    },
    saveSnapshot: (m) => {
      events.push(`wal snapshot ${m.index}`);
    },
    releaseTo: () => undefined,
    close: () => undefined,
  };
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
  const loop = new RaftLoop({
    node,
    storage: {
      append: () => undefined,
      setHardState: () => undefined,
      applySnapshot: (s: { metadata: { index: number } }) =>
        events.push(`storage snapshot ${s.metadata.index}`),
    } as unknown as MemoryStorage,
    wal,
    snapshots: {
      save: (s) => {
        events.push(`snapshot file ${s.metadata.index}`);
      },
      purge: () => undefined,
    } as SnapshotStore,
    applier,
    appliedWaiters: new AppliedIndexWaiters(10, 0),
    backend: {} as KvBackend,
    membership: {} as Membership,
    transport: {
      send: (ms) => {
        for (const m of ms) {
          const name = Object.entries(MessageType).find(([, v]) => v === m.type)?.[0];
          events.push(`send ${name} ${m.commit}`);
          sent.push(m);
        }
      },
    },
    ...QUIET,
    tickMs: 1000,
    snapshotCount: 1000,
    clock: realClock,
    onFatal: (err) => fatal.push(err),
  });
  return { loop, events, fatal, sent };
}

function plainReady(i: number): Ready {
  return {
    hardState: { term: 2, vote: 1n, commit: i },
    entries: [entry(i)],
    committedEntries: [entry(i)],
    messages: [],
    readStates: [],
    mustSync: true,
  };
}

test('a snapshot Ready waits for every earlier stage, and nothing after it starts before it is done', async () => {
  const snapReady: Ready = {
    snapshot: {
      metadata: {
        index: 10,
        term: 2,
        confState: { voters: [1n], learners: [] },
      },
      data: new Uint8Array(),
    },
    entries: [],
    committedEntries: [],
    messages: [],
    readStates: [],
    mustSync: true,
  };
  const { loop, events, fatal } = scriptedLoop([plainReady(1), snapReady, plainReady(11)]);
  loop.wake();
  for (let i = 0; i < 200 && !events.includes('apply 11'); i++) await new Promise((r) => setTimeout(r, 2));
  await loop.stop();
  assert.deepEqual(fatal, []);
  const at = (e: string) => {
    const i = events.indexOf(e);
    assert.ok(i >= 0, `missing ${e} in ${events.join(', ')}`);
    return i;
  };
  assert.ok(at('apply 1') < at('snapshot file 10'), 'earlier stages finish before the snapshot is handled');
  assert.ok(
    at('snapshot file 10') < at('wal snapshot 10'),
    'the snapshot file is written before its WAL record',
  );
  assert.ok(
    at('storage snapshot 10') < at('save 11'),
    'nothing after the snapshot is taken before it is done',
  );
  assert.ok(at('saved 11') < at('apply 11'));
});

test('a failed save is fatal and nothing of its Ready, or after it, is applied', async () => {
  const { loop, events, fatal } = scriptedLoop([plainReady(1), plainReady(2), plainReady(3)], {
    failSave: 2,
  });
  loop.wake();
  for (let i = 0; i < 200 && fatal.length === 0; i++) await new Promise((r) => setTimeout(r, 2));
  await new Promise((r) => setTimeout(r, 20));
  await loop.stop();
  assert.equal(fatal.length, 1);
  assert.match(fatal[0]!.message, /disk failed at 2/);
  assert.ok(events.includes('apply 1'));
  assert.ok(!events.includes('apply 2') && !events.includes('apply 3'), events.join(', '));
});

test('ticks missed while the process was starved are made up, after the I/O that waited', async () => {
  let now = 0;
  let tickFn: () => void = () => undefined;
  const soon: Array<() => void> = [];
  const clock = {
    now: () => now,
    monotonic: () => now,
    after: () => ({ cancel: () => undefined }),
    every: (_ms: number, fn: () => void) => {
      tickFn = fn;
      return { cancel: () => undefined };
    },
    soon: (fn: () => void) => soon.push(fn),
  };
  let ticks = 0;
  const node = { hasReady: () => false, tick: () => ticks++ } as unknown as RawNode;
  const loop = new RaftLoop({
    node,
    storage: {} as MemoryStorage,
    wal: {} as WalLog,
    snapshots: {} as SnapshotStore,
    applier: {} as Applier,
    appliedWaiters: new AppliedIndexWaiters(10, 0),
    backend: {} as KvBackend,
    membership: {} as Membership,
    transport: { send: () => undefined },
    ...QUIET,
    tickMs: 100,
    snapshotCount: 100,
    clock,
    onFatal: (err) => {
      throw err;
    },
  });
  loop.start();
  const runSoon = () => {
    for (const fn of soon.splice(0)) fn();
  };
  // On time: one tick per firing.
  for (let i = 1; i <= 3; i++) {
    now = i * 100;
    tickFn();
    runSoon();
  }
  assert.equal(ticks, 3);
  // Starved for 650 ms: one tick at once, the 5 others only after the pending I/O (soon).
  now = 950;
  tickFn();
  assert.equal(ticks, 4);
  runSoon();
  assert.equal(ticks, 9);
  // Back on time, and a firing that comes early still ticks once (and never runs ahead).
  now = 1050;
  tickFn();
  now = 1060;
  tickFn();
  runSoon();
  assert.equal(ticks, 11);
  now = 1150;
  tickFn();
  runSoon();
  assert.equal(ticks, 12);
  // A very long stall is made up for at most 20 ticks.
  now = 60_000;
  tickFn();
  runSoon();
  assert.equal(ticks, 32);
  await loop.stop();
});
