// The reference history: which write made every revision 2..final and the
// events it made there. Acknowledged writes carry their revision; a write that
// failed (in flight at a kill, or timed out) may or may not have been applied,
// and is accepted for a revision that no acknowledged write claims only if
// applying it reproduces exactly the store the server reports at that revision
// (a Range at that revision, read right after the restart, before anything
// could compact it). Every revision must be accounted for by exactly one write:
// the workload makes no lease or other non-KV revisions.
import { applyMutations, type Mutation, type OpKind, type RefEvent, type Store, storeDiff } from './model.js';

export interface WriteRecord {
  id: number;
  writer: number;
  kind: OpKind;
  muts: Mutation[];
  /** performance.now() just before the request was handed to gRPC. */
  sentAt: number;
  /** performance.now() when the answer (or the error) arrived. */
  doneAt: number;
  outcome: 'acked' | 'failed';
  /** Acknowledged: the response header's revision. */
  revision?: number;
  /** Acknowledged: keys deleted per mutation, as the server reported. */
  deleted?: number[];
  error?: string;
}

/** Whether the server's answer says the write made a new revision. */
export function claimsRevision(w: WriteRecord): boolean {
  return (
    w.outcome === 'acked' && (w.muts.some((m) => m.kind === 'put') || (w.deleted ?? []).some((d) => d > 0))
  );
}

export interface CompactionRecord {
  revision: number;
  sentAt: number;
  doneAt: number;
  /** 'unknown': failed (e.g. in flight at a kill); 'applied'/'not-applied' once learned after a restart. */
  outcome: 'acked' | 'unknown' | 'applied' | 'not-applied';
  /** When the compaction was known to be in effect (ack, or the restart that revealed it). */
  knownAt?: number;
}

export interface Problem {
  kind: string;
  detail: string;
}

/** Reads the whole workload key space at a revision. */
export type ReadState = (revision: number) => Promise<Store>;

export class History {
  readonly writes: WriteRecord[] = [];
  readonly compactions: CompactionRecord[] = [];
  readonly problems: Problem[] = [];
  /** events[r]: the reference events of revision r (resolved revisions only). */
  readonly events: RefEvent[][] = [];
  /** owner[r]: the write that made revision r. */
  readonly owner: WriteRecord[] = [];
  /** Revisions whose owner was a failed write (in flight at a kill, or timed out). */
  readonly recovered: number[] = [];
  /** State of the key space at `resolved`. */
  private store: Store = new Map();
  private resolvedRev = 1;
  private readonly claims = new Map<number, WriteRecord[]>();
  private readonly used = new Set<number>();
  private noOps: WriteRecord[] = [];
  private claimedContiguous = 1;

  get resolved(): number {
    return this.resolvedRev;
  }

  record(w: WriteRecord): void {
    this.writes.push(w);
    if (w.outcome !== 'acked') return;
    const rev = w.revision ?? -1;
    if (claimsRevision(w)) {
      const list = this.claims.get(rev);
      if (list === undefined) this.claims.set(rev, [w]);
      else list.push(w);
      this.contiguous();
    } else {
      this.noOps.push(w);
    }
  }

  /** Every revision up to this one was made by an acknowledged write (or was resolved). */
  contiguous(): number {
    this.claimedContiguous = Math.max(this.claimedContiguous, this.resolvedRev);
    while (this.claims.has(this.claimedContiguous + 1)) this.claimedContiguous++;
    return this.claimedContiguous;
  }

  /** Highest compaction acknowledged or known applied by now. */
  compactedAtLeast(): number {
    let c = 0;
    for (const x of this.compactions)
      if (x.outcome === 'acked' || x.outcome === 'applied') c = Math.max(c, x.revision);
    return c;
  }

  /** Highest compaction that may be in effect by now. */
  compactedAtMost(): number {
    let c = 0;
    for (const x of this.compactions) if (x.outcome !== 'not-applied') c = Math.max(c, x.revision);
    return c;
  }

  private problem(kind: string, detail: string): void {
    this.problems.push({ kind, detail });
  }

  private checkNoOps(upTo: number): void {
    const keep: WriteRecord[] = [];
    for (const w of this.noOps) {
      const rev = w.revision ?? -1;
      if (rev > upTo) {
        keep.push(w);
        continue;
      }
      if (rev < upTo) {
        this.problem('kv', `write #${w.id} deleted nothing at revision ${rev}, below the resolved ${upTo}`);
        continue;
      }
      // It deleted nothing, answering at revision `rev`: its ranges were empty there.
      const r = applyMutations(this.store, w.muts, rev + 1, false);
      if (r.events.length > 0) {
        this.problem(
          'kv',
          `write #${w.id} (${w.kind}) reported deleting nothing at revision ${rev}, but the store had ${r.events
            .map((e) => e.kv.key)
            .join(', ')} in its range`,
        );
      }
    }
    this.noOps = keep;
  }

