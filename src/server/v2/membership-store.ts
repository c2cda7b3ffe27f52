// The membership writes etcd 3.4 makes to its v2 store (membership/store.go),
// each taking one store index: a member added creates
// /0/members/<id>/raftAttributes, a promotion or peer URL change updates it,
// a published member sets /0/members/<id>/attributes, a removal deletes
// /0/members/<id> and creates /0/removed_members/<id>, the cluster version
// sets /0/version. Doing the same writes keeps our store index -- and so every
// v2 key's createdIndex/modifiedIndex -- equal to an etcd member's.
import { V2Error, type V2Store } from '../../v2store/index.js';
import { encodeAttributes, encodeRaftAttributes, type MemberRecord } from '../member-json.js';

export const MEMBERS_DIR = '/0/members';
export const REMOVED_MEMBERS_DIR = '/0/removed_members';
export const CLUSTER_VERSION_KEY = '/0/version';

/** etcd's types.ID String(): hex without padding. */
function memberDir(id: bigint): string {
  return `${MEMBERS_DIR}/${id.toString(16)}`;
}

/** etcd panics when one of these fails; a store that disagrees with the membership is left as it is. */
function tolerate(write: () => void): void {
  try {
    write();
  } catch (err) {
    if (!(err instanceof V2Error)) throw err;
  }
}

export function storeAddMember(s: V2Store, m: MemberRecord): void {
  tolerate(() =>
    s.create(`${memberDir(m.id)}/raftAttributes`, false, encodeRaftAttributes(m), false, {}, 0n),
  );
}

/** A promotion or a peer URL update: the member's raftAttributes as they are now. */
export function storeUpdateRaftAttributes(s: V2Store, m: MemberRecord): void {
  tolerate(() => s.update(`${memberDir(m.id)}/raftAttributes`, encodeRaftAttributes(m), {}, 0n));
}

export function storeSetAttributes(s: V2Store, m: MemberRecord): void {
  tolerate(() => s.set(`${memberDir(m.id)}/attributes`, false, encodeAttributes(m), {}, 0n));
}

export function storeRemoveMember(s: V2Store, id: bigint): void {
  tolerate(() => s.delete(memberDir(id), true, true, 0n));
  tolerate(() => s.create(`${REMOVED_MEMBERS_DIR}/${id.toString(16)}`, false, '', false, {}, 0n));
}

export function storeSetClusterVersion(s: V2Store, version: string): void {
  tolerate(() => s.set(CLUSTER_VERSION_KEY, false, version, {}, 0n));
}
