// The watch guarantees, checked after the run against the reference history.
// Pure: everything it needs is in the records.
//
// For every watcher (all its incarnations: the first create and each re-create
// after a stream broke, from the revision after the last event it received):
//  - ordered, unique, complete: the concatenation of the events it received is
//    the reference history restricted to its range and filters, from its start
//    revision, in revision (and sub-revision) order, with no gap and no
//    duplicate; all of it unless it ended with a cancel, then a prefix;
//  - atomic: a revision's events come in one response (fragments merged);
//  - each event exactly as etcd sends it (kv fields; a DELETE's kv is the key
//    with mod_revision); prev_kv exactly the previous record when asked (and
//    absent otherwise), or absent because that revision was compacted;
//    the one allowance: a watch started exactly at a compaction revision may
//    miss that revision's DELETE events (etcd compacts those tombstones away);
//  - headers: never decreasing for the watcher, events never above their
//    response's header, headers never above the store's revision when the
//    response arrived (the highest revision of any write sent by then);
//  - compaction: a create or resume from a revision below a compaction
//    acknowledged before it must be canceled with compact_revision (etcd: a
//    created response, then a non-created response with canceled and
//    compact_revision); any compaction cancel must name a compaction requested
//    before it that covers a revision the watcher still needed;
//  - no server-side cancel other than compaction, no fragments unless asked,
//    nothing after the watcher ended.
// Progress responses (watch_id -1 broadcast to the stream, or addressed to the
// watcher with no events) must not be above the store; that every expected
// event up to their revision was already delivered and that no later header
// is lower is checked separately (see README.md: etcd 3.4 breaks it).
import type { CompactionRecord } from './history.js';
import { describeRange, type Kv, type RefEvent, sameKv, showKv } from './model.js';
import type { Incarnation, RecvEvent, RecvResponse, WatcherRecord, WatcherSpec } from './records.js';

export interface Reference {
  final: number;
  /** events[r]: every event of revision r. */
  events: readonly (readonly RefEvent[] | undefined)[];
  /** The highest revision the store can have had at time t. */
  bound: (t: number) => number;
  compactions: readonly CompactionRecord[];
}

export interface ExpEvent {
  rev: number;
  ev: RefEvent;
}

export interface WatcherResult {
  violations: string[];
  progressViolations: string[];
  eventsChecked: number;
  expected: number;
  end: 'complete' | 'compacted' | 'canceled' | 'incomplete' | 'never-established' | 'create-failed';
  fragmented: number;
  prevKvOmitted: number;
  progressObs: number;
  /** Compaction cancels of a first create / of a re-create after a broken stream. */
  compactedOnCreate: number;
  compactedOnResume: number;
  /** Creates that had to be canceled (start below an acknowledged compaction). */
  mustCancel: number;
  /** DELETE events at a compaction revision not delivered to a watch that started there. */
  compactedTombstones: number;
}

export function describeWatcher(s: WatcherSpec, initialStart: number): string {
  const opts = [
    `start=${initialStart}(${s.start})`,
    s.prevKv ? 'prev_kv' : '',
    s.filters.join('+'),
    s.fragment ? 'fragment' : '',
  ].filter((x) => x !== '');
  const after = s.after === undefined ? '' : ` (after watcher ${s.after.watcher}'s compaction cancel)`;
  return `watcher ${s.id} ${describeRange(s.range)} ${opts.join(' ')}${after}`;
}

export function passesFilters(spec: WatcherSpec, ev: RefEvent): boolean {
  if (spec.filters.includes('NOPUT') && ev.type === 'PUT') return false;
  if (spec.filters.includes('NODELETE') && ev.type === 'DELETE') return false;
  return true;
}

function inSpecRange(spec: WatcherSpec, key: string): boolean {
  const r = spec.range;
  if (r.end === '') return key === r.key;
  if (r.end === '\0') return key >= r.key;
  return key >= r.key && key < r.end;
}

/** The reference events a watcher starting at `from` must receive, in order. */
export function expectedFor(spec: WatcherSpec, from: number, ref: Reference): ExpEvent[] {
  const out: ExpEvent[] = [];
  for (let r = Math.max(from, 2); r <= ref.final; r++) {
    for (const ev of ref.events[r] ?? []) {
      if (inSpecRange(spec, ev.kv.key) && passesFilters(spec, ev)) out.push({ rev: r, ev });
    }
  }
  return out;
}

