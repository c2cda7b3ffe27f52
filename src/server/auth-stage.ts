// The auth stage of the applier (etcd's authApplierV3): between the quota
// stage and the lease stage it refuses, at apply time, every KV and lease
// request whose sender (the entry's RequestHeader) lacks the permission -- on
// every member alike, since it is the committed entry that is checked -- and it
// applies the auth requests themselves to the auth store, persisting them in
// the backend's auth buckets in the same batch as the entry's index.
import {
  ADMIN_OPS,
  ANONYMOUS,
  type AuthInfo,
  type AuthOp,
  type AuthOutcome,
  type AuthStore,
  type AuthWrite,
  checkDeleteRangeRequest,
  checkTxnRequest,
  EMPTY_PERMISSION,
  type Now,
  type PasswordHasher,
  type TokenProvider,
} from '../auth/index.js';
import type { Lessor } from '../lease/index.js';
import type { Logger } from '../log/types.js';
import type { MvccStore } from '../mvcc/index.js';
import { DelegatingStage } from './apply-stages.js';
import type { InternalRequest, OpHandlers, OpRequests, OpResults } from './ops.js';

const NO_RANGE_END = new Uint8Array(0);

type AuthBackend = Pick<MvccStore, 'putAux' | 'deleteAux' | 'markApplied' | 'currentRevision'>;

export interface AuthStageDeps {
  store: AuthStore;
  tokens: TokenProvider;
  /** Only for entries from etcd 3.4 members, which carry a password but no hash. */
  hasher: PasswordHasher;
  backend: AuthBackend;
  lessor: Pick<Lessor, 'keysOf'>;
  /** The time tokens are issued at. */
  now(): Now;
  log: Logger;
}

export class AuthStage extends DelegatingStage {
  /** Who sent the request being applied (set by beforeApply, as etcd's applier keeps its authInfo). */
  private who: AuthInfo = ANONYMOUS;

  constructor(
    next: OpHandlers,
    private readonly d: AuthStageDeps,
  ) {
    super(next);
  }

  /** The applier's hook: the next request comes from `req.auth`. */
  readonly beforeApply = (req: InternalRequest): void => {
    this.who = req.auth ?? ANONYMOUS;
  };

  override put(i: number, r: OpRequests['put']): OpResults['put'] {
    const s = this.d.store;
    if (s.enabled) {
      s.checkPut(this.who, r.key);
      // A lease whose keys this user may not write cannot be revoked by it, so it may not attach to it either.
      this.checkLeaseKeys(r.lease);
      if (r.prevKv) s.checkRange(this.who, r.key, NO_RANGE_END);
    }
    return super.put(i, r);
  }

  override deleteRange(i: number, r: OpRequests['deleteRange']): OpResults['deleteRange'] {
    if (this.d.store.enabled) checkDeleteRangeRequest(this.d.store, this.who, r);
    return super.deleteRange(i, r);
  }

  override txn(i: number, r: OpRequests['txn']): OpResults['txn'] {
    if (this.d.store.enabled) checkTxnRequest(this.d.store, this.who, r);
    return super.txn(i, r);
  }

  /** Revoking a lease deletes its keys: the sender needs write on every one of them. */
  override leaseRevoke(i: number, r: OpRequests['leaseRevoke']): OpResults['leaseRevoke'] {
    if (this.d.store.enabled) this.checkLeaseKeys(r.ID);
    return super.leaseRevoke(i, r);
  }

  private checkLeaseKeys(lease: bigint): void {
    if (lease === 0n) return;
    for (const key of this.d.lessor.keysOf(lease)) this.d.store.checkPut(this.who, key);
  }

  override auth(i: number, op: OpRequests['auth']): OpResults['auth'] {
    const s = this.d.store;
    if (ADMIN_OPS.has(op.type)) s.checkAdmin(this.who);
    const out = this.applyAuth(i, op);
    this.d.backend.markApplied(i);
    return out;
  }

