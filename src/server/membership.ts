// The cluster's members as the applied log describes them, with etcd 3.4's
// rules: conf changes are validated when applied (a rejected one is a no-op
// on every member alike), removed ids never come back, members publish their
// name and client URLs through the log, the cluster version is set by the
// leader through the log. Raft snapshots carry this state as etcd's v2-store
// JSON, so an etcd 3.4 member receiving one of our snapshots rebuilds the
// same membership (and we read theirs). The member also keeps that v2 store
// itself (src/v2store): every membership change makes etcd's store write too
// (v2/membership-store.ts), and the v2 API's keys live in it under /1, so the
// store travels whole in snapshots and its indexes match etcd's.
import { type ConfChange, ConfChangeType } from '../raft/types.js';
import { V2Store } from '../v2store/index.js';
import {
  encodeConfigChangeContext,
  encodeMemberJson,
  type MemberRecord,
  parseConfigChangeContext,
} from './member-json.js';
import {
  storeAddMember,
  storeRemoveMember,
  storeSetAttributes,
  storeSetClusterVersion,
  storeUpdateRaftAttributes,
} from './v2/membership-store.js';
import { decodeV2Store, decodeV2StoreSnapshot, encodeV2Store } from './v2/store-snapshot.js';

export type Member = MemberRecord;

/** etcd allows one learner at a time (membership maxLearners). */
export const MAX_LEARNERS = 1;

/** Why a conf change was rejected at apply time: etcd's membership error texts. */
export class MembershipError extends Error {
  constructor(
    readonly kind: 'removed' | 'exists' | 'notFound' | 'peerUrlExists' | 'notLearner' | 'tooManyLearners',
  ) {
    super(MEMBERSHIP_ERROR_TEXT[kind]);
    this.name = 'MembershipError';
  }
}

const MEMBERSHIP_ERROR_TEXT = {
  removed: 'membership: ID removed',
  exists: 'membership: ID exists',
  notFound: 'membership: ID not found',
  peerUrlExists: 'membership: peerURL exists',
  notLearner: 'membership: can only promote a learner member',
  tooManyLearners: 'membership: too many learner members in cluster',
} as const;

/** The context of a member add (etcd's Member JSON). */
export function encodeMemberContext(m: Member): Uint8Array {
  return new TextEncoder().encode(encodeMemberJson(m));
}

/** The context of a learner promotion (etcd's ConfigChangeContext with isPromote). */
export function encodePromoteContext(m: Member): Uint8Array {
  return new TextEncoder().encode(encodeConfigChangeContext({ ...m, peerUrls: [] }, true));
}

function decodeContext(cc: ConfChange): { member: Member; isPromote: boolean } {
  return parseConfigChangeContext(new TextDecoder().decode(cc.context));
}

export class Membership {
  private readonly members = new Map<bigint, Member>();
  /** Ids removed from the cluster; they may never rejoin under the same id. */
  private readonly removed = new Set<bigint>();
  private version: string | undefined;
  /** etcd's v2 store: this membership under /0, v2 API keys under /1. */
  private readonly store = new V2Store();

  /** The v2 store (the same object for the member's lifetime; snapshots restore into it). */
  v2Store(): V2Store {
    return this.store;
  }

  get(id: bigint): Member | undefined {
    return this.members.get(id);
  }

