// Test support (not a test file): an in-memory CoordinationKv with just enough
// of etcd's semantics for the recipes — revisions, create/mod revisions,
// single-key compares, prefix ranges sorted by create revision with limit and
// max-create-revision, lease checks on the chosen txn branch, lease
// revocation, and watches that replay history. Every request is recorded so
// tests can check the exact shapes sent.
import { MvccError } from '../../mvcc/errors.js';
import { type Event, EventType, type KeyValue } from '../../mvcc/types.js';
import type {
  DeleteRangeResponse as DeleteOutcome,
  ResponseHeader as Header,
  RangeResponse as RangeOutcome,
  TxnResponse as TxnOutcome,
} from '../../pb/etcdserverpb/rpc.js';
import {
  type Compare,
  Compare_CompareResult,
  Compare_CompareTarget,
  type DeleteRangeRequest,
  type RangeRequest,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  type ResponseOp,
  type TxnRequest,
} from '../../pb/etcdserverpb/rpc.js';
import type { CoordinationKv, WatchBatch } from './types.js';

export type RecordedRequest =
  | { kind: 'txn'; req: TxnRequest }
  | { kind: 'range'; req: RangeRequest }
  | { kind: 'deleteRange'; req: DeleteRangeRequest }
  | { kind: 'watch'; key: Uint8Array; rangeEnd: Uint8Array; fromRevision: number }
  | { kind: 'grantLease'; ttl: number };

