// Simulated clients: each runs one operation at a time against a member it
// picks (the way clientv3 fails over), with a virtual-time deadline. Writes
// are compare-and-swap txns on mod_revision over a small key space, so the
// history checker can verify the chain; reads are linearizable ranges.
import {
  Compare_CompareResult,
  Compare_CompareTarget,
  RangeRequest,
  type RangeResponse,
  TxnRequest,
  type TxnResponse,
} from '../../../src/pb/etcdserverpb/rpc.js';
import { type Clock, withTimeout } from '../../../src/runtime/clock.js';
import { encodeValue, type Op, type ReadOp, type WriteOp } from './history.js';

/** A member's client API as the gRPC services expose it. */
export interface SimClientApi {
  txn(req: TxnRequest): Promise<TxnResponse>;
  range(req: RangeRequest): Promise<RangeResponse>;
}

export interface WorkloadOptions {
  clients: number;
  keys: number;
  readRatio: number;
  timeoutMs: number;
  /** Pause between a client's operations. */
  thinkMs: number;
}

const enc = (s: string) => Buffer.from(s);

export class Workload {
  readonly ops: Op[] = [];
  private stopped = false;
  private readonly lastSeen = new Map<string, number>();
  private running: Promise<void>[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly random: () => number,
    private readonly o: WorkloadOptions,
    /** The API of a member the client can reach now (undefined: none is up). */
    private readonly pickMember: () => SimClientApi | undefined,
  ) {}

  start(): void {
    for (let c = 0; c < this.o.clients; c++) this.running.push(this.client(c));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running);
  }

  private key(): string {
    return `k${Math.floor(this.random() * this.o.keys)}`;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.after(ms, resolve));
  }

  private async client(c: number): Promise<void> {
    let seq = 0;
    while (!this.stopped) {
      const api = this.pickMember();
      if (api === undefined) {
        await this.pause(50);
        continue;
      }
      if (this.random() < this.o.readRatio) await this.read(c, api);
      else await this.write(c, seq++, api);
      await this.pause(1 + Math.floor(this.random() * this.o.thinkMs));
    }
  }

  private async read(client: number, api: SimClientApi): Promise<void> {
    const key = this.key();
    const op: ReadOp = {
      kind: 'read',
      client,
      key,
      start: this.clock.monotonic(),
      end: 0,
      ok: false,
      modRev: 0,
      value: undefined,
      revision: 0,
    };
    try {
      const r = await withTimeout(
        this.clock,
        api.range(RangeRequest.fromPartial({ key: enc(key) })),
        this.o.timeoutMs,
        () => new Error('timeout'),
      );
      const kv = r.kvs[0];
      op.ok = true;
      op.modRev = kv === undefined ? 0 : Number(kv.modRevision);
      op.value = kv === undefined ? undefined : Buffer.from(kv.value).toString();
      op.revision = Number(r.header?.revision ?? 0);
      this.lastSeen.set(key, Math.max(this.lastSeen.get(key) ?? 0, op.modRev));
    } catch {
      // a failed read says nothing
    }
    op.end = this.clock.monotonic();
    this.ops.push(op);
  }

  private async write(client: number, seq: number, api: SimClientApi): Promise<void> {
    const key = this.key();
    const expect = this.lastSeen.get(key) ?? 0;
    const value = encodeValue(client, seq, expect);
    const op: WriteOp = {
      kind: 'write',
      client,
      key,
      value,
      expectModRev: expect,
      start: this.clock.monotonic(),
      end: 0,
      outcome: 'unknown',
      revision: 0,
    };
    const req = TxnRequest.fromPartial({
      compare: [
        {
          result: Compare_CompareResult.EQUAL,
          target: Compare_CompareTarget.MOD,
          key: enc(key),
          targetUnion: { $case: 'modRevision', modRevision: BigInt(expect) },
        },
      ],
      success: [{ request: { $case: 'requestPut', requestPut: { key: enc(key), value: enc(value) } } }],
      failure: [{ request: { $case: 'requestRange', requestRange: { key: enc(key) } } }],
    });
    try {
      const r = await withTimeout(this.clock, api.txn(req), this.o.timeoutMs, () => new Error('timeout'));
      if (r.succeeded) {
        op.outcome = 'ok';
        op.revision = Number(r.header?.revision ?? 0);
        this.lastSeen.set(key, op.revision);
      } else {
        op.outcome = 'failed';
        op.revision = Number(r.header?.revision ?? 0);
        const resp = r.responses[0]?.response;
        const kv = resp?.$case === 'responseRange' ? resp.responseRange.kvs[0] : undefined;
        this.lastSeen.set(key, kv === undefined ? 0 : Number(kv.modRevision));
      }
    } catch {
      // unknown: it may or may not have been applied
    }
    op.end = this.clock.monotonic();
    this.ops.push(op);
  }
}