  /** Members sorted by id, as etcd lists them. */
  list(): Member[] {
    return [...this.members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  voters(): Member[] {
    return this.list().filter((m) => !m.isLearner);
  }

  isRemoved(id: bigint): boolean {
    return this.removed.has(id);
  }

  removedIds(): bigint[] {
    return [...this.removed];
  }

  /** The cluster version set through the log ("3.4.0"), undefined before the leader set it. */
  clusterVersion(): string | undefined {
    return this.version;
  }

  setClusterVersion(v: string): void {
    this.version = v;
    storeSetClusterVersion(this.store, v);
  }

  /** etcd's ValidateConfigurationChange: the error a conf change would be rejected with, if any. */
  validate(cc: ConfChange): MembershipError | undefined {
    if (this.removed.has(cc.nodeId)) return new MembershipError('removed');
    switch (cc.type) {
      case ConfChangeType.AddNode:
      case ConfChangeType.AddLearnerNode: {
        const { member, isPromote } = decodeContext(cc);
        if (isPromote) {
          const existing = this.members.get(cc.nodeId);
          if (existing === undefined) return new MembershipError('notFound');
          if (!existing.isLearner) return new MembershipError('notLearner');
          return undefined;
        }
        if (this.members.has(cc.nodeId)) return new MembershipError('exists');
        if (this.urlTaken(member.peerUrls, undefined)) return new MembershipError('peerUrlExists');
        if (cc.type === ConfChangeType.AddLearnerNode) {
          const learners = this.list().filter((m) => m.isLearner).length;
          if (learners + 1 > MAX_LEARNERS) return new MembershipError('tooManyLearners');
        }
        return undefined;
      }
      case ConfChangeType.RemoveNode:
        return this.members.has(cc.nodeId) ? undefined : new MembershipError('notFound');
      case ConfChangeType.UpdateNode: {
        if (!this.members.has(cc.nodeId)) return new MembershipError('notFound');
        const { member } = decodeContext(cc);
        if (this.urlTaken(member.peerUrls, cc.nodeId)) return new MembershipError('peerUrlExists');
        return undefined;
      }
    }
    return undefined;
  }

  private urlTaken(urls: readonly string[], except: bigint | undefined): boolean {
    for (const m of this.members.values()) {
      if (m.id === except) continue;
      if (m.peerUrls.some((u) => urls.includes(u))) return true;
    }
    return false;
  }

  /**
   * Applies one validated conf change. Idempotent: replaying the log after a
   * restart re-applies changes the snapshot may already contain.
   */
  applyConfChange(cc: ConfChange): void {
    switch (cc.type) {
      case ConfChangeType.AddNode:
      case ConfChangeType.AddLearnerNode: {
        const { member, isPromote } = decodeContext(cc);
        const existing = this.members.get(cc.nodeId);
        if (isPromote || existing !== undefined) {
          if (existing !== undefined) {
            existing.isLearner = false;
            if (isPromote) storeUpdateRaftAttributes(this.store, existing);
          }
          return;
        }
        const added = { ...member, id: cc.nodeId, isLearner: cc.type === ConfChangeType.AddLearnerNode };
        this.members.set(cc.nodeId, added);
        storeAddMember(this.store, added);
        return;
      }
      case ConfChangeType.RemoveNode:
        this.members.delete(cc.nodeId);
        this.removed.add(cc.nodeId);
        storeRemoveMember(this.store, cc.nodeId);
        return;
      case ConfChangeType.UpdateNode: {
        const { member } = decodeContext(cc);
        const existing = this.members.get(cc.nodeId);
        if (existing !== undefined) {
          existing.peerUrls = [...member.peerUrls];
          storeUpdateRaftAttributes(this.store, existing);
        }
        return;
      }
    }
  }

  /** Takes over another membership's state (a raft snapshot was installed). */
  replaceWith(other: Membership): void {
    this.members.clear();
    this.removed.clear();
    for (const m of other.list()) this.members.set(m.id, { ...m });
    for (const r of other.removed) this.removed.add(r);
    this.version = other.version;
    this.store.restoreFrom(other.store);
  }

  setAttributes(id: bigint, name: string, clientUrls: string[]): void {
    const m = this.members.get(id);
    if (m === undefined) return; // removed meanwhile: etcd ignores it too
    m.name = name;
    m.clientUrls = [...clientUrls];
    storeSetAttributes(this.store, m);
  }

  /** The raft snapshot's data: etcd 3.4's v2-store JSON (the whole store, v2 keys included). */
  encode(): Uint8Array {
    return encodeV2Store(this.store);
  }

  static decode(data: Uint8Array): Membership {
    const s = decodeV2StoreSnapshot(data);
    const ms = new Membership();
    ms.store.restoreFrom(decodeV2Store(data));
    for (const m of s.members) ms.members.set(m.id, { ...m });
    for (const r of s.removed) ms.removed.add(r);
    if (s.clusterVersion !== undefined) ms.version = s.clusterVersion;
    return ms;
  }
}
