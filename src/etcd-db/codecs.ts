// etcd 3.4's backend buckets and the byte formats of their keys and values (fact sheet §10),
// and the conversions to and from how etcd-ts stores the same things.

import { BinaryReader } from '@bufbuild/protobuf/wire';
import { decodeRevision, encodeRevision, REV_BYTES } from '../mvcc/revision.js';
import { AlarmMember } from '../pb/etcdserverpb/rpc.js';

export const BUCKET = {
  key: 'key',
  meta: 'meta',
  lease: 'lease',
  alarm: 'alarm',
  auth: 'auth',
  authUsers: 'authUsers',
  authRoles: 'authRoles',
  members: 'members',
  membersRemoved: 'members_removed',
  cluster: 'cluster',
} as const;

/** Auth buckets are kept byte for byte (same names, etcd's formats) in our side buckets. */
export const AUTH_BUCKETS = [BUCKET.auth, BUCKET.authUsers, BUCKET.authRoles] as const;

export const META_CONSISTENT_INDEX = 'consistent_index';
export const META_SCHEDULED_COMPACT = 'scheduledCompactRev';
export const META_FINISHED_COMPACT = 'finishedCompactRev';
export const AUTH_REVISION_KEY = 'authRevision';
export const CLUSTER_VERSION_KEY = 'clusterVersion';
export const REMOVED_VALUE = 'removed';

export class EtcdDbError extends Error {
  override readonly name = 'EtcdDbError';
  constructor(message: string) {
    super(`etcd db: ${message}`);
  }
}

export function encodeU64BE(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

export function decodeSafeU64BE(b: Uint8Array, what: string): number {
  if (b.length !== 8) throw new EtcdDbError(`${what}: expected 8 bytes, got ${b.length}`);
  const n = Buffer.from(b.buffer, b.byteOffset, 8).readBigUInt64BE(0);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new EtcdDbError(`${what}: ${n} is beyond 2^53`);
  return Number(n);
}

/** A compaction mark in meta: the 17-byte revision key {main, 0}. */
export function encodeCompactRev(main: number): Buffer {
  return encodeRevision({ main, sub: 0 }, false);
}

export function decodeCompactRev(b: Uint8Array, what: string): number {
  if (b.length !== REV_BYTES)
    throw new EtcdDbError(`${what}: expected a ${REV_BYTES}-byte revision, got ${b.length} bytes`);
  return decodeRevisionKey(b).main;
}

export function decodeRevisionKey(b: Uint8Array): { main: number; sub: number; tombstone: boolean } {
  try {
    return decodeRevision(b);
  } catch {
    throw new EtcdDbError(`malformed revision key ${Buffer.from(b).toString('hex')} in bucket "key"`);
  }
}

// ---------------------------------------------------------------- alarms

/** etcd-ts's alarm key (src/server/alarms.ts): memberID u64 BE ‖ alarm type u32 BE. */
export function ourAlarmKey(a: AlarmMember): Buffer {
  const k = Buffer.alloc(12);
  k.writeBigUInt64BE(a.memberID, 0);
  k.writeUInt32BE(a.alarm, 8);
  return k;
}

export function fromOurAlarmKey(k: Uint8Array): AlarmMember {
  if (k.length !== 12) throw new EtcdDbError(`alarm side bucket: key of ${k.length} bytes, expected 12`);
  const b = Buffer.from(k.buffer, k.byteOffset, 12);
  return { memberID: b.readBigUInt64BE(0), alarm: b.readUInt32BE(8) };
}

/** etcd's alarm key: the protobuf AlarmMember (its value is empty). */
export function etcdAlarmKey(a: AlarmMember): Buffer {
  return Buffer.from(AlarmMember.encode(a).finish());
}

export function fromEtcdAlarmKey(k: Uint8Array): AlarmMember {
  try {
    return AlarmMember.decode(new BinaryReader(k));
  } catch (err) {
    throw new EtcdDbError(
      `alarm key ${Buffer.from(k).toString('hex')} is not an AlarmMember: ${String(err)}`,
    );
  }
}

// ---------------------------------------------------------------- members

export interface EtcdMember {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

/** Bucket key of a member: its id in lowercase hex, unpadded (Go's types.ID.String()). */
export function memberKey(id: bigint): Buffer {
  return Buffer.from(id.toString(16));
}

export function memberIdFromKey(k: Uint8Array): bigint {
  const s = Buffer.from(k).toString('latin1');
  if (!/^[0-9a-f]{1,16}$/.test(s)) throw new EtcdDbError(`member key ${JSON.stringify(s)} is not a hex id`);
  return BigInt(`0x${s}`);
}

/** A string as Go's encoding/json writes it (HTML-safe escapes, \u00XX for \b and \f). */
function goJsonString(s: string): string {
  return JSON.stringify(s).replace(
    /[<>&\u2028\u2029\b\f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function goJsonStrings(a: string[]): string {
  return `[${a.map(goJsonString).join(',')}]`;
}

/**
 * The members bucket value: json.Marshal of etcd's membership.Member, fields in Go's order
 * (id, peerURLs, isLearner if set, name and clientURLs if non-empty). The id is a JSON number
 * beyond 2^53, so it is written from the bigint directly.
 */
export function encodeMember(m: EtcdMember): Buffer {
  let s = `{"id":${m.id.toString()},"peerURLs":${goJsonStrings(m.peerUrls)}`;
  if (m.isLearner) s += ',"isLearner":true';
  if (m.name !== '') s += `,"name":${goJsonString(m.name)}`;
  if (m.clientUrls.length > 0) s += `,"clientURLs":${goJsonStrings(m.clientUrls)}`;
  return Buffer.from(`${s}}`);
}

/** Parses a members bucket entry; the id comes from the key (JSON.parse would round it). */
export function decodeMember(key: Uint8Array, value: Uint8Array): EtcdMember {
  const id = memberIdFromKey(key);
  let j: { peerURLs?: unknown; name?: unknown; clientURLs?: unknown; isLearner?: unknown };
  try {
    j = JSON.parse(Buffer.from(value).toString('utf8')) as typeof j;
  } catch {
    throw new EtcdDbError(`member ${id.toString(16)}: value is not JSON`);
  }
  const strings = (v: unknown, what: string): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      throw new EtcdDbError(`member ${id.toString(16)}: ${what} is not a list of strings`);
    }
    return v as string[];
  };
  return {
    id,
    name: typeof j.name === 'string' ? j.name : '',
    peerUrls: strings(j.peerURLs, 'peerURLs'),
    clientUrls: strings(j.clientURLs, 'clientURLs'),
    isLearner: j.isLearner === true,
  };
}
