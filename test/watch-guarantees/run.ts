// One seeded run of the watch-guarantee check: a single member, concurrent
// writers, watchers on a few connections, a compactor, progress requests, and
// SIGKILLs / a clean stop with restarts; then the reference history is rebuilt
// and every watcher is checked against it (check.ts).
import { eventually, memberSpec, removeDir, sleep, tempDir } from '../integration/harness.js';
import { checkWatcher, describeWatcher, expectedFor, type Reference, type WatcherResult } from './check.js';
import { type CompactionRecord, History, type WriteRecord } from './history.js';
import { KEYS, PREFIX, planOp, prefixEnd, type RefEvent, type Store, showKv, storeDiff } from './model.js';
import type { WatcherRecord } from './records.js';
import { rng } from './rng.js';
import { Connection, errorCode, errorText } from './rpc.js';
import { makeServer, type ServerKind, type ServerProcess, stopWithin } from './server.js';
import { Gate, planWatchers, WatchManager } from './watchers.js';

export interface RunOptions {
  seed: number;
  server: ServerKind;
  /** How long the writers write (restarts not counted). */
  seconds: number;
  watchers: number;
  connections: number;
  streamsPerConnection: number;
  /** Deliberately break the reference to see the check fail. */
  sabotage?: 'drop-event' | undefined;
  /** Log every watcher's creates and outcome. */
  verbose?: boolean;
  log: (line: string) => void;
}

export interface RunSummary {
  seed: number;
  server: ServerKind;
  finalRevision: number;
  writes: { sent: number; acked: number; failed: number; recovered: number; errors: Record<string, number> };
  restarts: { kind: 'kill' | 'stop'; at: number; revision: number; downMs: number }[];
  compactions: { requested: number; acked: number; last: number };
  watchers: number;
  /** Watchers that replaced one canceled by a compaction (from its compact_revision). */
  replacements: number;
  incarnations: number;
  eventsChecked: number;
  eventsExpected: number;
  ends: Record<string, number>;
  fragmented: number;
  prevKvOmitted: number;
  compactedTombstones: number;
  compactionCancels: { onCreate: number; onResume: number; required: number };
  progress: { requests: number; broadcast: number; observations: number; violations: number };
  streamEnds: { expected: number; unexpected: number };
  durationMs: number;
}

export interface RunResult {
  summary: RunSummary;
  /** Guarantee violations and reference problems: any makes the run fail. */
  violations: string[];
  /** Progress responses that ran ahead of events (reported; fatal only with strictProgress). */
  progressViolations: string[];
  serverOutput: string;
}

/** Flags of the member (identical for etcd-ts and the real etcd). */
export const MEMBER_ARGS = [
  // Raft snapshots during the run, so restarts also start from a snapshot.
  '--snapshot-count=2000',
  // etcd fragments watch responses above this + 512 KiB: keep it small.
  '--max-request-bytes=32768',
];

const WRITE_TIMEOUT_MS = 5000;

function storeFrom(
  kvs: { key: string; value: string; createRevision: number; modRevision: number; version: number }[],
): Store {
  return new Map(kvs.map((kv) => [kv.key, kv]));
}

const ALL = { key: PREFIX, end: prefixEnd(PREFIX) };

