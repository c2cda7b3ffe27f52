// The writes of one applied request (a put, a delete-range, or every write of a txn): they share
// main revision beginRev + 1 and are told apart by sub revision. A WriteTxn writes records to the
// backend and the key index as it goes and collects the events; the store moves its revision
// once the request is done (MvccStore.finishWrite).

import { assertInvariant, MvccError } from './errors.js';
import { encodeKeyValue } from './kv-codec.js';
import { getKey, readRecord } from './records.js';
import { toLease, toRangeEnd } from './request-fields.js';
import type { Revision } from './revision.js';
import type { StoreBackend } from './store-backend.js';
import { bytesToKey, type TreeIndex } from './tree-index.js';
import {
  asBuffer,
  type DeleteRangeRequest,
  EMPTY_KV,
  type Event,
  EventType,
  type KeyValue,
  type PutRequest,
} from './types.js';

/** The writes of one applied request: they all get main revision beginRev + 1. */
export class WriteTxn {
  readonly events: Event[] = [];

  /**
   * `backend` must be the store's current one: a WriteTxn lives for one request only.
   * `putEventsPrevKv`: whether a put event over an existing key carries that key's previous
   * KeyValue. Only a watcher asking for prev_kv needs it, and reading it back costs a backend
   * read per overwrite; delete events always carry it (the delete reads it anyway).
   */
  constructor(
    readonly beginRev: number,
    private readonly index: TreeIndex,
    private readonly backend: StoreBackend,
    private readonly putEventsPrevKv: boolean,
  ) {}

  /** The revision a read inside this txn sees: its own earlier writes included. */
  readRev(): number {
    return this.events.length > 0 ? this.beginRev + 1 : this.beginRev;
  }

  nextRevision(): Revision {
    return { main: this.beginRev + 1, sub: this.events.length };
  }

  /** One put; checks ignore_value/ignore_lease before writing. Returns the previous kv. */
  put(req: PutRequest): KeyValue | undefined {
    const needsPrev = req.ignoreValue || req.ignoreLease || req.prevKv;
    const prev = needsPrev ? getKey(this.index, this.backend, req.key, this.readRev()) : undefined;
    if ((req.ignoreValue || req.ignoreLease) && prev === undefined) throw new MvccError('key-not-found');
    const value = req.ignoreValue ? prev!.value : (req.value ?? new Uint8Array(0));
    const lease = req.ignoreLease ? prev!.lease : toLease(req.lease);
    this.writePut(req.key, value, lease);
    return req.prevKv ? prev : undefined;
  }

  /** Tombstones every live key in the request's range. */
  deleteRange(req: DeleteRangeRequest): { deleted: number; prevKvs: KeyValue[] } {
    const readRev = this.readRev();
    const targets = this.index.range(bytesToKey(req.key), toRangeEnd(req.rangeEnd), readRev);
    const prevKvs: KeyValue[] = [];
    for (const t of targets) {
      const prevKv = readRecord(this.backend, t.rev);
      if (req.prevKv) prevKvs.push(prevKv);
      const rev = this.nextRevision();
      // etcd's tombstone record holds only the key; the event adds the revision.
      this.backend.putRecord(rev, true, encodeKeyValue({ ...EMPTY_KV, key: prevKv.key }));
      assertInvariant(this.index.tombstone(t.key, rev), 'tombstone on a key that is not live');
      this.events.push({
        type: EventType.DELETE,
        kv: { ...EMPTY_KV, key: prevKv.key, modRevision: rev.main },
        prevKv,
      });
    }
    return { deleted: targets.length, prevKvs };
  }

  private writePut(key: Uint8Array, value: Uint8Array, lease: bigint): void {
    const rev = this.nextRevision();
    const keyStr = bytesToKey(key);
    const before = this.index.get(keyStr, rev.main);
    const prevKv =
      before === undefined || !this.putEventsPrevKv ? undefined : readRecord(this.backend, before.modified);
    const kv: KeyValue = {
      key: asBuffer(key),
      value: asBuffer(value),
      createRevision: before === undefined ? rev.main : before.created.main,
      modRevision: rev.main,
      version: (before?.version ?? 0) + 1,
      lease,
    };
    this.backend.putRecord(rev, false, encodeKeyValue(kv));
    this.index.put(keyStr, rev);
    this.events.push(prevKv ? { type: EventType.PUT, kv, prevKv } : { type: EventType.PUT, kv });
  }
}
