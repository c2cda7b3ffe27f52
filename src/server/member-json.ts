// etcd 3.4's membership JSON (etcdserver/api/membership/member.go), byte-exact:
//   Member               {"id":N,"peerURLs":[..]|null,"isLearner":true,"name":"..","clientURLs":[..]}
//                        id a decimal uint64; peerURLs never omitted (null when empty); isLearner,
//                        name, clientURLs omitted when false/empty (Go's field order: the id, then
//                        the embedded RaftAttributes, then the embedded Attributes).
//   ConfigChangeContext  the Member fields plus "isPromote":bool (always written); the context of
//                        AddNode/AddLearnerNode/UpdateNode conf changes.
//   RaftAttributes       {"peerURLs":[..]|null,"isLearner":true}   v2 key /0/members/<hex>/raftAttributes
//   Attributes           {"name":"..","clientURLs":[..]}           v2 key /0/members/<hex>/attributes
//   GET /members         a Member array sorted by id, plus the "\n" of Go's json.Encoder.
// Ids are bigint both ways (never through a JS number).
import {
  goJsonString,
  goJsonStrings,
  type JsonValue,
  jsonBool,
  jsonObject,
  jsonString,
  jsonStrings,
  jsonU64,
  parseGoJson,
} from '../peer/wire/go-json.js';
import { WireError } from '../peer/wire/gogo-wire.js';

export interface MemberRecord {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export interface MemberAttributes {
  name: string;
  clientUrls: string[];
}

export interface MemberRaftAttributes {
  peerUrls: string[];
  isLearner: boolean;
}

type JsonInput = string | Uint8Array;

// ---------------------------------------------------------------- encoding

function raftAttributesFields(a: MemberRaftAttributes): string {
  return `"peerURLs":${goJsonStrings(a.peerUrls)}${a.isLearner ? ',"isLearner":true' : ''}`;
}

/** The Attributes fields with Go's omitempty; '' when both are empty. */
function attributesFields(a: MemberAttributes): string {
  const parts: string[] = [];
  if (a.name !== '') parts.push(`"name":${goJsonString(a.name)}`);
  if (a.clientUrls.length > 0) parts.push(`"clientURLs":${goJsonStrings(a.clientUrls)}`);
  return parts.join(',');
}

function memberFields(m: MemberRecord): string {
  const attrs = attributesFields(m);
  return `"id":${m.id},${raftAttributesFields(m)}${attrs === '' ? '' : `,${attrs}`}`;
}

function checkId(id: bigint): void {
  if (id < 0n || id >= 1n << 64n) throw new WireError(`member id ${id} is outside uint64`);
}

export function encodeMemberJson(m: MemberRecord): string {
  checkId(m.id);
  return `{${memberFields(m)}}`;
}

/** The conf change context etcd writes: a promote carries only the id (peerURLs null). */
export function encodeConfigChangeContext(m: MemberRecord, isPromote: boolean): string {
  checkId(m.id);
  return `{${memberFields(m)},"isPromote":${isPromote}}`;
}

/** The body of the peer GET /members reply, byte-identical to etcd's (sorted by id, newline). */
export function encodeMembersArray(members: readonly MemberRecord[]): string {
  for (const m of members) checkId(m.id);
  if (members.length === 0) return 'null\n'; // Go's nil slice
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return `[${sorted.map((m) => `{${memberFields(m)}}`).join(',')}]\n`;
}

export function encodeAttributes(a: MemberAttributes): string {
  return `{${attributesFields(a)}}`;
}

export function encodeRaftAttributes(a: MemberRaftAttributes): string {
  return `{${raftAttributesFields(a)}}`;
}

// ---------------------------------------------------------------- decoding

function readMember(v: JsonValue, what: string): MemberRecord {
  const o = jsonObject(v, what);
  return {
    id: jsonU64(o.field('id'), `${what} id`) ?? 0n,
    name: jsonString(o.field('name'), `${what} name`) ?? '',
    peerUrls: jsonStrings(o.field('peerURLs'), `${what} peerURLs`) ?? [],
    clientUrls: jsonStrings(o.field('clientURLs'), `${what} clientURLs`) ?? [],
    isLearner: jsonBool(o.field('isLearner'), `${what} isLearner`) ?? false,
  };
}

export function parseMemberJson(text: JsonInput): MemberRecord {
  return readMember(parseGoJson(text, 'member JSON'), 'member');
}

export function parseConfigChangeContext(text: JsonInput): { member: MemberRecord; isPromote: boolean } {
  const v = parseGoJson(text, 'conf change context');
  const member = readMember(v, 'conf change context');
  const isPromote = jsonBool(jsonObject(v, 'conf change context').field('isPromote'), 'isPromote') ?? false;
  return { member, isPromote };
}

/** The GET /members body; a JSON null is an empty list (as Go decodes it). */
export function parseMembersArray(text: JsonInput): MemberRecord[] {
  const v = parseGoJson(text, 'members array');
  if (v === null) return [];
  if (!Array.isArray(v)) throw new WireError('members array: expected a JSON array');
  return v.map((item, i) => readMember(item, `members[${i}]`));
}

export function parseAttributes(text: JsonInput): MemberAttributes {
  const o = jsonObject(parseGoJson(text, 'member attributes'), 'member attributes');
  return {
    name: jsonString(o.field('name'), 'attributes name') ?? '',
    clientUrls: jsonStrings(o.field('clientURLs'), 'attributes clientURLs') ?? [],
  };
}

export function parseRaftAttributes(text: JsonInput): MemberRaftAttributes {
  const o = jsonObject(parseGoJson(text, 'member raftAttributes'), 'member raftAttributes');
  return {
    peerUrls: jsonStrings(o.field('peerURLs'), 'raftAttributes peerURLs') ?? [],
    isLearner: jsonBool(o.field('isLearner'), 'raftAttributes isLearner') ?? false,
  };
}