/** The first revision the watcher is owed: its start, or for start 0 the created header + 1. */
export function effectiveStart(rec: WatcherRecord): number | undefined {
  if (rec.initialStart > 0) return rec.initialStart;
  for (const inc of rec.incarnations) {
    if (inc.created !== undefined && !inc.created.canceled) {
      return inc.requestedStart > 0 ? inc.requestedStart : inc.created.header + 1;
    }
  }
  return undefined;
}

function showEvent(type: string, kv: Kv): string {
  return `${type} ${showKv(kv)}`;
}

function sameEvent(got: RecvEvent, exp: RefEvent): boolean {
  return got.type === exp.type && got.lease === 0n && sameKv(got.kv, exp.kv);
}

/** Highest compaction requested before t (it may be in effect when a response is built). */
function compactionBefore(ref: Reference, t: number): number {
  let c = 0;
  for (const x of ref.compactions)
    if (x.sentAt < t && x.outcome !== 'not-applied') c = Math.max(c, x.revision);
  return c;
}

export function checkWatcher(rec: WatcherRecord, ref: Reference): WatcherResult {
  /** A DELETE at the start revision of a create, which is also a compaction revision requested before t. */
  const tombstoneCompacted = (e: ExpEvent, inc: Incarnation, t: number): boolean =>
    e.ev.type === 'DELETE' &&
    e.rev === inc.requestedStart &&
    ref.compactions.some((c) => c.revision === e.rev && c.sentAt < t && c.outcome !== 'not-applied');
  const spec = rec.spec;
  const name = describeWatcher(spec, rec.initialStart);
  const res: WatcherResult = {
    violations: [],
    progressViolations: [],
    eventsChecked: 0,
    expected: 0,
    end: 'incomplete',
    fragmented: 0,
    prevKvOmitted: 0,
    progressObs: rec.progress.length,
    compactedOnCreate: 0,
    compactedOnResume: 0,
    mustCancel: 0,
    compactedTombstones: 0,
  };
  const fail = (msg: string): void => {
    if (res.violations.length < 8) res.violations.push(`${name}: ${msg}`);
    else if (res.violations.length === 8) res.violations.push(`${name}: … (more violations not shown)`);
  };
  const eff = effectiveStart(rec);
  if (eff === undefined) {
    const refused = rec.incarnations.find((i) => i.created?.canceled === true);
    if (refused !== undefined) {
      res.end = 'create-failed';
      fail(`create refused: ${JSON.stringify(refused.created?.cancelReason)}`);
    } else {
      res.end = 'never-established';
      fail(`never established (${rec.incarnations.length} create requests, none answered)`);
    }
    return res;
  }
  const exp = expectedFor(spec, eff, ref);
  res.expected = exp.length;
  let idx = 0;
  let lastRev = 0;
  let lastHeader = 0;
  let effKnown = rec.initialStart > 0;
  let seqBroken = false;
  let ended: 'compacted' | 'canceled' | undefined;
  const seenRevs = new Set<number>();
  const headers: { at: number; header: number }[] = [];

  let lastHeaderFrom = '';
  const describeResp = (resp: RecvResponse, what: string): string => {
    const revs = resp.events.map((e) => e.kv.modRevision);
    const span = revs.length === 0 ? 'no events' : `events ${revs[0]}..${revs.at(-1)}`;
    return `${what} (${span}, at ${resp.at.toFixed(1)} ms)`;
  };
  const checkHeader = (resp: RecvResponse, what: string): void => {
    if (resp.header < lastHeader) {
      fail(
        `header revision decreased: ${resp.header} on ${describeResp(resp, what)} after ${lastHeader} on ${lastHeaderFrom}`,
      );
    }
    const bound = ref.bound(resp.at);
    if (resp.header > bound)
      fail(`${what} header revision ${resp.header} above the store's revision (at most ${bound})`);
    if (resp.header >= lastHeader) {
      lastHeader = resp.header;
      lastHeaderFrom = describeResp(resp, what);
    }
    headers.push({ at: resp.at, header: resp.header });
  };

  const checkEvent = (ev: RecvEvent, resp: RecvResponse, inc: Incarnation): void => {
    const rev = ev.kv.modRevision;
    if (seqBroken) return;
    let want = exp[idx];
    // etcd compacts away the tombstones AT the compaction revision: a watch
    // started exactly there may miss that revision's DELETE events (not its PUTs).
    while (
      want !== undefined &&
      tombstoneCompacted(want, inc, resp.at) &&
      (rev > want.rev || (rev === want.rev && !sameEvent(ev, want.ev)))
    ) {
      res.compactedTombstones++;
      idx++;
      want = exp[idx];
    }
    if (want === undefined) {
      const why =
        rev <= lastRev
          ? `duplicate or out-of-order event ${showEvent(ev.type, ev.kv)} after revision ${lastRev}`
          : `unexpected event ${showEvent(ev.type, ev.kv)}: nothing more expected after revision ${exp.at(-1)?.rev ?? eff - 1}`;
      fail(why);
      seqBroken = true;
      return;
    }
    if (!sameEvent(ev, want.ev)) {
      let why: string;
      if (!inSpecRange(spec, ev.kv.key))
        why = `event outside the watched range: ${showEvent(ev.type, ev.kv)}`;
      else if (spec.filters.includes('NOPUT') && ev.type === 'PUT')
        why = `NOPUT filter not honoured: ${showEvent(ev.type, ev.kv)}`;
      else if (spec.filters.includes('NODELETE') && ev.type === 'DELETE')
        why = `NODELETE filter not honoured: ${showEvent(ev.type, ev.kv)}`;
      else if (rev > want.rev)
        why = `gap: expected ${showEvent(want.ev.type, want.ev.kv)}, got ${showEvent(ev.type, ev.kv)}`;
      else if (rev < want.rev && rev > lastRev)
        why = `event not in the reference history: ${showEvent(ev.type, ev.kv)}, expected ${showEvent(want.ev.type, want.ev.kv)}`;
      else if (rev < want.rev)
        why = `duplicate or out-of-order event ${showEvent(ev.type, ev.kv)} after revision ${lastRev}, expected ${showEvent(want.ev.type, want.ev.kv)}`;
      else if (ev.lease !== 0n) why = `event with lease ${ev.lease}: ${showEvent(ev.type, ev.kv)}`;
      else
        why = `wrong event at revision ${rev}: expected ${showEvent(want.ev.type, want.ev.kv)}, got ${showEvent(ev.type, ev.kv)}`;
      fail(why);
      seqBroken = true;
      return;
    }
    const wantPrev = spec.prevKv ? want.ev.prev : undefined;
    if (ev.prev === undefined) {
      if (wantPrev !== undefined) {
        if (rev - 1 < compactionBefore(ref, resp.at)) res.prevKvOmitted++;
        else fail(`prev_kv missing on ${showEvent(ev.type, ev.kv)}: expected ${showKv(wantPrev)}`);
      }
    } else if (wantPrev === undefined) {
      fail(`unexpected prev_kv ${showKv(ev.prev)} on ${showEvent(ev.type, ev.kv)}`);
    } else if (!sameKv(ev.prev, wantPrev) || ev.prevLease !== 0n) {
      fail(
        `wrong prev_kv on ${showEvent(ev.type, ev.kv)}: expected ${showKv(wantPrev)}, got ${showKv(ev.prev)}`,
      );
    }
    idx++;
  };

  rec.incarnations.forEach((inc: Incarnation, i) => {
    if (ended !== undefined) {
      fail(`create request #${i} after the watcher ended (${ended})`);
      return;
    }
    const wantStart = lastRev > 0 ? lastRev + 1 : effKnown ? eff : rec.initialStart;
    if (inc.requestedStart !== wantStart) {
      fail(`client error: create #${i} from ${inc.requestedStart}, should resume from ${wantStart}`);
    }
    const mustCancel = inc.requestedStart > 0 && inc.requestedStart < inc.compLoAtSend;
    let gotCompactCancel = false;
    let incEvents = 0;
    if (inc.created === undefined) {
      if (inc.responses.length > 0) fail(`responses before the created response`);
      if (inc.end === 'open') fail(`create #${i} (from ${inc.requestedStart}) never answered`);
      return;
    }
    if (inc.created.canceled) {
      fail(`create #${i} refused: ${JSON.stringify(inc.created.cancelReason)}`);
      return;
    }
    if (inc.created.events.length > 0) fail(`created response with events`);
    checkHeader(inc.created, `created (create #${i})`);
    effKnown = true;
    for (const resp of inc.responses) {
      if (ended !== undefined) {
        fail(`response after the watcher ended (${ended}) at ${resp.header}`);
        break;
      }
      if (resp.parts > 1) {
        res.fragmented++;
        if (!spec.fragment) fail('fragmented response to a watcher that did not ask for fragments');
      }
      const compactCancel = resp.canceled && resp.compactRevision > 0;
      // etcd 3.4 sends the compaction cancel with header revision 0.
      if (!(compactCancel && resp.header === 0))
        checkHeader(resp, resp.canceled ? 'cancel' : 'event response');
      let prevEvRev = 0;
      const revs = new Set<number>();
      for (const ev of resp.events) {
        const rev = ev.kv.modRevision;
        if (resp.header !== 0 && rev > resp.header)
          fail(`event at ${rev} above its response's header ${resp.header}`);
        if (rev < prevEvRev) fail(`events out of revision order in one response (${rev} after ${prevEvRev})`);
        prevEvRev = rev;
        if (!revs.has(rev)) {
          if (seenRevs.has(rev)) fail(`revision ${rev} delivered in more than one response`);
          revs.add(rev);
        }
        checkEvent(ev, resp, inc);
        lastRev = Math.max(lastRev, rev);
        incEvents++;
        res.eventsChecked++;
      }
      for (const r of revs) seenRevs.add(r);
      if (resp.canceled) {
        if (compactCancel) {
          const cr = resp.compactRevision;
          const requested = ref.compactions.some(
            (c) => c.revision === cr && c.sentAt < resp.at && c.outcome !== 'not-applied',
          );
          if (!requested) fail(`compaction cancel at ${cr}, a revision no compaction requested before it`);
          const need = Math.max(lastRev + 1, eff, inc.requestedStart);
          if (cr <= need)
            fail(
              `compaction cancel at ${cr}, but the watcher needed revisions from ${need} on (not compacted)`,
            );
          if (resp.created) fail('compaction cancel flagged created (clientv3 3.4 would drop it)');
          ended = 'compacted';
          gotCompactCancel = true;
          if (i === 0) res.compactedOnCreate++;
          else res.compactedOnResume++;
        } else {
          if (inc.cancelSentAt === undefined || resp.at < inc.cancelSentAt) {
            fail(`canceled by the server: ${JSON.stringify(resp.cancelReason)}`);
          }
          ended = 'canceled';
        }
      }
    }
    if (mustCancel) {
      res.mustCancel++;
      if (incEvents > 0)
        fail(`create #${i} from ${inc.requestedStart} (below compaction ${inc.compLoAtSend}) got events`);
      if (gotCompactCancel) {
        const cancel = inc.responses.find((r) => r.canceled && r.compactRevision > 0);
        if (cancel !== undefined && cancel.compactRevision < inc.compLoAtSend) {
          fail(
            `compaction cancel at ${cancel.compactRevision}, below compaction ${inc.compLoAtSend} acknowledged before the create`,
          );
        }
      } else if (inc.end === 'open') {
        fail(
          `create #${i} from ${inc.requestedStart}, below compaction ${inc.compLoAtSend} acknowledged before it, was not canceled`,
        );
      }
    }
  });

  const lastInc = rec.incarnations.at(-1);
  // Canceled by the client, and the stream broke before the cancel was confirmed.
  if (ended === undefined && lastInc?.cancelSentAt !== undefined && lastInc.end === 'broken')
    ended = 'canceled';
  while (
    ended === undefined &&
    lastInc !== undefined &&
    idx < exp.length &&
    tombstoneCompacted(exp[idx]!, lastInc, Infinity)
  ) {
    res.compactedTombstones++;
    idx++;
  }
  if (ended === undefined && !seqBroken && idx < exp.length) {
    const first = exp[idx]!;
    fail(
      `missing ${exp.length - idx} events from ${showEvent(first.ev.type, first.ev.kv)} on (received up to revision ${lastRev}, expected up to ${exp.at(-1)?.rev})`,
    );
  }
  res.end = ended ?? (!seqBroken && idx === exp.length ? 'complete' : 'incomplete');

  // Progress responses.
  for (const p of rec.progress) {
    const bound = ref.bound(p.at);
    if (p.header > bound)
      fail(`progress header revision ${p.header} above the store's revision (at most ${bound})`);
    const pending = exp.find((e) => e.rev > p.lastEventRev);
    if (pending !== undefined && pending.rev <= p.header) {
      res.progressViolations.push(
        `${name}: progress at revision ${p.header}${p.broadcast ? ' (broadcast)' : ''} before event ${showEvent(pending.ev.type, pending.ev.kv)} was delivered`,
      );
    }
    const lower = headers.find((h) => h.at > p.at && h.header < p.header);
    if (lower !== undefined) {
      res.progressViolations.push(
        `${name}: header revision ${lower.header} after a progress response at ${p.header}${p.broadcast ? ' (broadcast)' : ''}`,
      );
    }
  }
  return res;
}
