// Applying a committed v2 request to the member's v2 store, with the member's
// wall clock (its injected Clock's now()) for the TTLs the answer shows (etcd's
// applier reads its clock the same way).
import { applyV2Request, nsFromMs, type V2ApplyResult, type V2Store } from '../../v2store/index.js';
import type { V2Request } from './request.js';

export function applyV2ToStore(store: V2Store, req: V2Request, nowMs: number): V2ApplyResult {
  return applyV2Request(store, req, nsFromMs(nowMs));
}
