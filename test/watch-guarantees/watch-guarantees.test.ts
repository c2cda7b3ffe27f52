// etcd's watch guarantees under concurrent writes, compactions, SIGKILLs and a
// clean stop (see README.md in this folder). Runs against etcd-ts; with
// WATCH_CHECK_SERVER=real against the real etcd 3.4 with the same flags.
//
//   WATCH_CHECK_SEED=n         replay the choices of a run (printed at the start)
//   WATCH_CHECK_SECONDS=s      writing time (default 15; longer for soak runs)
//   WATCH_CHECK_SERVER=real    /usr/bin/etcd instead of etcd-ts
//   WATCH_CHECK_STRICT_PROGRESS=1  progress responses ahead of events fail the run
//   WATCH_CHECK_SABOTAGE=drop-event  drop one event from the reference (the run must fail)
//   WATCH_CHECK_VERBOSE=1      print every watcher's creates and outcome
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCheck } from './run.js';
import { serverKind } from './server.js';

const seed = Number(process.env.WATCH_CHECK_SEED ?? Math.floor(Math.random() * 1_000_000));
const seconds = Number(process.env.WATCH_CHECK_SECONDS ?? 15);
const server = serverKind();
const strictProgress = process.env.WATCH_CHECK_STRICT_PROGRESS === '1';
const sabotage = process.env.WATCH_CHECK_SABOTAGE === 'drop-event' ? 'drop-event' : undefined;

test(`watch guarantees under restarts (${server}, seed ${seed})`, {
  timeout: seconds * 1000 + 120_000,
}, async (t) => {
  process.stderr.write(
    `watch-guarantees: WATCH_CHECK_SEED=${seed} WATCH_CHECK_SERVER=${server} WATCH_CHECK_SECONDS=${seconds}\n`,
  );
  const r = await runCheck({
    seed,
    server,
    seconds,
    watchers: 30,
    connections: 3,
    streamsPerConnection: 2,
    sabotage,
    verbose: process.env.WATCH_CHECK_VERBOSE === '1',
    log: (line) => t.diagnostic(line),
  });
  const s = r.summary;
  t.diagnostic(
    `seed ${s.seed} (${s.server}): revision ${s.finalRevision}; writes ${s.writes.sent} sent, ${s.writes.acked} acknowledged, ` +
      `${s.writes.failed} failed (${s.writes.recovered} of them applied); ` +
      `restarts ${s.restarts.map((x) => `${x.kind}@${x.revision}`).join(' ')}; ` +
      `compactions ${s.compactions.acked}/${s.compactions.requested} (last ${s.compactions.last})`,
  );
  t.diagnostic(
    `watchers ${s.watchers} (${s.replacements} of them from a compaction revision after a compaction cancel; ` +
      `${s.incarnations} creates; ends ${JSON.stringify(s.ends)}); events checked ${s.eventsChecked} ` +
      `of ${s.eventsExpected} expected; compaction cancels ${s.compactionCancels.onCreate} on create + ` +
      `${s.compactionCancels.onResume} on resume (${s.compactionCancels.required} required); ` +
      `fragmented responses ${s.fragmented}; prev_kv omitted after compaction ${s.prevKvOmitted}; ` +
      `deletes at a compaction start revision not delivered ${s.compactedTombstones}; ` +
      `progress: ${s.progress.requests} requests, ${s.progress.broadcast} broadcast responses, ${s.progress.violations} ahead of events; ` +
      `stream ends ${s.streamEnds.expected} expected, ${s.streamEnds.unexpected} unexpected; ${s.durationMs} ms`,
  );
  for (const [e, n] of Object.entries(s.writes.errors)) t.diagnostic(`failed writes: ${n} × ${e}`);
  for (const p of r.progressViolations.slice(0, 5)) t.diagnostic(`progress ahead of events: ${p}`);
  const failures = [...r.violations, ...(strictProgress ? r.progressViolations : [])];
  if (failures.length > 0) {
    process.stderr.write(
      `watch-guarantees FAILED (WATCH_CHECK_SEED=${seed} WATCH_CHECK_SERVER=${server}): ${failures.length} violations\n` +
        `${failures.slice(0, 40).join('\n')}\nmember log tail:\n${r.serverOutput.slice(-3000)}\n`,
    );
  }
  assert.deepEqual(failures.slice(0, 40), [], `seed ${seed}: watch guarantees violated`);
  assert.ok(s.eventsChecked > 0, `seed ${seed}: no events were checked`);
});
