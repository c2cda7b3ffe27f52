// The member-level endpoints of the peer port (etcd's etcdhttp peer handler
// and leasehttp): the member list a joining member bootstraps from, version
// negotiation, learner promotion forwarded by followers, and the lease calls
// followers forward to the leader.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import {
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
} from '../pb/etcdserverpb/rpc.js';
import { CanonicalHeader, hexId } from './constants.js';
import { httpError, methodNotAllowed, readBody } from './http-util.js';

/** An error a peer endpoint answers with its own status and etcd's text. */
export class PeerHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'PeerHttpError';
  }
}

export interface PeerMemberApi {
  clusterId(): bigint;
  /** The `GET /members` body: etcd's member JSON array, sorted by id. */
  membersJson(): string;
  /** The `GET /version` body. */
  versionJson(): string;
  /** Promotes a learner (this member is the leader); resolves with the members JSON after it. */
  promote(id: bigint): Promise<string>;
  /** A keep-alive forwarded by a follower: the lease's new TTL (throws PeerHttpError). */
  leaseRenew(id: bigint): Promise<number>;
  leaseTimeToLive(req: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse>;
}

const MAX_LEASE_BODY = 64 * 1024;

export class MemberHttpHandler {
  constructor(private readonly api: PeerMemberApi) {}

  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (path === '/members') {
      if (req.method !== 'GET') methodNotAllowed(res, 'GET');
      else this.json(res, this.api.membersJson(), true);
      return true;
    }
    if (path.startsWith('/members/promote/')) {
      void this.promote(req, res, path.slice('/members/promote/'.length));
      return true;
    }
    if (path === '/version') {
      if (req.method !== 'GET') methodNotAllowed(res, 'GET');
      else this.json(res, this.api.versionJson(), false);
      return true;
    }
    if (path === '/leases' || path === '/leases/internal') {
      void this.lease(req, res, path === '/leases/internal');
      return true;
    }
    return false;
  }

  private json(res: ServerResponse, body: string, withCluster: boolean): void {
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json');
    if (withCluster) res.setHeader(CanonicalHeader.clusterId, hexId(this.api.clusterId()));
    res.end(body);
  }

  private async promote(req: IncomingMessage, res: ServerResponse, idText: string): Promise<void> {
    if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
    req.resume();
    if (!/^\d{1,20}$/.test(idText) || BigInt(idText) >= 1n << 64n) {
      return httpError(res, 404, `member ${idText} not found in cluster`);
    }
    try {
      this.json(res, await this.api.promote(BigInt(idText)), true);
    } catch (err) {
      if (err instanceof PeerHttpError) return httpError(res, err.status, err.message);
      httpError(res, 500, (err as Error).message);
    }
  }

  private async lease(req: IncomingMessage, res: ServerResponse, internal: boolean): Promise<void> {
    // etcd's lease handler answers a wrong method without an Allow header.
    if (req.method !== 'POST') return httpError(res, 405, 'method not allowed');
    let body: Buffer;
    try {
      body = await readBody(req, MAX_LEASE_BODY);
    } catch {
      return httpError(res, 400, 'error reading body');
    }
    try {
      const out = internal ? await this.timeToLive(body) : await this.renew(body);
      res.statusCode = 200;
      res.setHeader('Content-Type', 'application/protobuf');
      res.end(out);
    } catch (err) {
      if (err instanceof PeerHttpError) return httpError(res, err.status, err.message);
      httpError(res, 400, (err as Error).message);
    }
  }

  private async renew(body: Buffer): Promise<Uint8Array> {
    let req: LeaseKeepAliveRequest;
    try {
      req = LeaseKeepAliveRequest.decode(body);
    } catch {
      throw new PeerHttpError(400, 'error unmarshalling request');
    }
    const ttl = await this.api.leaseRenew(req.ID);
    return LeaseKeepAliveResponse.encode({ header: undefined, ID: req.ID, TTL: ttl }).finish();
  }

  private async timeToLive(body: Buffer): Promise<Uint8Array> {
    let inner: LeaseTimeToLiveRequest;
    try {
      inner = decodeLeaseInternalRequest(body);
    } catch {
      throw new PeerHttpError(400, 'error unmarshalling request');
    }
    const resp = await this.api.leaseTimeToLive(inner);
    return encodeLeaseInternalResponse(resp);
  }
}

/** leasepb.LeaseInternalRequest { LeaseTimeToLiveRequest = 1 }. */
export function decodeLeaseInternalRequest(b: Uint8Array): LeaseTimeToLiveRequest {
  const r = new BinaryReader(b);
  let inner: LeaseTimeToLiveRequest | undefined;
  while (r.pos < r.len) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === WireType.LengthDelimited) inner = LeaseTimeToLiveRequest.decode(r.bytes());
    else r.skip(wt);
  }
  if (inner === undefined) throw new Error('LeaseInternalRequest without a request');
  return inner;
}

export function encodeLeaseInternalRequest(req: LeaseTimeToLiveRequest): Uint8Array {
  const w = new BinaryWriter();
  LeaseTimeToLiveRequest.encode(req, w.tag(1, WireType.LengthDelimited).fork()).join();
  return w.finish();
}

/** leasepb.LeaseInternalResponse { LeaseTimeToLiveResponse = 1 }. */
export function encodeLeaseInternalResponse(resp: LeaseTimeToLiveResponse): Uint8Array {
  const w = new BinaryWriter();
  LeaseTimeToLiveResponse.encode(resp, w.tag(1, WireType.LengthDelimited).fork()).join();
  return w.finish();
}

export function decodeLeaseInternalResponse(b: Uint8Array): LeaseTimeToLiveResponse {
  const r = new BinaryReader(b);
  let inner: LeaseTimeToLiveResponse | undefined;
  while (r.pos < r.len) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === WireType.LengthDelimited) inner = LeaseTimeToLiveResponse.decode(r.bytes());
    else r.skip(wt);
  }
  if (inner === undefined) throw new Error('LeaseInternalResponse without a response');
  return inner;
}
