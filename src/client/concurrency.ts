import {
  Compare_CompareResult,
  Compare_CompareTarget,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  type RangeResponse,
  type ResponseHeader,
  type WatchResponse,
} from '../pb/etcdserverpb/rpc.js';
import { Event_EventType, type KeyValue } from '../pb/mvccpb/kv.js';
import type { EtcdClient } from './etcd-client.js';

/**
 * Client-side coordination recipes built on leases, transactions and
 * watches, compatible with etcd's Go `concurrency` package (same key
 * layout: `<prefix>/<lease id in hex>`), so Go and TypeScript holders of
 * the same lock or election see each other.
 */

const KEEPALIVE_RETRY_MS = 500;

function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** A lease kept alive in the background; `done` settles when it is lost. */
export class Session {
  readonly done: Promise<void>;
  private stopped = false;
  private wake: (() => void) | undefined;

  private constructor(
    readonly client: EtcdClient,
    readonly lease: bigint,
    readonly ttl: number,
  ) {
    this.done = this.keepAlive();
  }

  static async create(client: EtcdClient, ttlSeconds = 60): Promise<Session> {
    if (ttlSeconds <= 0) throw new Error('session TTL must be positive');
    const grant = await client.lease.leaseGrant({ TTL: ttlSeconds, ID: 0n });
    if (grant.error !== '') throw new Error(grant.error);
    return new Session(client, grant.ID, grant.TTL);
  }

