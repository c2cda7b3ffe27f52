// etcd 3.4's corruption checks (etcdserver/corrupt.go), same rules and log lines:
// - --experimental-initial-corrupt-check: before a restarted member serves, its HashKV at its
//   current revision is compared with every peer's at that revision; a different hash at the
//   same compact revision refuses the start ("<id> found data inconsistency with peers").
// - --experimental-corrupt-check-time: the leader periodically compares its HashKV with the
//   peers'; a mismatch raises the CORRUPT alarm through raft. Like etcd 3.4.23 it raises it for
//   member 0: which member is wrong is not decided by one comparison.
// - While CORRUPT is raised, writes fail with "etcdserver: corrupt cluster" (CorruptStage),
//   before auth and quota, as etcd swaps its whole applier for applierV3Corrupt.
// Peers are asked over the peer port's GET /members/hashkv (peer/hashkv-handler.ts).
import http from 'node:http';
import https from 'node:https';
import type { Logger } from '../log/types.js';
import { AlarmType } from '../pb/etcdserverpb/rpc.js';
import type { PeerDialTls } from '../peer/context.js';
import {
  decodeHashKvResponse,
  encodeHashKvRequest,
  PEER_HASHKV_PATH,
  type PeerHashKV,
} from '../peer/hashkv-handler.js';
import { readSmall } from '../peer/http-util.js';
import type { Clock, Timer } from '../runtime/clock.js';
import type { AlarmApplier } from './alarms.js';
import { DelegatingStage } from './apply-stages.js';
import { Errors } from './errors.js';
import type { OpHandlers, OpRequests, OpResults } from './ops.js';

const COMPACTED = 'mvcc: required revision has been compacted';
const FUTURE_REV = 'mvcc: required revision is a future revision';

/** Why a peer gave no hash: the two answers etcd tells apart, or anything else. */
export class PeerHashKvError extends Error {
  constructor(
    readonly kind: 'compacted' | 'future-rev' | 'other',
    message: string,
  ) {
    super(message);
    this.name = 'PeerHashKvError';
  }
}

/** GET <peerUrl>/members/hashkv with the request as the body, as etcd's getPeerHashKVHTTP. */
export function fetchPeerHashKV(
  peerUrl: string,
  revision: number,
  timeoutMs: number,
  tls?: PeerDialTls,
): Promise<PeerHashKV> {
  const url = new URL(PEER_HASHKV_PATH, peerUrl);
  const body = encodeHashKvRequest(revision);
  return new Promise((resolve, reject) => {
    const opts: http.RequestOptions = {
      method: 'GET',
      timeout: timeoutMs,
      agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    };
    const onRes = (res: http.IncomingMessage) => {
      void readSmall(res, 64 * 1024).then((text) => {
        const status = res.statusCode ?? 0;
        if (status === 400 && text.includes(COMPACTED)) reject(new PeerHashKvError('compacted', COMPACTED));
        else if (status === 400 && text.includes(FUTURE_REV))
          reject(new PeerHashKvError('future-rev', FUTURE_REV));
        else if (status !== 200) reject(new PeerHashKvError('other', `unknown error: ${text}`));
        else {
          try {
            resolve(decodeHashKvResponse(text));
          } catch (err) {
            reject(new PeerHashKvError('other', (err as Error).message));
          }
        }
      });
    };
    const req =
      url.protocol === 'https:'
        ? https.request(url, { ...(tls?.(url.hostname) ?? {}), ...opts }, onRes)
        : http.request(url, opts, onRes);
    req.on('timeout', () => req.destroy(new Error('context deadline exceeded')));
    req.on('error', (err) =>
      reject(err instanceof PeerHashKvError ? err : new PeerHashKvError('other', err.message)),
    );
    req.end(body);
  });
}

