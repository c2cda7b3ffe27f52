// Seeded random values for the codec tests (unit and Go interop): every shape the peer
// wire carries, with 64-bit ids, terms and indexes up to 2^53-1, empty and non-empty data.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  MessageType,
  type Snapshot,
} from '../../raft/types.js';
import type { MemberRecord } from '../../server/member-json.js';
import type { V2Request } from '../../server/v2/request.js';

export type Rnd = () => number;

export function int(rnd: Rnd, n: number): number {
  return Math.floor(rnd() * n);
}

function u32(rnd: Rnd): bigint {
  return BigInt(Math.floor(rnd() * 2 ** 32));
}

/** A uint64 id: zero, small, 40-bit or full 64-bit. */
export function randomId(rnd: Rnd): bigint {
  switch (int(rnd, 4)) {
    case 0:
      return 0n;
    case 1:
      return BigInt(int(rnd, 200));
    case 2:
      return BigInt(int(rnd, 2 ** 40));
    default:
      return (u32(rnd) << 32n) | u32(rnd);
  }
}

/** A term or index: mostly small, sometimes up to 2^53-1. */
export function randomIndex(rnd: Rnd): number {
  const r = int(rnd, 4);
  if (r === 0) return Number.MAX_SAFE_INTEGER - int(rnd, 3);
  if (r === 1) return int(rnd, 2 ** 40);
  return int(rnd, 100_000);
}

export function randomBytes(rnd: Rnd, max: number, allowEmpty = true): Uint8Array {
  const n = allowEmpty && int(rnd, 3) === 0 ? 0 : 1 + int(rnd, max);
  return Uint8Array.from({ length: n }, () => int(rnd, 256));
}

export function randomEntry(rnd: Rnd): Entry {
  return {
    term: randomIndex(rnd),
    index: randomIndex(rnd),
    type: int(rnd, 2) === 0 ? 0 : 1,
    data: randomBytes(rnd, int(rnd, 10) === 0 ? 300 : 40),
  };
}

function randomIds(rnd: Rnd): bigint[] {
  return Array.from({ length: int(rnd, 4) }, () => randomId(rnd));
}

export function randomConfState(rnd: Rnd): ConfState {
  return { voters: randomIds(rnd), learners: randomIds(rnd) };
}

export function randomSnapshot(rnd: Rnd): Snapshot {
  return {
    data: randomBytes(rnd, 200),
    metadata: {
      index: Math.max(1, randomIndex(rnd)),
      term: randomIndex(rnd),
      confState: randomConfState(rnd),
    },
  };
}

export function randomHardState(rnd: Rnd): HardState {
  return { term: randomIndex(rnd), vote: randomId(rnd), commit: randomIndex(rnd) };
}

export function randomMessage(rnd: Rnd): Message {
  const m: Message = {
    type: int(rnd, MessageType.PreVoteResp + 1) as MessageType,
    to: randomId(rnd),
    from: randomId(rnd),
    term: randomIndex(rnd),
    logTerm: randomIndex(rnd),
    index: randomIndex(rnd),
    entries: Array.from({ length: int(rnd, 4) }, () => randomEntry(rnd)),
    commit: randomIndex(rnd),
    reject: int(rnd, 2) === 0,
    rejectHint: randomIndex(rnd),
  };
  if (int(rnd, 4) === 0) m.snapshot = randomSnapshot(rnd);
  const c = int(rnd, 4);
  if (c === 0) m.context = new TextEncoder().encode('CampaignTransfer');
  else if (c === 1) m.context = randomBytes(rnd, 16);
  return m;
}

export function randomConfChange(rnd: Rnd): ConfChange {
  const cc: ConfChange = {
    type: int(rnd, 4) as ConfChange['type'],
    nodeId: randomId(rnd),
    context: randomBytes(rnd, 60),
  };
  const id = randomId(rnd);
  if (id !== 0n) cc.id = id;
  return cc;
}

const METHODS = ['PUT', 'GET', 'QGET', 'POST', 'DELETE', 'SYNC', 'HEAD'];

function randomInt64(rnd: Rnd): bigint {
  return BigInt.asIntN(64, (u32(rnd) << 32n) | u32(rnd));
}

export function randomV2Request(rnd: Rnd): V2Request {
  const id = randomId(rnd);
  const r: V2Request = {
    id,
    method: METHODS[int(rnd, METHODS.length)]!,
    path: int(rnd, 2) === 0 ? '/0/version' : `/0/members/${id.toString(16)}/attributes`,
    val: int(rnd, 2) === 0 ? '3.4.0' : `{"name":"n${int(rnd, 9)}","clientURLs":["http://127.0.0.1:2379"]}`,
    dir: int(rnd, 2) === 0,
    prevValue: 'p'.repeat(int(rnd, 3)),
    prevIndex: randomIndex(rnd),
    expiration: int(rnd, 2) === 0 ? 0n : randomInt64(rnd),
    wait: int(rnd, 2) === 0,
    since: randomIndex(rnd),
    recursive: int(rnd, 2) === 0,
    sorted: int(rnd, 2) === 0,
    quorum: int(rnd, 2) === 0,
    time: randomInt64(rnd),
    stream: int(rnd, 2) === 0,
  };
  if (int(rnd, 2) === 0) r.prevExist = int(rnd, 2) === 0;
  if (int(rnd, 2) === 0) r.refresh = int(rnd, 2) === 0;
  return r;
}

const NAME_PARTS = ['a', 'node-1', '<&>', '"q"', '\\', '\t\n\r', '\u2028\u2029', 'ü€𝄞', '\u0001\u001f', ' '];

export function randomMember(rnd: Rnd): MemberRecord {
  const started = int(rnd, 3) !== 0;
  return {
    id: randomId(rnd),
    name: started
      ? Array.from({ length: 1 + int(rnd, 3) }, () => NAME_PARTS[int(rnd, NAME_PARTS.length)]).join('')
      : '',
    peerUrls: Array.from({ length: int(rnd, 3) }, () => `http://127.0.0.1:${int(rnd, 65536)}`),
    clientUrls: started
      ? Array.from({ length: int(rnd, 3) }, () => `https://10.0.0.${int(rnd, 255)}:2379`)
      : [],
    isLearner: int(rnd, 3) === 0,
  };
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function unhex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

/**
 * A file of test/fixtures/<dir> (etcd34-snapshot: make-fixture.sh, etcd34-streams: capture.mjs),
 * found upwards from the compiled code.
 */
export function fixturePath(name: string, dir = 'etcd34-snapshot'): string {
  let at = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++, at = dirname(at)) {
    const p = join(at, 'test', 'fixtures', dir, name);
    if (existsSync(p)) return p;
  }
  throw new Error(`fixture ${dir}/${name} not found above ${fileURLToPath(import.meta.url)}`);
}

/** The captured streams of a real etcd 3.4 leader to its learner, and the two member ids. */
export function capturedStream(type: 'message' | 'msgapp'): {
  bytes: Uint8Array;
  leader: bigint;
  learner: bigint;
} {
  const ids = JSON.parse(readFileSync(fixturePath('ids.json', 'etcd34-streams'), 'utf8')) as {
    a: string;
    y: string;
  };
  return {
    bytes: new Uint8Array(readFileSync(fixturePath(`${type}-a-to-y.bin`, 'etcd34-streams'))),
    leader: BigInt(`0x${ids.a}`),
    learner: BigInt(`0x${ids.y}`),
  };
}
