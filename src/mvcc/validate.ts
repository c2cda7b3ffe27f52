// Request checks etcd makes before proposing (its gRPC layer), exposed as pure
// functions so the server can reject bad requests without a raft round trip.
// MvccStore.txn also runs checkTxnDuplicates as an assertion before writing.

import { MvccError } from './errors.js';
import { unpackOp } from './request-op.js';
import { bytesToKey } from './tree-index.js';
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from './types.js';

/** etcd's default --max-txn-ops. */
export const DEFAULT_MAX_TXN_OPS = 128;

export function validateRangeRequest(r: RangeRequest): void {
  if (r.key.length === 0) throw new MvccError('empty-key');
}

export function validatePutRequest(r: PutRequest): void {
  if (r.key.length === 0) throw new MvccError('empty-key');
  if (r.ignoreValue && (r.value?.length ?? 0) !== 0) throw new MvccError('value-provided');
  const lease = r.lease ?? 0;
  if (r.ignoreLease && lease !== 0 && lease !== 0n) throw new MvccError('lease-provided');
}

export function validateDeleteRangeRequest(r: DeleteRangeRequest): void {
  if (r.key.length === 0) throw new MvccError('empty-key');
}

function validateOp(op: RequestOp, maxTxnOps: number): void {
  const u = unpackOp(op);
  // etcd answers an empty op with "key not found".
  if (u === undefined) throw new MvccError('key-not-found');
  if (u.kind === 'range') validateRangeRequest(u.req);
  else if (u.kind === 'put') validatePutRequest(u.req);
  else if (u.kind === 'deleteRange') validateDeleteRangeRequest(u.req);
  else validateTxnShape(u.req, maxTxnOps);
}

function validateTxnShape(r: TxnRequest, maxTxnOps: number): void {
  const compare = r.compare ?? [];
  const success = r.success ?? [];
  const failure = r.failure ?? [];
  const opc = Math.max(compare.length, success.length, failure.length);
  if (opc > maxTxnOps) throw new MvccError('too-many-ops');
  for (const c of compare) if (c.key.length === 0) throw new MvccError('empty-key');
  // As in etcd, a nested txn's budget is what its parent left over.
  for (const op of success) validateOp(op, maxTxnOps - opc);
  for (const op of failure) validateOp(op, maxTxnOps - opc);
}

/** All of etcd's pre-proposal txn checks, in its order: shape and sizes, then duplicate keys. */
export function validateTxnRequest(r: TxnRequest, maxTxnOps = DEFAULT_MAX_TXN_OPS): void {
  validateTxnShape(r, maxTxnOps);
  checkTxnDuplicates(r);
}

/** A deleted key range: [begin, end), or the single key `begin` when end is null. */
interface DeletedRange {
  begin: string;
  end: string | null;
}

function rangeCovers(d: DeletedRange, key: string): boolean {
  if (d.end === null) return key === d.begin;
  // Like etcd's interval tree, an end below begin (e.g. "\0" meaning "from key") covers nothing.
  return d.begin <= key && key < d.end;
}

function anyCovers(dels: DeletedRange[], key: string): boolean {
  return dels.some((d) => rangeCovers(d, key));
}

interface WriteSets {
  puts: Set<string>;
  dels: DeletedRange[];
}

function collectWrites(ops: RequestOp[]): WriteSets {
  const dels: DeletedRange[] = [];
  for (const op of ops) {
    const u = unpackOp(op);
    if (u?.kind !== 'deleteRange') continue;
    const end = u.req.rangeEnd;
    dels.push({ begin: bytesToKey(u.req.key), end: end && end.length > 0 ? bytesToKey(end) : null });
  }
  const puts = new Set<string>();
  for (const op of ops) {
    const u = unpackOp(op);
    if (u?.kind !== 'txn') continue;
    const then = collectWrites(u.req.success ?? []);
    const otherwise = collectWrites(u.req.failure ?? []);
    for (const k of then.puts) {
      if (puts.has(k) || anyCovers(dels, k)) throw new MvccError('duplicate-key');
      puts.add(k);
    }
    for (const k of otherwise.puts) {
      // The same key in both branches of one nested txn is fine: only one branch runs.
      if ((puts.has(k) && !then.puts.has(k)) || anyCovers(dels, k)) throw new MvccError('duplicate-key');
      puts.add(k);
    }
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const op of ops) {
    const u = unpackOp(op);
    if (u?.kind !== 'put') continue;
    const k = bytesToKey(u.req.key);
    if (puts.has(k) || anyCovers(dels, k)) throw new MvccError('duplicate-key');
    puts.add(k);
  }
  return { puts, dels };
}

/**
 * Rejects a txn whose branch writes one key twice: two puts, or a put inside a range the
 * same branch deletes (nested txns included). Success and failure are checked separately.
 */
export function checkTxnDuplicates(r: TxnRequest): void {
  collectWrites(r.success ?? []);
  collectWrites(r.failure ?? []);
}