export interface CorruptCheckDeps {
  memberId: bigint;
  clock: Clock;
  log: Logger;
  requestTimeoutMs: number;
  /** This member's HashKV at its current revision (etcd's HashByRev(0)). */
  localHash(): Promise<PeerHashKV>;
  /** The other members and their peer URLs. */
  peers(): { id: bigint; peerUrls: readonly string[] }[];
  /** One peer URL's HashKV at `revision` (throws PeerHashKvError). */
  fetch(peerUrl: string, revision: number, timeoutMs: number): Promise<PeerHashKV>;
  isLeader(): boolean;
  /** Waits until this member has applied everything committed (etcd's linearizableReadNotify). */
  linearizableBarrier(): Promise<void>;
  /** Proposes Alarm ACTIVATE CORRUPT for member 0. */
  raiseCorrupt(): Promise<unknown>;
}

interface PeerAnswer {
  id: bigint;
  urls: readonly string[];
  resp?: PeerHashKV;
  err?: unknown;
}

const hex = (id: bigint) => id.toString(16);

export class CorruptChecker {
  private timer: Timer | undefined;
  private running = false;

  constructor(private readonly d: CorruptCheckDeps) {}

  /** CheckInitialHashKV: throws "<id> found data inconsistency with peers" on a mismatch. */
  async initialCheck(): Promise<void> {
    const { log, memberId } = this.d;
    const local = hex(memberId);
    log.info('starting initial corruption check', {
      'local-member-id': local,
      timeout: `${this.d.requestTimeoutMs / 1000}s`,
    });
    const mine = await this.d.localHash();
    const answers = await this.askPeers(mine.revision);
    let mismatch = 0;
    for (const p of answers) {
      const base = {
        'local-member-id': local,
        'local-member-revision': mine.revision,
        'local-member-compact-revision': mine.compactRevision,
        'local-member-hash': mine.hash,
      };
      if (p.resp !== undefined) {
        const fields = {
          ...base,
          // etcd reads the peer id from the answer's header, which its handler leaves at 0.
          'remote-peer-id': '0',
          'remote-peer-endpoints': [...p.urls],
          'remote-peer-revision': p.resp.revision,
          'remote-peer-compact-revision': p.resp.compactRevision,
          'remote-peer-hash': p.resp.hash,
        };
        if (mine.hash !== p.resp.hash) {
          if (mine.compactRevision === p.resp.compactRevision) {
            log.warn('found different hash values from remote peer', fields);
            mismatch++;
          } else {
            log.warn('found different compact revision values from remote peer', fields);
          }
        }
        continue;
      }
      const peerFields = { ...base, 'remote-peer-id': hex(p.id), 'remote-peer-endpoints': [...p.urls] };
      const kind = p.err instanceof PeerHashKvError ? p.err.kind : 'other';
      if (kind === 'future-rev') log.warn('cannot fetch hash from slow remote peer', peerFields);
      if (kind === 'compacted')
        log.warn('cannot fetch hash from remote peer; local member is behind', peerFields);
    }
    if (mismatch > 0) throw new Error(`${local} found data inconsistency with peers`);
    log.info('initial corruption checking passed; no corruption', { 'local-member-id': local });
  }

