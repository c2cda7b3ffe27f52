// gRPC access to the member under test: unary KV calls and Watch streams over
// @grpc/grpc-js with the generated codecs. Channels reconnect quickly after a
// restart (grpc-js backs off up to 2 minutes by default) and each Connection
// has its own subchannel pool, so several Connections are several TCP
// connections as with several clientv3 clients.
import * as grpc from '@grpc/grpc-js';
import {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  type RequestOp,
  TxnRequest,
  TxnResponse,
  WatchRequest,
  WatchResponse,
} from '../../src/pb/etcdserverpb/rpc.js';
import { Client } from '../integration/harness.js';
import type { KeyRange, Kv, Mutation } from './model.js';

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.use_local_subchannel_pool': 1,
  'grpc.initial_reconnect_backoff_ms': 50,
  'grpc.min_reconnect_backoff_ms': 50,
  'grpc.max_reconnect_backoff_ms': 300,
};

export function rangeEndBytes(r: KeyRange): Buffer {
  if (r.end === '') return Buffer.alloc(0);
  if (r.end === '\0') return Buffer.from([0]);
  return Buffer.from(r.end, 'latin1');
}

export function errorCode(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const c = (err as { code: unknown }).code;
    if (typeof c === 'number') return c;
  }
  return undefined;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const c = errorCode(err);
    return c === undefined ? err.message : `${grpc.status[c] ?? c}: ${err.message}`;
  }
  return String(err);
}

/** What an acknowledged write reported. */
export interface WriteResult {
  revision: number;
  /** Per mutation: keys deleted (puts: 0). */
  deleted: number[];
}

/** One gRPC channel to the member: the harness's unary calls plus the watch stream below. */
export class Connection extends Client {
  constructor(endpoint: string) {
    super(endpoint, CHANNEL_OPTIONS);
  }

  /** Sends the write; resolves with its revision and delete counts as the server reported them. */
  async write(muts: readonly Mutation[], asTxn: boolean, timeoutMs: number): Promise<WriteResult> {
    if (!asTxn) {
      const m = muts[0]!;
      if (muts.length !== 1) throw new Error('a plain write has one mutation');
      if (m.kind === 'put') {
        const r = await this.call(
          '/etcdserverpb.KV/Put',
          PutRequest,
          PutResponse,
          PutRequest.fromPartial({
            key: Buffer.from(m.key, 'latin1'),
            value: Buffer.from(m.value, 'latin1'),
          }),
          timeoutMs,
        );
        return { revision: r.header?.revision ?? -1, deleted: [0] };
      }
      const r = await this.call(
        '/etcdserverpb.KV/DeleteRange',
        DeleteRangeRequest,
        DeleteRangeResponse,
        DeleteRangeRequest.fromPartial({
          key: Buffer.from(m.range.key, 'latin1'),
          rangeEnd: rangeEndBytes(m.range),
        }),
        timeoutMs,
      );
      return { revision: r.header?.revision ?? -1, deleted: [r.deleted] };
    }
    const success: RequestOp[] = muts.map((m) =>
      m.kind === 'put'
        ? {
            request: {
              $case: 'requestPut',
              requestPut: PutRequest.fromPartial({
                key: Buffer.from(m.key, 'latin1'),
                value: Buffer.from(m.value, 'latin1'),
              }),
            },
          }
        : {
            request: {
              $case: 'requestDeleteRange',
              requestDeleteRange: DeleteRangeRequest.fromPartial({
                key: Buffer.from(m.range.key, 'latin1'),
                rangeEnd: rangeEndBytes(m.range),
              }),
            },
          },
    );
    const r = await this.call(
      '/etcdserverpb.KV/Txn',
      TxnRequest,
      TxnResponse,
      TxnRequest.fromPartial({ compare: [], success, failure: [] }),
      timeoutMs,
    );
    if (!r.succeeded) throw new Error('txn without comparisons did not succeed');
    const deleted = r.responses.map((x) =>
      x.response?.$case === 'responseDeleteRange' ? x.response.responseDeleteRange.deleted : 0,
    );
    if (deleted.length !== muts.length)
      throw new Error(`txn answered ${deleted.length} of ${muts.length} ops`);
    return { revision: r.header?.revision ?? -1, deleted };
  }

  /** Every key under `prefix` at `revision` (0: the newest), with the header revision. */
  async rangeAt(
    range: KeyRange,
    revision: number,
    timeoutMs = 10_000,
  ): Promise<{ revision: number; kvs: Kv[] }> {
    const r = await this.call(
      '/etcdserverpb.KV/Range',
      RangeRequest,
      RangeResponse,
      RangeRequest.fromPartial({
        key: Buffer.from(range.key, 'latin1'),
        rangeEnd: rangeEndBytes(range),
        revision,
      }),
      timeoutMs,
    );
    return {
      revision: r.header?.revision ?? -1,
      kvs: r.kvs.map((x) => ({
        key: x.key.toString('latin1'),
        value: x.value.toString('latin1'),
        createRevision: x.createRevision,
        modRevision: x.modRevision,
        version: x.version,
      })),
    };
  }

  /** A Watch stream; `onData` gets every response with its arrival time, `onEnd` once, at the end. */
  watch(onData: (r: WatchResponse) => void, onEnd: (err: unknown) => void): WatchCall {
    const call = this.grpc.makeBidiStreamRequest(
      '/etcdserverpb.Watch/Watch',
      (m: WatchRequest) => Buffer.from(WatchRequest.encode(m).finish()),
      (b: Buffer) => WatchResponse.decode(b),
      new grpc.Metadata(),
      {},
    );
    let ended = false;
    const end = (err: unknown): void => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    call.on('data', (r: WatchResponse) => {
      if (!ended) onData(r);
    });
    call.on('error', (err: unknown) => end(err));
    call.on('end', () => end(undefined));
    call.on('close', () => end(undefined));
    return {
      send: (req) => {
        if (!ended) call.write(WatchRequest.fromPartial(req));
      },
      close: () => {
        ended = true;
        call.cancel();
      },
      get ended() {
        return ended;
      },
    };
  }

  /** Resolves once the channel is connected (it connects on demand after a restart). */
  ready(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.grpc.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve()));
    });
  }

  compact(revision: number, timeoutMs: number): Promise<CompactionResponse> {
    return this.call(
      '/etcdserverpb.KV/Compact',
      CompactionRequest,
      CompactionResponse,
      CompactionRequest.fromPartial({ revision, physical: false }),
      timeoutMs,
    );
  }
}

export interface WatchCall {
  send(req: WatchRequest): void;
  close(): void;
  readonly ended: boolean;
}