  /**
   * Accounts for every revision up to `target` (which must be the server's
   * current revision, with no write in flight). Holes are filled by failed
   * writes whose effect matches the store read at that revision.
   */
  async resolve(target: number, read: ReadState): Promise<void> {
    this.checkNoOps(this.resolvedRev);
    for (let r = this.resolvedRev + 1; r <= target; r++) {
      const claims = this.claims.get(r) ?? [];
      this.claims.delete(r);
      if (claims.length > 1) {
        this.problem(
          'kv',
          `revision ${r} acknowledged to ${claims.length} writes: #${claims.map((w) => w.id).join(', #')}`,
        );
      }
      const w = claims[0];
      if (w !== undefined) {
        const res = applyMutations(this.store, w.muts, r, true);
        if (res.events.length === 0)
          this.problem('kv', `write #${w.id} acknowledged at ${r} changed nothing`);
        const reported = w.deleted ?? [];
        if (res.deleted.join(',') !== reported.join(',')) {
          this.problem(
            'kv',
            `write #${w.id} at ${r} reported deleting [${reported.join(',')}] keys, the model deletes [${res.deleted.join(',')}]`,
          );
        }
        this.events[r] = res.events;
        this.owner[r] = w;
      } else {
        const actual = await read(r);
        const match = this.writes.find(
          (c) =>
            c.outcome === 'failed' &&
            !this.used.has(c.id) &&
            storeDiff(applyMutations(this.store, c.muts, r, false).after, actual) === undefined,
        );
        if (match !== undefined) {
          this.used.add(match.id);
          this.events[r] = applyMutations(this.store, match.muts, r, true).events;
          this.owner[r] = match;
          this.recovered.push(r);
        } else {
          this.problem(
            'history',
            `revision ${r}: no acknowledged write has it and no failed write reproduces the store there (${storeDiff(this.store, actual) ?? 'no change'})`,
          );
          // Carry on from what the server says, so the watcher checks still run.
          const events: RefEvent[] = [];
          for (const kv of [...actual.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) {
            if (kv.modRevision === r) events.push({ type: 'PUT', kv, prev: this.store.get(kv.key) });
          }
          for (const [k, prev] of this.store) {
            if (!actual.has(k))
              events.push({
                type: 'DELETE',
                kv: { key: k, value: '', createRevision: 0, modRevision: r, version: 0 },
                prev,
              });
          }
          this.store = new Map(actual);
          this.events[r] = events;
        }
      }
      this.resolvedRev = r;
      this.checkNoOps(r);
    }
    for (const rev of this.claims.keys()) {
      if (rev <= target)
        this.problem('kv', `revision ${rev} acknowledged below the resolved revision ${target}`);
    }
  }

  /** The model's key space at the resolved revision. */
  state(): Store {
    return new Map(this.store);
  }

  /** Writes acknowledged at revisions the store never reached. */
  leftovers(final: number): WriteRecord[] {
    return [...this.claims.entries()].filter(([r]) => r > final).flatMap(([, ws]) => ws);
  }

  /**
   * Real-time order of the KV writes (linearizability of revisions): a write
   * sent after another was acknowledged has a higher revision, and a no-op
   * delete answers at a revision no lower than any acknowledged before it was
   * sent and no higher than any write sent before its answer.
   */
  checkRealTime(): void {
    const owners = this.owner.map((w, r) => ({ w, r })).filter((x) => x.w !== undefined);
    const acked = owners.filter((x) => x.w.outcome === 'acked').sort((a, b) => a.w.doneAt - b.w.doneAt);
    const prefixMax: number[] = [];
    for (const x of acked) prefixMax.push(Math.max(prefixMax.at(-1) ?? 1, x.r));
    const ackedBefore = (t: number): number => {
      let lo = 0;
      let hi = acked.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (acked[mid]!.w.doneAt < t) lo = mid + 1;
        else hi = mid;
      }
      return lo === 0 ? 1 : prefixMax[lo - 1]!;
    };
    for (const { w, r } of owners) {
      const floor = ackedBefore(w.sentAt);
      if (r <= floor) {
        this.problem(
          'kv',
          `write #${w.id} got revision ${r}, not above ${floor} acknowledged before it was sent`,
        );
      }
    }
    for (const w of this.writes) {
      if (w.outcome !== 'acked' || claimsRevision(w)) continue;
      const floor = ackedBefore(w.sentAt);
      if ((w.revision ?? -1) < floor) {
        this.problem(
          'kv',
          `no-op write #${w.id} answered at revision ${w.revision}, below ${floor} acknowledged before it was sent`,
        );
      }
    }
  }

  /** The highest revision made by a write sent before `t` (the store cannot have been further). */
  revisionBound(): (t: number) => number {
    const owners = this.owner
      .map((w, r) => ({ t: w.sentAt, r }))
      .filter((x) => x.t !== undefined)
      .sort((a, b) => a.t - b.t);
    const prefixMax: number[] = [];
    for (const x of owners) prefixMax.push(Math.max(prefixMax.at(-1) ?? 1, x.r));
    return (t: number): number => {
      let lo = 0;
      let hi = owners.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (owners[mid]!.t < t) lo = mid + 1;
        else hi = mid;
      }
      return lo === 0 ? 1 : prefixMax[lo - 1]!;
    };
  }
}