  /** monitorKVHash: every `intervalMs`, the leader compares hashes. */
  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.timer !== undefined) return;
    this.d.log.info('enabled corruption checking', {
      'local-member-id': hex(this.d.memberId),
      interval: `${intervalMs / 1000}s`,
    });
    this.timer = this.d.clock.every(
      intervalMs,
      () => {
        if (this.running || !this.d.isLeader()) return;
        this.running = true;
        this.check()
          .catch((err: unknown) => this.d.log.warn('failed to check hash KV', { error: String(err) }))
          .finally(() => {
            this.running = false;
          });
      },
      { unref: true },
    );
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** checkHashKV: one comparison of the leader's hash with every peer's. */
  async check(): Promise<void> {
    const { log } = this.d;
    const first = await this.d.localHash();
    const answers = await this.askPeers(first.revision);
    await this.d.linearizableBarrier();
    const second = await this.d.localHash();

    let alarmed = false;
    const mismatch = () => {
      if (alarmed) return;
      alarmed = true;
      void this.d
        .raiseCorrupt()
        .catch((err: unknown) => log.warn('failed to raise the CORRUPT alarm', { error: String(err) }));
    };
    if (
      second.hash !== first.hash &&
      second.revision === first.revision &&
      second.compactRevision === first.compactRevision
    ) {
      log.warn('found hash mismatch', {
        'revision-1': first.revision,
        'compact-revision-1': first.compactRevision,
        'hash-1': first.hash,
        'revision-2': second.revision,
        'compact-revision-2': second.compactRevision,
        'hash-2': second.hash,
      });
      mismatch();
    }
    let checked = 0;
    for (const p of answers) {
      if (p.resp === undefined) continue;
      checked++;
      const peer = hex(p.id);
      if (p.resp.revision > second.revision) {
        log.warn("revision from follower must be less than or equal to leader's", {
          'leader-revision': second.revision,
          'follower-revision': p.resp.revision,
          'follower-peer-id': peer,
        });
        mismatch();
      }
      if (p.resp.compactRevision > second.compactRevision) {
        log.warn("compact revision from follower must be less than or equal to leader's", {
          'leader-compact-revision': second.compactRevision,
          'follower-compact-revision': p.resp.compactRevision,
          'follower-peer-id': peer,
        });
        mismatch();
      }
      if (p.resp.compactRevision === first.compactRevision && p.resp.hash !== first.hash) {
        log.warn('same compact revision then hashes must match', {
          'leader-compact-revision': second.compactRevision,
          'leader-hash': first.hash,
          'follower-compact-revision': p.resp.compactRevision,
          'follower-hash': p.resp.hash,
          'follower-peer-id': peer,
        });
        mismatch();
      }
    }
    log.info('finished peer corruption check', { 'number-of-peers-checked': checked });
  }

  /** getPeerHashKVs: each peer's URLs in turn until one answers. */
  private async askPeers(revision: number): Promise<PeerAnswer[]> {
    const out: PeerAnswer[] = [];
    for (const p of this.d.peers()) {
      if (p.id === this.d.memberId || p.peerUrls.length === 0) continue;
      let last: unknown;
      let resp: PeerHashKV | undefined;
      for (const url of p.peerUrls) {
        try {
          resp = await this.d.fetch(url, revision, this.d.requestTimeoutMs);
          break;
        } catch (err) {
          last = err;
          this.d.log.warn('failed hash kv request', {
            'local-member-id': hex(this.d.memberId),
            'requested-revision': revision,
            'remote-peer-endpoint': url,
            error: err instanceof Error ? err.message : String(err),
          });
        }
      }
      out.push(
        resp === undefined ? { id: p.id, urls: p.peerUrls, err: last } : { id: p.id, urls: p.peerUrls, resp },
      );
    }
    return out;
  }
}

/**
 * CORRUPT raised: puts, deletes, txns, compactions and lease grants/revokes fail with etcd's
 * "etcdserver: corrupt cluster" (applierV3Corrupt). The outermost stage: etcd replaces the whole
 * applier chain, auth and quota included.
 */
export class CorruptStage extends DelegatingStage {
  constructor(
    next: OpHandlers,
    private readonly alarms: AlarmApplier,
  ) {
    super(next);
  }
  private refuseWhenCorrupt(): void {
    if (this.alarms.has(AlarmType.CORRUPT)) throw Errors.corrupt();
  }
  override put(i: number, r: OpRequests['put']): OpResults['put'] {
    this.refuseWhenCorrupt();
    return super.put(i, r);
  }
  override deleteRange(i: number, r: OpRequests['deleteRange']): OpResults['deleteRange'] {
    this.refuseWhenCorrupt();
    return super.deleteRange(i, r);
  }
  override txn(i: number, r: OpRequests['txn']): OpResults['txn'] {
    this.refuseWhenCorrupt();
    return super.txn(i, r);
  }
  override compaction(i: number, r: OpRequests['compaction']): OpResults['compaction'] {
    this.refuseWhenCorrupt();
    return super.compaction(i, r);
  }
  override leaseGrant(i: number, r: OpRequests['leaseGrant']): OpResults['leaseGrant'] {
    this.refuseWhenCorrupt();
    return super.leaseGrant(i, r);
  }
  override leaseRevoke(i: number, r: OpRequests['leaseRevoke']): OpResults['leaseRevoke'] {
    this.refuseWhenCorrupt();
    return super.leaseRevoke(i, r);
  }
}
