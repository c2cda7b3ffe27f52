// The cluster's members as the applied log describes them. Changed only by the
// applier (conf changes, attribute publications) so every member derives the
// same list; serialised into raft snapshots so a restart or a new member can
// start from it.
import { type ConfChange, ConfChangeType } from '../raft/types.js';

export interface Member {
  id: bigint;
  /** Empty until the member publishes its attributes (or named in --initial-cluster). */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

/** What a ConfChange's context carries: the member being added or updated. */
interface MemberJson {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

interface MembershipJson {
  clusterId: string;
  members: MemberJson[];
  removed: string[];
}

function toJson(m: Member): MemberJson {
  return {
    id: m.id.toString(),
    name: m.name,
    peerURLs: m.peerUrls,
    clientURLs: m.clientUrls,
    isLearner: m.isLearner,
  };
}

function fromJson(j: MemberJson): Member {
  if (typeof j.id !== 'string' || !Array.isArray(j.peerURLs))
    throw new Error('membership: malformed member record');
  return {
    id: BigInt(j.id),
    name: j.name ?? '',
    peerUrls: [...j.peerURLs],
    clientUrls: Array.isArray(j.clientURLs) ? [...j.clientURLs] : [],
    isLearner: j.isLearner === true,
  };
}

export function encodeMemberContext(m: Member): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(toJson(m)));
}

export function decodeMemberContext(ctx: Uint8Array): Member {
  return fromJson(JSON.parse(new TextDecoder().decode(ctx)) as MemberJson);
}

export class Membership {
  private readonly members = new Map<bigint, Member>();
  /** Ids removed from the cluster; they may never rejoin under the same id. */
  private readonly removed = new Set<bigint>();

  constructor(readonly clusterId: bigint) {}

  get(id: bigint): Member | undefined {
    return this.members.get(id);
  }

  /** Members sorted by id, as etcd lists them. */
  list(): Member[] {
    return [...this.members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  isRemoved(id: bigint): boolean {
    return this.removed.has(id);
  }

  /**
   * Applies one committed conf change. Idempotent: replaying the log after a
   * restart re-applies changes the snapshot may already contain.
   */
  applyConfChange(cc: ConfChange): void {
    switch (cc.type) {
      case ConfChangeType.AddNode:
      case ConfChangeType.AddLearnerNode: {
        const m = decodeMemberContext(cc.context);
        if (m.id !== cc.nodeId)
          throw new Error(`membership: conf change for ${cc.nodeId} carries member ${m.id}`);
        const existing = this.members.get(m.id);
        const isLearner = cc.type === ConfChangeType.AddLearnerNode;
        if (existing !== undefined) {
          // A learner promotion is an AddNode for an existing member.
          existing.isLearner = isLearner;
          return;
        }
        this.members.set(m.id, { ...m, isLearner });
        return;
      }
      case ConfChangeType.RemoveNode:
        this.members.delete(cc.nodeId);
        this.removed.add(cc.nodeId);
        return;
      case ConfChangeType.UpdateNode: {
        const m = decodeMemberContext(cc.context);
        const existing = this.members.get(cc.nodeId);
        if (existing !== undefined) existing.peerUrls = [...m.peerUrls];
        return;
      }
    }
  }

  setAttributes(id: bigint, name: string, clientUrls: string[]): void {
    const m = this.members.get(id);
    if (m === undefined) return; // removed meanwhile: etcd ignores it too
    m.name = name;
    m.clientUrls = [...clientUrls];
  }

  encode(): Uint8Array {
    const j: MembershipJson = {
      clusterId: this.clusterId.toString(),
      members: this.list().map(toJson),
      removed: [...this.removed].map((x) => x.toString()),
    };
    return new TextEncoder().encode(JSON.stringify(j));
  }

  static decode(data: Uint8Array): Membership {
    const j = JSON.parse(new TextDecoder().decode(data)) as MembershipJson;
    if (typeof j.clusterId !== 'string' || !Array.isArray(j.members)) {
      throw new Error('membership: malformed snapshot data');
    }
    const ms = new Membership(BigInt(j.clusterId));
    for (const mj of j.members) {
      const m = fromJson(mj);
      ms.members.set(m.id, m);
    }
    for (const r of j.removed ?? []) ms.removed.add(BigInt(r));
    return ms;
  }
}
