// Reads a RequestOp in either ts-proto oneof shape and builds ResponseOps that
// carry both shapes.

import type {
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from './types.js';

export type UnpackedOp =
  | { kind: 'range'; req: RangeRequest }
  | { kind: 'put'; req: PutRequest }
  | { kind: 'deleteRange'; req: DeleteRangeRequest }
  | { kind: 'txn'; req: TxnRequest };

/** The op's request, or undefined for an empty op. */
export function unpackOp(op: RequestOp): UnpackedOp | undefined {
  const u = op.request;
  if (u !== undefined) {
    switch (u.$case) {
      case 'requestRange':
        return { kind: 'range', req: u.requestRange };
      case 'requestPut':
        return { kind: 'put', req: u.requestPut };
      case 'requestDeleteRange':
        return { kind: 'deleteRange', req: u.requestDeleteRange };
      case 'requestTxn':
        return { kind: 'txn', req: u.requestTxn };
    }
  }
  if (op.requestRange) return { kind: 'range', req: op.requestRange };
  if (op.requestPut) return { kind: 'put', req: op.requestPut };
  if (op.requestDeleteRange) return { kind: 'deleteRange', req: op.requestDeleteRange };
  if (op.requestTxn) return { kind: 'txn', req: op.requestTxn };
  return undefined;
}

export function rangeOp(r: RangeResponse): ResponseOp {
  return { response: { $case: 'responseRange', responseRange: r }, responseRange: r };
}

export function putOp(r: PutResponse): ResponseOp {
  return { response: { $case: 'responsePut', responsePut: r }, responsePut: r };
}

export function deleteRangeOp(r: DeleteRangeResponse): ResponseOp {
  return { response: { $case: 'responseDeleteRange', responseDeleteRange: r }, responseDeleteRange: r };
}

export function txnOp(r: TxnResponse): ResponseOp {
  return { response: { $case: 'responseTxn', responseTxn: r }, responseTxn: r };
}

/** True when no op anywhere in the txn (either branch, any depth) writes. */
export function isTxnReadOnly(req: TxnRequest): boolean {
  const ops = [...(req.success ?? []), ...(req.failure ?? [])];
  return ops.every((op) => {
    const u = unpackOp(op);
    if (u === undefined || u.kind === 'range') return true;
    if (u.kind === 'txn') return isTxnReadOnly(u.req);
    return false;
  });
}