  private persist(writes: AuthWrite[]): void {
    for (const w of writes) {
      if (w.op === 'put') this.d.backend.putAux(w.bucket, w.key, w.value);
      else this.d.backend.deleteAux(w.bucket, w.key);
    }
  }

  /** The stored hash a password change or user add carries, or (from an etcd 3.4 member) computes. */
  private hashOf(hashedPassword: string, password: string): Uint8Array {
    if (hashedPassword !== '') return Buffer.from(hashedPassword, 'base64');
    this.d.log.info('hashing a password inside the apply loop (entry from an etcd 3.4 member)');
    return this.d.hasher.hashBlocking(password);
  }

  private applyAuth(index: number, op: AuthOp): AuthOutcome {
    const s = this.d.store;
    const revision = () => this.d.backend.currentRevision();
    const none = {};
    switch (op.type) {
      case 'authEnable':
        this.persist(s.enable());
        this.d.tokens.enable();
        this.d.log.info('enabled authentication');
        return { type: op.type, res: none, revision: revision() };
      case 'authDisable': {
        const writes = s.disable();
        this.persist(writes);
        if (writes.length > 0) {
          this.d.tokens.disable();
          this.d.log.info('disabled authentication');
        }
        return { type: op.type, res: none, revision: revision() };
      }
      case 'authenticate': {
        const { name, simpleToken } = op.req;
        s.checkAuthenticate(name);
        const issue = this.d.tokens.assign(simpleToken, index, name, s.revision, this.d.now);
        return { type: op.type, res: { issue }, revision: revision() };
      }
      case 'userAdd': {
        const noPassword = op.req.options?.noPassword === true;
        const hash = noPassword ? undefined : this.hashOf(op.req.hashedPassword, op.req.password);
        this.persist(s.userAdd(op.req.name, hash, noPassword));
        return { type: op.type, res: none, revision: revision() };
      }
      case 'userDelete':
        this.persist(s.userDelete(op.req.name));
        this.d.tokens.invalidateUser(op.req.name);
        return { type: op.type, res: none, revision: revision() };
      case 'userChangePassword':
        this.persist(s.userChangePassword(op.req.name, this.hashOf(op.req.hashedPassword, op.req.password)));
        this.d.tokens.invalidateUser(op.req.name);
        return { type: op.type, res: none, revision: revision() };
      case 'userGrantRole':
        this.persist(s.userGrantRole(op.req.user, op.req.role));
        return { type: op.type, res: none, revision: revision() };
      case 'userRevokeRole':
        this.persist(s.userRevokeRole(op.req.name, op.req.role));
        return { type: op.type, res: none, revision: revision() };
      case 'userGet':
        // Anyone may read their own user; others need root.
        if (op.req.name !== this.who.username) s.checkAdmin(this.who);
        return { type: op.type, res: { roles: s.userGet(op.req.name) }, revision: revision() };
      case 'userList':
        return { type: op.type, res: { users: s.userList() }, revision: revision() };
      case 'roleAdd':
        this.persist(s.roleAdd(op.req.name));
        return { type: op.type, res: none, revision: revision() };
      case 'roleDelete':
        this.persist(s.roleDelete(op.req.role));
        return { type: op.type, res: none, revision: revision() };
      case 'roleGet':
        // Anyone may read a role they hold; others need root.
        if (!s.hasRole(this.who.username, op.req.role)) s.checkAdmin(this.who);
        return { type: op.type, res: { perm: s.roleGet(op.req.role) }, revision: revision() };
      case 'roleList':
        return { type: op.type, res: { roles: s.roleList() }, revision: revision() };
      case 'roleGrantPermission':
        // etcd would crash on a grant without a permission; here it grants nothing readable.
        this.persist(s.roleGrantPermission(op.req.name, op.req.perm ?? EMPTY_PERMISSION));
        return { type: op.type, res: none, revision: revision() };
      case 'roleRevokePermission':
        this.persist(s.roleRevokePermission(op.req.role, op.req.key, op.req.rangeEnd));
        return { type: op.type, res: none, revision: revision() };
    }
  }
}
