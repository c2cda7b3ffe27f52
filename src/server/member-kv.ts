// The KV service's view of a member: writes go through raft (Proposer), reads
// wait for the ReadIndex barrier unless serializable, read-only txns are
// served without a raft entry, as etcd does.

import type { AuthInfo } from '../auth/index.js';
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from '../pb/etcdserverpb/rpc.js';
import type { KvBackend } from './backend.js';
import type { DefragGate } from './defrag-gate.js';
import type { MemberState } from './member-state.js';
import type { KvPort } from './ports.js';
import type { Proposer } from './proposer.js';
import { type BackendQuota, putCost, txnCost } from './quota.js';
import { isTxnReadOnly, readOnlyTxn } from './read-txn.js';

export interface MemberKvDeps {
  state: MemberState;
  proposer: Proposer;
  backend: KvBackend;
  quota: BackendQuota;
  defrag: DefragGate;
  /** Returns once this member has applied everything committed before the call. */
  linearizableBarrier(): Promise<void>;
}

export class MemberKv implements KvPort {
  constructor(private readonly d: MemberKvDeps) {}

  async range(req: RangeRequest): Promise<RangeResponse> {
    if (!req.serializable) await this.d.linearizableBarrier();
    const defragging = this.d.defrag.current();
    if (defragging !== undefined) await defragging;
    const r = this.d.backend.range(req);
    return { header: this.d.state.header(r.revision), kvs: r.kvs, more: r.more, count: r.count };
  }

  async put(req: PutRequest, who?: AuthInfo): Promise<PutResponse> {
    if (this.d.quota.exceededBy(putCost(req))) await this.d.quota.refuse();
    const r = await this.d.proposer.propose({ kind: 'put', req }, who);
    const out: PutResponse = { header: this.d.state.header(r.rev) };
    if (r.prevKv !== undefined) out.prevKv = r.prevKv;
    return out;
  }

  async deleteRange(req: DeleteRangeRequest, who?: AuthInfo): Promise<DeleteRangeResponse> {
    const r = await this.d.proposer.propose({ kind: 'deleteRange', req }, who);
    return { header: this.d.state.header(r.rev), deleted: r.deleted, prevKvs: r.prevKvs };
  }

  async txn(req: TxnRequest, who?: AuthInfo): Promise<TxnResponse> {
    if (isTxnReadOnly(req)) {
      await this.d.linearizableBarrier();
      const defragging = this.d.defrag.current();
      if (defragging !== undefined) await defragging;
      const r = readOnlyTxn(this.d.backend, req);
      return { header: this.d.state.header(r.rev), succeeded: r.succeeded, responses: r.responses };
    }
    if (this.d.quota.exceededBy(txnCost(req))) await this.d.quota.refuse();
    const r = await this.d.proposer.propose({ kind: 'txn', req }, who);
    return { header: this.d.state.header(r.rev), succeeded: r.succeeded, responses: r.responses };
  }

  async compact(req: CompactionRequest, who?: AuthInfo): Promise<CompactionResponse> {
    const r = await this.d.proposer.propose({ kind: 'compaction', req }, who);
    if (req.physical) await r.done;
    return { header: this.d.state.header(r.revision) };
  }
}