  /** Stops renewing and revokes the lease (deleting every key attached to it). */
  async close(deadline?: number): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.client.lease.leaseRevoke({ ID: this.lease }, { deadline });
  }

  private async keepAlive(): Promise<void> {
    let expires = Date.now() + this.ttl * 1000;
    while (!this.stopped && Date.now() < expires) {
      try {
        const stream = await this.client.lease.leaseKeepAlive({});
        try {
          while (!this.stopped) {
            stream.send({ ID: this.lease });
            const next = await stream.next();
            if (next.done === true) break;
            if (next.value.TTL <= 0) return;
            expires = Date.now() + next.value.TTL * 1000;
            await this.pause(Math.max(500, (next.value.TTL * 1000) / 3));
          }
        } finally {
          stream.cancel();
        }
      } catch {
        await this.pause(KEEPALIVE_RETRY_MS);
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** Waits until every key under `prefix` created at or before `maxCreateRevision` is deleted. */
async function waitDeletes(
  client: EtcdClient,
  prefix: Buffer,
  maxCreateRevision: number,
): Promise<ResponseHeader | undefined> {
  for (;;) {
    const resp = await client.range({
      key: prefix,
      rangeEnd: prefixEnd(prefix),
      sortTarget: RangeRequest_SortTarget.CREATE,
      sortOrder: RangeRequest_SortOrder.DESCEND,
      limit: 1,
      maxCreateRevision,
    });
    const last = resp.kvs[0];
    if (last === undefined) return resp.header;
    await waitForDelete(client, last.key, resp.header?.revision ?? 0);
  }
}

async function waitForDelete(client: EtcdClient, key: Buffer, revision: number): Promise<void> {
  const events = watchEvents(client, key, undefined, revision);
  try {
    for await (const resp of events.responses) {
      if (resp.events.some((e) => e.type === Event_EventType.DELETE)) return;
    }
  } finally {
    events.stop();
  }
}

/** A watch on one key or range as a stream of responses (created/empty ones skipped). */
export function watchEvents(
  client: EtcdClient,
  key: Buffer,
  rangeEnd: Buffer | undefined,
  startRevision: number,
): { responses: AsyncIterable<WatchResponse>; stop: () => void } {
  let cancel: (() => void) | undefined;
  let stopped = false;
  async function* responses(): AsyncGenerator<WatchResponse> {
    const stream = await client.watch.watch();
    cancel = () => stream.cancel();
    if (stopped) return;
    stream.send({
      requestUnion: { $case: 'createRequest', createRequest: { key, rangeEnd, startRevision } },
    });
    for await (const resp of stream) {
      if (resp.canceled) throw new Error(resp.cancelReason || 'watch canceled');
      if (resp.events.length > 0) yield resp;
    }
  }
  return {
    responses: responses(),
    stop: () => {
      stopped = true;
      cancel?.();
    },
  };
}

/** A distributed mutex: `<name>/<lease>` keys, the oldest holds the lock. */
export class Mutex {
  private readonly prefix: Buffer;
  private myKey: Buffer = Buffer.alloc(0);
  private myRev = -1;
  /** Header of the response that granted the lock. */
  header: ResponseHeader | undefined;

  constructor(
    private readonly session: Session,
    name: string,
  ) {
    this.prefix = Buffer.from(`${name}/`);
  }

  key(): string {
    return this.myKey.toString();
  }

  async lock(): Promise<void> {
    const client = this.session.client;
    this.myKey = Buffer.concat([this.prefix, Buffer.from(this.session.lease.toString(16))]);
    const owner = {
      key: this.prefix,
      rangeEnd: prefixEnd(this.prefix),
      sortTarget: RangeRequest_SortTarget.CREATE,
      sortOrder: RangeRequest_SortOrder.ASCEND,
      limit: 1,
    };
    const resp = await client.txn({
      compare: [createRevisionIs(this.myKey, 0n)],
      success: [
        {
          request: {
            $case: 'requestPut',
            requestPut: { key: this.myKey, value: Buffer.alloc(0), lease: this.session.lease },
          },
        },
        { request: { $case: 'requestRange', requestRange: owner } },
      ],
      failure: [
        { request: { $case: 'requestRange', requestRange: { key: this.myKey } } },
        { request: { $case: 'requestRange', requestRange: owner } },
      ],
    });
    this.myRev = resp.header?.revision ?? 0;
    if (!resp.succeeded) this.myRev = rangeOf(resp.responses[0])?.kvs[0]?.createRevision ?? this.myRev;
    const first = rangeOf(resp.responses[1])?.kvs[0];
    if (first === undefined || first.createRevision === this.myRev) {
      this.header = resp.header;
      return;
    }
    try {
      this.header = await waitDeletes(client, this.prefix, this.myRev - 1);
    } catch (e) {
      await this.unlock().catch(() => undefined);
      throw e;
    }
  }

  async unlock(): Promise<void> {
    await this.session.client.deleteRange({ key: this.myKey });
    this.myKey = Buffer.alloc(0);
    this.myRev = -1;
  }
}

/** Leader election: the oldest `<name>/<lease>` key is the leader; its value is the proposal. */
export class Election {
  private readonly prefix: Buffer;
  private leaderKey: Buffer = Buffer.alloc(0);
  private leaderRev = -1;

  constructor(
    private readonly session: Session,
    name: string,
  ) {
    this.prefix = Buffer.from(`${name}/`);
  }

  key(): string {
    return this.leaderKey.toString();
  }

  /** Puts our proposal and waits until every older candidate is gone. */
  async campaign(value: string): Promise<void> {
    const client = this.session.client;
    const k = Buffer.concat([this.prefix, Buffer.from(this.session.lease.toString(16))]);
    const val = Buffer.from(value);
    const resp = await client.txn({
      compare: [createRevisionIs(k, 0n)],
      success: [
        { request: { $case: 'requestPut', requestPut: { key: k, value: val, lease: this.session.lease } } },
      ],
      failure: [{ request: { $case: 'requestRange', requestRange: { key: k } } }],
    });
    this.leaderKey = k;
    this.leaderRev = resp.header?.revision ?? 0;
    if (!resp.succeeded) {
      const kv = rangeOf(resp.responses[0])?.kvs[0];
      if (kv !== undefined) {
        this.leaderRev = kv.createRevision;
        if (!kv.value.equals(val)) await this.proclaim(value);
      }
    }
    try {
      await waitDeletes(client, this.prefix, this.leaderRev - 1);
    } catch (e) {
      await this.resign().catch(() => undefined);
      throw e;
    }
  }

  async proclaim(value: string): Promise<void> {
    const resp = await this.session.client.txn({
      compare: [createRevisionIs(this.leaderKey, BigInt(this.leaderRev))],
      success: [
        {
          request: {
            $case: 'requestPut',
            requestPut: { key: this.leaderKey, value: Buffer.from(value), lease: this.session.lease },
          },
        },
      ],
    });
    if (!resp.succeeded) throw new Error('election: not leader');
  }

  async resign(): Promise<void> {
    if (this.leaderKey.length === 0) return;
    await this.session.client.txn({
      compare: [createRevisionIs(this.leaderKey, BigInt(this.leaderRev))],
      success: [{ request: { $case: 'requestDeleteRange', requestDeleteRange: { key: this.leaderKey } } }],
    });
    this.leaderKey = Buffer.alloc(0);
    this.leaderRev = -1;
  }

  /** Yields the current leader's key-value each time leadership or the proclaimed value changes. */
  async *observe(): AsyncGenerator<{ header: ResponseHeader | undefined; kv: KeyValue }> {
    const client = this.session.client;
    for (;;) {
      const resp = await client.range({
        key: this.prefix,
        rangeEnd: prefixEnd(this.prefix),
        sortTarget: RangeRequest_SortTarget.CREATE,
        sortOrder: RangeRequest_SortOrder.ASCEND,
        limit: 1,
      });
      let header = resp.header;
      let kv = resp.kvs[0];
      if (kv === undefined) {
        const w = watchEvents(client, this.prefix, prefixEnd(this.prefix), resp.header?.revision ?? 0);
        try {
          for await (const wr of w.responses) {
            const put = wr.events.find((e) => e.type === Event_EventType.PUT);
            if (put?.kv !== undefined) {
              kv = put.kv;
              header = { ...(wr.header as ResponseHeader), revision: put.kv.modRevision };
              break;
            }
          }
        } finally {
          w.stop();
        }
        if (kv === undefined) return;
      }
      yield { header, kv };
      const w = watchEvents(client, kv.key, undefined, (header?.revision ?? 0) + 1);
      try {
        let deleted = false;
        for await (const wr of w.responses) {
          for (const ev of wr.events) {
            if (ev.type === Event_EventType.DELETE) {
              deleted = true;
              break;
            }
            if (ev.kv !== undefined) yield { header: wr.header, kv: ev.kv };
          }
          if (deleted) break;
        }
      } finally {
        w.stop();
      }
    }
  }
}

function createRevisionIs(key: Buffer, rev: bigint) {
  return {
    result: Compare_CompareResult.EQUAL,
    target: Compare_CompareTarget.CREATE,
    key,
    targetUnion: { $case: 'createRevision' as const, createRevision: rev },
    rangeEnd: Buffer.alloc(0),
  };
}

function rangeOf(op: { response?: { $case: string } | undefined } | undefined): RangeResponse | undefined {
  const r = op?.response as { $case: string; responseRange?: RangeResponse } | undefined;
  return r?.$case === 'responseRange' ? r.responseRange : undefined;
}