/** Failed writes by operation kind and error (numbers and ports stripped). */
function writeErrors(writes: readonly WriteRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of writes) {
    if (w.outcome !== 'failed') continue;
    const k = `${w.kind}: ${(w.error ?? '').replace(/\d+/g, 'N').slice(0, 100)}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

export async function runCheck(o: RunOptions): Promise<RunResult> {
  const t0 = performance.now();
  const violations: string[] = [];
  const dir = tempDir('watch-check');
  const spec = await memberSpec('wcheck', `${dir}/data`, MEMBER_ARGS);
  const server: ServerProcess = makeServer(o.server, spec);
  const history = new History();
  const admin = new Connection(server.endpoint);
  const writerCount = rng(o.seed, 'writers').int(2, 4);
  const writerConns = Array.from({ length: writerCount }, () => new Connection(server.endpoint));
  const watchConns = Array.from({ length: o.connections }, () => new Connection(server.endpoint));
  const manager = new WatchManager(watchConns, o.streamsPerConnection, history);
  const runGate = new Gate();
  const restarts: RunSummary['restarts'] = [];
  const timers: NodeJS.Timeout[] = [];
  let stopping = false;
  let inFlight = 0;
  let writeId = 0;
  let compactorBusy = false;
  const fatal = (): void => {
    if (manager.fatal !== undefined) throw new Error(manager.fatal);
  };

  const readState = async (rev: number): Promise<Store> => storeFrom((await admin.rangeAt(ALL, rev)).kvs);
  const waitServing = async (): Promise<number> => {
    const r = await eventually(() => admin.rangeAt(ALL, 0, 2000), 30_000, 50);
    await Promise.all([...writerConns, ...watchConns, admin].map((c) => c.ready(10_000)));
    return r.revision;
  };

  const writer = async (i: number): Promise<void> => {
    const r = rng(o.seed, `writer${i}`);
    let n = 0;
    while (!stopping) {
      await runGate.wait();
      if (stopping) break;
      const op = planOp(r, `w${i}.${n++}`);
      const rec: WriteRecord = {
        id: writeId++,
        writer: i,
        kind: op.kind,
        muts: op.muts,
        sentAt: performance.now(),
        doneAt: 0,
        outcome: 'failed',
      };
      inFlight++;
      try {
        const res = await writerConns[i]!.write(op.muts, op.kind === 'txn', WRITE_TIMEOUT_MS);
        rec.doneAt = performance.now();
        rec.outcome = 'acked';
        rec.revision = res.revision;
        rec.deleted = res.deleted;
      } catch (err) {
        rec.doneAt = performance.now();
        rec.error = errorText(err);
      } finally {
        inFlight--;
      }
      history.record(rec);
      await sleep(rec.outcome === 'failed' ? 50 : r.int(0, 6));
    }
  };

  const compact = async (rev: number): Promise<void> => {
    const c: CompactionRecord = { revision: rev, sentAt: performance.now(), doneAt: 0, outcome: 'unknown' };
    history.compactions.push(c);
    try {
      await admin.compact(rev, WRITE_TIMEOUT_MS);
      c.doneAt = performance.now();
      c.outcome = 'acked';
      c.knownAt = c.doneAt;
    } catch (err) {
      c.doneAt = performance.now();
      o.log(`compaction at ${rev} failed: ${errorText(err)}`);
    }
  };

  const compactor = async (): Promise<void> => {
    const r = rng(o.seed, 'compactor');
    while (!stopping) {
      await sleep(r.int(700, 2500));
      await runGate.wait();
      if (stopping) break;
      const hi = history.contiguous();
      const lo = Math.max(2, history.compactedAtMost() + 1);
      if (hi < lo) continue;
      compactorBusy = true;
      await compact(r.int(lo, hi));
      compactorBusy = false;
    }
  };

  /** After a restart: which compactions that failed (in flight at the kill) took effect. */
  const learnCompactions = async (): Promise<void> => {
    for (const c of history.compactions) {
      if (c.outcome !== 'unknown') continue;
      let applied: boolean;
      try {
        await admin.rangeAt(ALL, c.revision - 1);
        applied = false;
      } catch (err) {
        if (errorCode(err) !== 11 /* OUT_OF_RANGE */ && !/compacted/.test(errorText(err))) throw err;
        applied = true;
      }
      c.outcome = applied ? 'applied' : 'not-applied';
      c.knownAt = performance.now();
    }
  };

  /** Resolves the history up to the current revision and compares the model with the store. */
  const settle = async (what: string): Promise<number> => {
    const { revision, kvs } = await admin.rangeAt(ALL, 0);
    await history.resolve(revision, readState);
    const diff = storeDiff(history.state(), storeFrom(kvs));
    if (diff !== undefined)
      violations.push(`reference: after ${what}, model and store differ at revision ${revision}: ${diff}`);
    return revision;
  };

  const restart = async (kind: 'kill' | 'stop', r: ReturnType<typeof rng>): Promise<void> => {
    const at = performance.now();
    manager.gate.set(false);
    // The signal goes out now, with writes in flight; no new ones after it.
    const down = kind === 'kill' ? server.kill().then(() => 'clean' as const) : stopWithin(server, 15_000);
    runGate.set(false);
    if ((await down) === 'killed') violations.push('server: a clean stop (SIGTERM) took over 15 s');
    while (inFlight > 0 || compactorBusy) await sleep(5);
    server.start();
    const rev = await waitServing();
    await learnCompactions();
    const settled = await settle(`the ${kind} at ${rev}`);
    // Now and then compact before the watchers come back, so that resumes hit it.
    if (r.chance(0.6)) {
      const lo = Math.max(2, history.compactedAtMost() + 1);
      const hi = history.contiguous();
      if (hi >= lo) await compact(r.int(Math.max(lo, hi - 300), hi));
    }
    const downMs = Math.round(performance.now() - at);
    restarts.push({ kind, at: Math.round(at - t0), revision: settled, downMs });
    o.log(`${kind} #${restarts.length}: back at revision ${settled} after ${downMs} ms`);
    manager.gate.set(true);
    manager.resume();
    runGate.set(true);
  };

  let finalRevision = 1;
  let checkInput: { ref: Reference; recs: WatcherRecord[] } | undefined;
  try {
    server.start();
    await waitServing();
    manager.start();
    runGate.set(true);

    const wr = rng(o.seed, 'watchers');
    const durationMs = o.seconds * 1000;
    const specs = planWatchers(wr, o.watchers, manager.slotCount, durationMs);
    for (const s of specs) {
      const wrng = rng(o.seed, `watcher${s.id}`);
      timers.push(
        setTimeout(() => {
          manager.add(s, wrng);
        }, s.createAtMs),
      );
      const cancelAt = s.cancelAtMs;
      if (cancelAt !== undefined) timers.push(setTimeout(() => manager.cancel(s.id), cancelAt));
    }
    const workers = [...Array.from({ length: writerCount }, (_, i) => writer(i)), compactor()];
    const progress = (async () => {
      const r = rng(o.seed, 'progress');
      while (!stopping) {
        await sleep(r.int(200, 900));
        manager.requestProgress();
      }
    })();

    // Restarts: 2-3 SIGKILLs and one clean stop, spread over the run.
    const sr = rng(o.seed, 'schedule');
    const kinds: ('kill' | 'stop')[] = sr.sample(
      ['stop', 'kill', 'kill', ...(sr.chance(0.5) ? ['kill' as const] : [])],
      4,
    );
    const slice = durationMs / (kinds.length + 1);
    for (const k of kinds) {
      const until = performance.now() + slice * (0.6 + 0.8 * sr.next());
      while (performance.now() < until) {
        fatal();
        await sleep(50);
      }
      await restart(k, sr);
    }
    const end = performance.now() + slice;
    while (performance.now() < end) {
      fatal();
      await sleep(50);
    }
    for (const x of timers) clearTimeout(x);
    stopping = true;
    runGate.set(true);
    await Promise.all(workers);
    await progress;
    fatal();
    finalRevision = await settle('the writers stopped');
    for (const w of history.leftovers(finalRevision)) {
      violations.push(
        `reference: write #${w.id} acknowledged at ${w.revision}, above the final revision ${finalRevision}`,
      );
    }
    history.checkRealTime();
    // Each key read on its own at the final revision against the model.
    const model = history.state();
    for (const k of KEYS) {
      const got = (await admin.rangeAt({ key: k, end: '' }, finalRevision)).kvs[0];
      const want = model.get(k);
      if (showKv(got) !== showKv(want))
        violations.push(`reference: ${k} at ${finalRevision} is ${showKv(got)}, model ${showKv(want)}`);
    }

    const events: RefEvent[][] = history.events.map((e) => e);
    if (o.sabotage === 'drop-event') {
      const sr2 = rng(o.seed, 'sabotage');
      const candidates = [];
      for (let r = Math.floor(finalRevision / 2); r <= finalRevision; r++)
        if ((events[r]?.length ?? 0) > 0) candidates.push(r);
      const r = sr2.pick(candidates);
      const dropped = events[r]![0]!;
      events[r] = events[r]!.slice(1);
      o.log(`sabotage: dropped ${dropped.type} ${showKv(dropped.kv)} from the reference`);
    }
    const ref: Reference = {
      final: finalRevision,
      events,
      bound: history.revisionBound(),
      compactions: history.compactions,
    };
    checkInput = { ref, recs: manager.records };

    // Catch-up: every watcher still running has received its last expected event.
    const lastExpected = new Map<WatcherRecord, number>();
    const last = (rec: WatcherRecord, eff: number): number => {
      let v = lastExpected.get(rec);
      if (v === undefined) {
        v = expectedFor(rec.spec, eff, ref).at(-1)?.rev ?? 0;
        lastExpected.set(rec, v);
      }
      return v;
    };
    const catchUpUntil = performance.now() + 20_000;
    let pending = manager.pendingWatchers(last);
    while (pending.length > 0 && performance.now() < catchUpUntil) {
      fatal();
      await sleep(50);
      pending = manager.pendingWatchers(last);
    }
    if (pending.length > 0) o.log(`catch-up: ${pending.length} watchers still behind after 20 s`);
    // A last round of progress requests, and time for anything extra to show up.
    manager.requestProgress();
    await sleep(500);
  } finally {
    stopping = true;
    runGate.set(true);
    for (const x of timers) clearTimeout(x);
    manager.close();
    for (const c of [admin, ...writerConns, ...watchConns]) c.close();
    await server.kill();
    removeDir(dir);
  }

  // --- the checks ------------------------------------------------------------
  for (const p of history.problems) violations.push(`reference (${p.kind}): ${p.detail}`);
  for (const p of manager.protocol) violations.push(`protocol: ${p}`);
  const unexpectedEnds = manager.streamEnds.filter((e) => e.serverUp);
  for (const e of unexpectedEnds)
    violations.push(`stream ${e.slot} ended while the member was serving: ${e.error}`);
  const { ref, recs } = checkInput;
  const results: WatcherResult[] = recs.map((rec) => checkWatcher(rec, ref));
  const progressViolations: string[] = [];
  const ends: Record<string, number> = {};
  let eventsChecked = 0;
  let eventsExpected = 0;
  if (o.verbose) {
    results.forEach((r, i) => {
      const rec = recs[i]!;
      const incs = rec.incarnations
        .map((inc) => {
          const cancel = inc.responses.find((x) => x.canceled);
          const n = inc.responses.reduce((k, x) => k + x.events.length, 0);
          const tail =
            cancel === undefined ? '' : ` cancel(cr=${cancel.compactRevision},hdr=${cancel.header})`;
          return `${inc.requestedStart}[lo ${inc.compLoAtSend}]→${inc.end}:${n}ev${tail}`;
        })
        .join(' | ');
      let big = 0;
      for (const inc of rec.incarnations) {
        for (const x of inc.responses) {
          const bytes = x.events.reduce(
            (n, e) => n + 30 + e.kv.key.length + e.kv.value.length + (e.prev ? 30 + e.prev.value.length : 0),
            0,
          );
          big = Math.max(big, bytes);
        }
      }
      o.log(
        `${describeWatcher(rec.spec, rec.initialStart)}: ${r.end} ${r.eventsChecked}/${r.expected} ev, largest response ~${big} B; ${incs}`,
      );
    });
  }
  for (const r of results) {
    violations.push(...r.violations);
    progressViolations.push(...r.progressViolations);
    ends[r.end] = (ends[r.end] ?? 0) + 1;
    eventsChecked += r.eventsChecked;
    eventsExpected += r.expected;
  }
  const writes = history.writes;
  const summary: RunSummary = {
    seed: o.seed,
    server: o.server,
    finalRevision,
    writes: {
      sent: writes.length,
      acked: writes.filter((w) => w.outcome === 'acked').length,
      failed: writes.filter((w) => w.outcome === 'failed').length,
      recovered: history.recovered.length,
      errors: writeErrors(writes),
    },
    restarts,
    compactions: {
      requested: history.compactions.length,
      acked: history.compactions.filter((c) => c.outcome === 'acked' || c.outcome === 'applied').length,
      last: history.compactedAtLeast(),
    },
    watchers: recs.length,
    replacements: manager.replacements,
    incarnations: recs.reduce((n, r) => n + r.incarnations.length, 0),
    eventsChecked,
    eventsExpected,
    ends,
    fragmented: results.reduce((n, r) => n + r.fragmented, 0),
    prevKvOmitted: results.reduce((n, r) => n + r.prevKvOmitted, 0),
    compactedTombstones: results.reduce((n, r) => n + r.compactedTombstones, 0),
    compactionCancels: {
      onCreate: results.reduce((n, r) => n + r.compactedOnCreate, 0),
      onResume: results.reduce((n, r) => n + r.compactedOnResume, 0),
      required: results.reduce((n, r) => n + r.mustCancel, 0),
    },
    progress: {
      requests: manager.progressRequests,
      broadcast: manager.broadcastProgress,
      observations: results.reduce((n, r) => n + r.progressObs, 0),
      violations: progressViolations.length,
    },
    streamEnds: {
      expected: manager.streamEnds.length - unexpectedEnds.length,
      unexpected: unexpectedEnds.length,
    },
    durationMs: Math.round(performance.now() - t0),
  };
  return { summary, violations, progressViolations, serverOutput: server.output };
}