interface Watcher {
  key: string;
  /** '' = only `key`. */
  end: string;
  push(batch: WatchBatch): void;
  stop(err: unknown): void;
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

function inRange(k: string, key: string, end: string): boolean {
  if (end === '') return k === key;
  // "\0" as range end means every key >= key.
  return k >= key && (end === '\0' || k < end);
}

function headerOf(revision: number): Header {
  return { clusterId: 0x1000n, memberId: 0x2000n, revision, raftTerm: 7 };
}

export class FakeKv implements CoordinationKv {
  revision = 1;
  readonly requests: RecordedRequest[] = [];
  private readonly live = new Map<string, KeyValue>();
  private readonly history: { rev: number; events: Event[] }[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly leases = new Set<bigint>();
  private nextLease = 0x694d77a0b1c2n;
  private compactedRevision = 0;

  header(revision = this.revision): Header {
    return headerOf(revision);
  }

  // ------------------------------------------------------------ test controls

  addLease(id: bigint): bigint {
    this.leases.add(id);
    return id;
  }

  /** Revokes a lease: its keys go in one revision, as etcd's lessor does. */
  revokeLease(id: bigint): void {
    this.leases.delete(id);
    const doomed = [...this.live.values()].filter((kv) => kv.lease === id).map((kv) => latin1(kv.key));
    if (doomed.length === 0) return;
    const rev = this.revision + 1;
    this.commit(
      rev,
      doomed.map((k) => this.deleteKey(k, rev)),
    );
  }

  /** Plain put (as another client's Put would be). */
  put(key: string, value = '', lease = 0n): KeyValue {
    const rev = this.revision + 1;
    const ev = this.putKey(key, bytes(value), lease, rev);
    this.commit(rev, [ev]);
    return ev.kv;
  }

  get(key: string): KeyValue | undefined {
    return this.live.get(key);
  }

  keys(prefix = ''): string[] {
    return [...this.live.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  /** Forgets history up to `rev`: watches from there on fail as compacted. */
  compact(rev: number): void {
    this.compactedRevision = rev;
  }

  /** Makes every open watch fail with `err` (or end quietly with undefined). */
  stopWatches(err?: unknown): void {
    for (const w of [...this.watchers]) w.stop(err);
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  // ----------------------------------------------------------- CoordinationKv

  async grantLease(ttlSeconds: number): Promise<bigint> {
    this.requests.push({ kind: 'grantLease', ttl: ttlSeconds });
    const id = this.nextLease;
    this.nextLease += 0x11n;
    this.leases.add(id);
    return id;
  }

  async range(req: RangeRequest): Promise<RangeOutcome> {
    this.requests.push({ kind: 'range', req });
    return { header: this.header(), ...this.read(req) };
  }

  async deleteRange(req: DeleteRangeRequest): Promise<DeleteOutcome> {
    this.requests.push({ kind: 'deleteRange', req });
    const rev = this.revision + 1;
    const events = this.matching(req.key, req.rangeEnd).map((kv) => this.deleteKey(latin1(kv.key), rev));
    this.commit(rev, events);
    return { header: this.header(), deleted: events.length, prevKvs: [] };
  }

  async txn(req: TxnRequest): Promise<TxnOutcome> {
    this.requests.push({ kind: 'txn', req });
    const succeeded = req.compare.every((c) => this.holds(c));
    const ops = (succeeded ? req.success : req.failure).map((op) => {
      const r = op.request;
      if (r === undefined || r.$case === 'requestTxn') throw new Error('fake kv: unsupported txn op');
      return r;
    });
    // Like etcd's applier: leases of the chosen puts are checked before anything is written.
    for (const r of ops) {
      if (r.$case !== 'requestPut') continue;
      const lease = r.requestPut.lease;
      if (lease !== 0n && !this.leases.has(lease)) throw new MvccError('lease-not-found');
    }
    const rev = this.revision + 1;
    const events: Event[] = [];
    const results: (() => ResponseOp)[] = [];
    for (const r of ops) {
      if (r.$case === 'requestRange') {
        const read = this.read(r.requestRange);
        results.push(() => ({
          response: { $case: 'responseRange', responseRange: { header: this.header(), ...read } },
        }));
      } else if (r.$case === 'requestPut') {
        const p = r.requestPut;
        events.push(this.putKey(latin1(p.key), p.value, p.lease, rev));
        results.push(() => ({ response: { $case: 'responsePut', responsePut: { header: this.header() } } }));
      } else {
        const d = r.requestDeleteRange;
        const gone = this.matching(d.key, d.rangeEnd).map((kv) => this.deleteKey(latin1(kv.key), rev));
        events.push(...gone);
        results.push(() => ({
          response: {
            $case: 'responseDeleteRange',
            responseDeleteRange: { header: this.header(), deleted: gone.length, prevKvs: [] },
          },
        }));
      }
    }
    this.commit(rev, events);
    // Nested headers carry the txn's final revision, known only now.
    return { header: this.header(), succeeded, responses: results.map((make) => make()) };
  }

  watch(
    key: Uint8Array,
    rangeEnd: Uint8Array,
    fromRevision: number,
    signal: AbortSignal,
  ): AsyncIterable<WatchBatch> {
    this.requests.push({ kind: 'watch', key, rangeEnd, fromRevision });
    return this.watchIterator(latin1(key), latin1(rangeEnd), fromRevision, signal);
  }

  // ---------------------------------------------------------------- internals

  private async *watchIterator(
    key: string,
    end: string,
    fromRevision: number,
    signal: AbortSignal,
  ): AsyncGenerator<WatchBatch> {
    if (fromRevision <= this.compactedRevision) throw new MvccError('compacted');
    const queue: WatchBatch[] = [];
    let stopped: { err: unknown } | undefined;
    let wake: (() => void) | undefined;
    const pick = (events: Event[]): Event[] => events.filter((ev) => inRange(latin1(ev.kv.key), key, end));
    for (const h of this.history) {
      if (h.rev < fromRevision) continue;
      const events = pick(h.events);
      if (events.length > 0) queue.push({ header: this.header(), events });
    }
    const watcher: Watcher = {
      key,
      end,
      push: (batch) => {
        const events = pick(batch.events);
        if (events.length === 0) return;
        queue.push({ header: batch.header, events });
        wake?.();
      },
      stop: (err) => {
        stopped = { err };
        wake?.();
      },
    };
    this.watchers.add(watcher);
    const onAbort = (): void => wake?.();
    signal.addEventListener('abort', onAbort);
    try {
      for (;;) {
        if (signal.aborted) throw signal.reason;
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (stopped !== undefined) {
          if (stopped.err !== undefined) throw stopped.err;
          return;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      this.watchers.delete(watcher);
      signal.removeEventListener('abort', onAbort);
    }
  }

  private holds(c: Compare): boolean {
    if (c.rangeEnd.length !== 0) throw new Error('fake kv: range compares are not supported');
    const kv = this.live.get(latin1(c.key));
    const u = c.targetUnion;
    let have: number;
    let want: number;
    switch (c.target) {
      case Compare_CompareTarget.CREATE:
        have = kv?.createRevision ?? 0;
        want = Number(u?.$case === 'createRevision' ? u.createRevision : 0n);
        break;
      case Compare_CompareTarget.MOD:
        have = kv?.modRevision ?? 0;
        want = Number(u?.$case === 'modRevision' ? u.modRevision : 0n);
        break;
      case Compare_CompareTarget.VERSION:
        have = kv?.version ?? 0;
        want = Number(u?.$case === 'version' ? u.version : 0n);
        break;
      default:
        throw new Error('fake kv: only create/mod/version compares are supported');
    }
    switch (c.result) {
      case Compare_CompareResult.EQUAL:
        return have === want;
      case Compare_CompareResult.NOT_EQUAL:
        return have !== want;
      case Compare_CompareResult.GREATER:
        return have > want;
      default:
        return have < want;
    }
  }

  private matching(key: Uint8Array, rangeEnd: Uint8Array): KeyValue[] {
    const k = latin1(key);
    const end = latin1(rangeEnd);
    return [...this.live.entries()]
      .filter(([name]) => inRange(name, k, end))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, kv]) => kv);
  }

  private read(req: RangeRequest): { kvs: KeyValue[]; more: boolean; count: number } {
    if (req.revision !== 0) throw new Error('fake kv: ranges at a revision are not supported');
    const all = this.matching(req.key, req.rangeEnd);
    const maxCreate = req.maxCreateRevision;
    let kvs = all.filter((kv) => maxCreate === 0 || kv.createRevision <= maxCreate);
    const order = req.sortOrder;
    if (order !== RangeRequest_SortOrder.NONE) {
      if (req.sortTarget !== RangeRequest_SortTarget.CREATE)
        throw new Error('fake kv: only create-revision sorting');
      const sign = order === RangeRequest_SortOrder.ASCEND ? 1 : -1;
      kvs.sort((a, b) => sign * (a.createRevision - b.createRevision));
    }
    const limit = req.limit;
    const more = limit > 0 && kvs.length > limit;
    if (more) kvs = kvs.slice(0, limit);
    return { kvs: kvs.map((kv) => ({ ...kv })), more, count: all.length };
  }

  private putKey(key: string, value: Uint8Array, lease: bigint, rev: number): Event {
    const prev = this.live.get(key);
    const kv: KeyValue = {
      key: bytes(key),
      createRevision: prev?.createRevision ?? rev,
      modRevision: rev,
      version: (prev?.version ?? 0) + 1,
      value: Buffer.from(value),
      lease,
    };
    this.live.set(key, kv);
    return { type: EventType.PUT, kv: { ...kv }, ...(prev ? { prevKv: prev } : {}) };
  }

  private deleteKey(key: string, rev: number): Event {
    const prev = this.live.get(key);
    this.live.delete(key);
    const kv: KeyValue = {
      key: bytes(key),
      createRevision: 0,
      modRevision: rev,
      version: 0,
      value: Buffer.alloc(0),
      lease: 0n,
    };
    return { type: EventType.DELETE, kv, ...(prev ? { prevKv: prev } : {}) };
  }

  /** Ends a write: bumps the revision if anything changed and tells the watchers. */
  private commit(rev: number, events: Event[]): void {
    if (events.length === 0) return;
    this.revision = rev;
    this.history.push({ rev, events });
    const batch = { header: this.header(rev), events };
    for (const w of [...this.watchers]) w.push(batch);
  }
}
