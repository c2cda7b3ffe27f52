// What the simulated clients did and saw, and the checks over it:
//  - no acknowledged write is lost (after healing, the store history holds it);
//  - per key, successful writes form a compare-and-swap chain on mod_revision
//    (each write names the mod_revision it replaced, in its value): a write
//    that succeeded against a stale view breaks the chain — linearizability
//    of the register per key;
//  - a linearizable read returns a version that exists, and never one older
//    than a write acknowledged before the read started;
//  - the revisions a client sees never go back.

export interface WriteOp {
  kind: 'write';
  client: number;
  key: string;
  value: string;
  /** The mod_revision the write's compare required (0: the key must not exist). */
  expectModRev: number;
  start: number;
  end: number;
  /** 'ok' acknowledged, 'failed' refused (compare false), 'unknown' timed out or the member died. */
  outcome: 'ok' | 'failed' | 'unknown';
  /** Revision of an acknowledged write. */
  revision: number;
}

export interface ReadOp {
  kind: 'read';
  client: number;
  key: string;
  start: number;
  end: number;
  ok: boolean;
  /** mod_revision seen (0: absent) and value. */
  modRev: number;
  value: string | undefined;
  revision: number;
}

export type Op = WriteOp | ReadOp;

/** One stored version of a key, from the store's history. */
export interface Version {
  modRev: number;
  value: string | undefined;
}

/** The value a write puts: who, which, and the mod_revision it replaces. */
export function encodeValue(client: number, seq: number, expectModRev: number): string {
  return `${client}:${seq}:${expectModRev}`;
}

function replacedModRev(value: string): number {
  const parts = value.split(':');
  return Number(parts[2]);
}

export function checkHistory(ops: readonly Op[], history: ReadonlyMap<string, Version[]>): string[] {
  const problems: string[] = [];
  const writes = ops.filter((o): o is WriteOp => o.kind === 'write');
  const reads = ops.filter((o): o is ReadOp => o.kind === 'read');

  // Durability: every acknowledged write is in the history at its revision.
  for (const w of writes) {
    if (w.outcome !== 'ok') continue;
    const v = history.get(w.key)?.find((x) => x.modRev === w.revision);
    if (v === undefined || v.value !== w.value) {
      problems.push(`acknowledged write lost: ${w.key}=${w.value} at revision ${w.revision}`);
    }
  }

  // CAS chain per key (deletions never happen in this workload).
  for (const [key, versions] of history) {
    let prev = 0;
    for (const v of versions) {
      if (v.value === undefined) continue;
      const expected = replacedModRev(v.value);
      if (expected !== prev) {
        problems.push(
          `${key}: version at ${v.modRev} replaced ${expected}, but the version before it is ${prev}`,
        );
      }
      prev = v.modRev;
    }
  }

  // Reads: existing versions only, never older than a write acknowledged before the read began.
  for (const r of reads) {
    if (!r.ok) continue;
    const versions = history.get(r.key) ?? [];
    if (r.modRev !== 0) {
      const v = versions.find((x) => x.modRev === r.modRev);
      if (v === undefined || v.value !== r.value) {
        problems.push(`read of ${r.key} saw a version that never existed: mod ${r.modRev} ${r.value}`);
      }
    }
    for (const w of writes) {
      if (w.outcome === 'ok' && w.key === r.key && w.end < r.start && w.revision > r.modRev) {
        problems.push(
          `stale read of ${r.key}: saw mod ${r.modRev} at t=${r.start}, but ${w.revision} was acknowledged at t=${w.end}`,
        );
        break;
      }
    }
  }

  // Per client, revisions never go back.
  const last = new Map<number, number>();
  for (const o of [...ops].sort((a, b) => a.end - b.end)) {
    const ok = o.kind === 'write' ? o.outcome === 'ok' : o.ok;
    if (!ok) continue;
    const rev = o.revision;
    const before = last.get(o.client) ?? 0;
    if (rev < before) problems.push(`client ${o.client} saw revision ${rev} after ${before}`);
    last.set(o.client, Math.max(before, rev));
  }
  return problems;
}
