import type { MemberListResponse } from '../../../pb/etcdserverpb/rpc.js';
import { humanBytes } from './humanize.js';
import type { DbStatus, EpHashKV, EpHealth, EpStatus } from './types.js';

/** Header and rows shared by the simple (comma-joined) and table printers. */
export interface Rows {
  header: string[];
  rows: string[][];
}

export function hex(id: bigint): string {
  return id.toString(16);
}

export function memberListRows(r: MemberListResponse): Rows {
  return {
    header: ['ID', 'Status', 'Name', 'Peer Addrs', 'Client Addrs', 'Is Learner'],
    rows: r.members.map((m) => [
      hex(m.ID),
      m.name.length === 0 ? 'unstarted' : 'started',
      m.name,
      m.peerURLs.join(','),
      m.clientURLs.join(','),
      String(m.isLearner),
    ]),
  };
}

export function endpointHealthRows(list: EpHealth[]): Rows {
  return {
    header: ['endpoint', 'health', 'took', 'error'],
    rows: list.map((h) => [h.ep, String(h.health), h.took, h.error]),
  };
}

export function endpointStatusRows(list: EpStatus[]): Rows {
  return {
    header: [
      'endpoint',
      'ID',
      'version',
      'db size',
      'is leader',
      'is learner',
      'raft term',
      'raft index',
      'raft applied index',
      'errors',
    ],
    rows: list.map(({ ep, resp }) => {
      const memberId = resp.header?.memberId ?? 0n;
      return [
        ep,
        hex(memberId),
        resp.version,
        humanBytes(resp.dbSize),
        String(resp.leader === memberId),
        String(resp.isLearner),
        String(resp.raftTerm),
        String(resp.raftIndex),
        String(resp.raftAppliedIndex),
        resp.errors.join(', '),
      ];
    }),
  };
}

export function endpointHashKVRows(list: EpHashKV[]): Rows {
  return { header: ['endpoint', 'hash'], rows: list.map((h) => [h.ep, String(h.resp.hash)]) };
}

export function dbStatusRows(s: DbStatus): Rows {
  return {
    header: ['hash', 'revision', 'total keys', 'total size'],
    rows: [[s.hash.toString(16), String(s.revision), String(s.totalKey), humanBytes(s.totalSize)]],
  };
}
