// etcd 3.4's peer endpoint GET /members/hashkv (etcdserver/corrupt.go): the body is the JSON of
// a HashKVRequest ({"revision":N}), the answer the JSON of a HashKVResponse whose header holds
// only the revision. Members' corruption checks call it on each other, so etcd 3.4 members can
// check etcd-ts members and the other way round. JSON, not protobuf: etcd marshals with
// encoding/json here, field names as the protobuf json tags (compact_revision).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CanonicalHeader, hexId } from './constants.js';
import { httpError, methodNotAllowed, readBody } from './http-util.js';

export const PEER_HASHKV_PATH = '/members/hashkv';

export interface PeerHashKV {
  revision: number;
  hash: number;
  compactRevision: number;
}

export interface HashKvApi {
  clusterId(): bigint;
  /** HashKV at `revision` (0: current); throws with mvcc's error text for compacted/future. */
  hashKV(revision: number): Promise<PeerHashKV>;
}

/** Go's encoding/json of pb.HashKVRequest (omitempty: revision 0 is `{}`). */
export function encodeHashKvRequest(revision: number): string {
  return revision === 0 ? '{}' : JSON.stringify({ revision });
}

function intField(v: unknown, what: string): number {
  if (v === undefined) return 0; // omitempty
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new Error(`bad ${what} in hashkv JSON`);
  return v;
}

export function decodeHashKvRequest(body: string): number {
  const j: unknown = JSON.parse(body.trim() === '' ? '{}' : body);
  if (typeof j !== 'object' || j === null) throw new Error('not an object');
  return intField((j as { revision?: unknown }).revision, 'revision');
}

/** Go's encoding/json of pb.HashKVResponse with a header holding only the revision. */
export function encodeHashKvResponse(r: PeerHashKV): string {
  const header = r.revision === 0 ? {} : { revision: r.revision };
  const out: Record<string, unknown> = { header };
  if (r.hash !== 0) out.hash = r.hash;
  if (r.compactRevision !== 0) out.compact_revision = r.compactRevision;
  return JSON.stringify(out);
}

/** Reads hash, header.revision and compact_revision (member ids, if any, are not read). */
export function decodeHashKvResponse(body: string): PeerHashKV {
  const j = JSON.parse(body) as {
    header?: { revision?: unknown };
    hash?: unknown;
    compact_revision?: unknown;
  };
  const hash = intField(j.hash, 'hash');
  if (hash < 0 || hash > 0xffffffff) throw new Error('bad hash in hashkv JSON');
  return {
    revision: intField(j.header?.revision, 'revision'),
    hash,
    compactRevision: intField(j.compact_revision, 'compact_revision'),
  };
}

export class HashKvHttpHandler {
  constructor(private readonly api: HashKvApi) {}

  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (path !== PEER_HASHKV_PATH) return false;
    void this.serve(req, res);
    return true;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET') {
      req.resume();
      return methodNotAllowed(res, 'GET');
    }
    let revision: number;
    try {
      revision = decodeHashKvRequest((await readBody(req, 64 * 1024)).toString('utf8'));
    } catch {
      return httpError(res, 400, 'error unmarshalling request');
    }
    try {
      const r = await this.api.hashKV(revision);
      res.statusCode = 200;
      res.setHeader(CanonicalHeader.clusterId, hexId(this.api.clusterId()));
      res.setHeader('Content-Type', 'application/json');
      res.end(encodeHashKvResponse(r));
    } catch (err) {
      httpError(res, 400, err instanceof Error ? err.message : String(err));
    }
  }
}
