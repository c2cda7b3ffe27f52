// Pending ReadIndex requests on the leader (Safe mode, thesis §6.4): each waits until a quorum
// answered a heartbeat that carried its context, which proves the leader was still the leader.
import type { Message, NodeId } from './types.js';
import { assert, bytesKey } from './util.js';

export interface ReadIndexStatus {
  req: Message;
  index: number;
  acks: Set<NodeId>;
}

/** Bound on queued read requests: a leader that cannot reach a quorum must not grow without limit. */
export const MAX_PENDING_READS = 4096;

/** Bound on ReadIndex requests a new leader holds until it has committed an entry of its term. */
export const MAX_PENDING_READ_INDEX_MESSAGES = 4096;

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private readonly queue: string[] = [];

  get size(): number {
    return this.queue.length;
  }

  /** Returns false when the request was not queued (duplicate context or queue full). */
  addRequest(index: number, m: Message): boolean {
    const ctx = m.context;
    assert(ctx !== undefined, 'read request without context');
    const key = bytesKey(ctx);
    if (this.pending.has(key) || this.queue.length >= MAX_PENDING_READS) return false;
    this.pending.set(key, { req: m, index, acks: new Set() });
    this.queue.push(key);
    return true;
  }

  /** Record a heartbeat ack for `ctx`; returns the acks so far, or undefined for an unknown context. */
  recvAck(from: NodeId, ctx: Uint8Array): Set<NodeId> | undefined {
    const st = this.pending.get(bytesKey(ctx));
    if (st === undefined) return undefined;
    st.acks.add(from);
    return st.acks;
  }

  /**
   * `ctx` is confirmed: it and every request queued before it are answered (a later confirmation
   * implies the earlier ones). Returns them in order.
   */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = bytesKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.splice(0, at + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of done) {
      const st = this.pending.get(k);
      assert(st !== undefined, 'read queue and map disagree');
      this.pending.delete(k);
      out.push(st);
    }
    return out;
  }

  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    return this.pending.get(this.queue[this.queue.length - 1])?.req.context;
  }
}
