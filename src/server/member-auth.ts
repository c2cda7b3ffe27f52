// The Auth service's view of a member, and the member's authentication of
// every other call: tokens and certificate names become an AuthInfo
// (identify), auth requests are proposed through raft with the caller's
// AuthInfo in their header and applied by the auth stage (auth-stage.ts) on
// every member, passwords are hashed and checked off the event loop before
// anything is proposed, and reads served without raft (ranges, read-only
// txns) are checked here, as etcd checks them in its server (doSerialize).
import { randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  ANONYMOUS,
  AUTH_BUCKET,
  AUTH_ROLES_BUCKET,
  AUTH_USERS_BUCKET,
  type AuthInfo,
  type AuthOp,
  type AuthOpResults,
  type AuthOpType,
  type AuthOutcome,
  AuthStore,
  authError,
  bcryptHasher,
  checkRangeRequest,
  checkTxnRequest,
  checkWatchCreate,
  JwtTokens,
  type Now,
  type PasswordHasher,
  parseAuthTokenOption,
  parseJwtOptions,
  ROOT_USER,
  resultOf,
  SimpleTokens,
  TokenProvider,
} from '../auth/index.js';
import type { Lessor } from '../lease/index.js';
import type { Logger } from '../log/types.js';
import type { MvccStore } from '../mvcc/index.js';
import type {
  AuthenticateRequest,
  AuthenticateResponse,
  AuthRoleAddRequest,
  AuthRoleDeleteRequest,
  AuthRoleGetRequest,
  AuthRoleGetResponse,
  AuthRoleGrantPermissionRequest,
  AuthRoleListResponse,
  AuthRoleRevokePermissionRequest,
  AuthUserAddRequest,
  AuthUserChangePasswordRequest,
  AuthUserDeleteRequest,
  AuthUserGetRequest,
  AuthUserGetResponse,
  AuthUserGrantRoleRequest,
  AuthUserListResponse,
  AuthUserRevokeRoleRequest,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  TxnRequest,
  TxnResponse,
} from '../pb/etcdserverpb/rpc.js';
import type { Clock, Timer } from '../runtime/clock.js';
import { AuthStage } from './auth-stage.js';
import type { InternalOp, InternalRequest, OpHandlers, ResultOf } from './ops.js';
import type { AuthPort, AuthStatus, KvPort } from './ports.js';
import { isTxnReadOnly } from './read-txn.js';

/** etcd sweeps expired simple tokens once a second. */
const SIMPLE_TOKEN_SWEEP_MS = 1000;

type AuthStoreBackend = Pick<MvccStore, 'scanAux' | 'putAux'>;

export interface MemberAuthConfig {
  /** --auth-token */
  authToken: string;
  /** --auth-token-ttl (simple tokens) */
  authTokenTtlSeconds: number;
  /** --bcrypt-cost */
  bcryptCost: number;
}

export interface MemberAuthDeps {
  cfg: MemberAuthConfig;
  backend: AuthStoreBackend;
  log: Logger;
  clock: Clock;
  propose<O extends InternalOp>(op: O, who?: AuthInfo): Promise<ResultOf<O>>;
  header(revision: number): ResponseHeader;
  currentRevision(): number;
  /** Returns once everything committed before the call is applied here (ReadIndex). */
  linearizableBarrier(): Promise<void>;
  appliedIndex(): number;
  /** Resolves once entry `index` is applied here; rejects after a while. */
  waitApplied(index: number): Promise<void>;
  /** Overrides for tests: the password hasher and the random source of simple tokens. */
  hasher?: PasswordHasher;
  randomBytes?: (n: number) => Uint8Array;
}

/** The token provider --auth-token asks for; key files are read here, once, at start-up. */
export function tokenProviderFromConfig(cfg: MemberAuthConfig, log: Logger): TokenProvider {
  const opts = parseAuthTokenOption(cfg.authToken);
  switch (opts.type) {
    case 'simple':
      log.warn('simple token is not cryptographically signed');
      return TokenProvider.simple(new SimpleTokens(cfg.authTokenTtlSeconds * 1000));
    case 'none':
      return TokenProvider.none();
    case 'jwt': {
      const jwt = parseJwtOptions(opts.options);
      if (jwt.unknown.length > 0) log.warn('unknown JWT options', { keys: jwt.unknown });
      const read = (file: string): Uint8Array | undefined => {
        if (file === '') return undefined;
        try {
          return readFileSync(file);
        } catch {
          throw authError('invalidAuthOpts');
        }
      };
      const keys = {
        ...(jwt.publicKeyFile === '' ? {} : { publicKeyPem: read(jwt.publicKeyFile) }),
        ...(jwt.privateKeyFile === '' ? {} : { privateKeyPem: read(jwt.privateKeyFile) }),
      };
      return TokenProvider.jwt(JwtTokens.create(jwt, keys));
    }
  }
}

export class MemberAuth implements AuthPort {
  readonly store: AuthStore;
  readonly tokens: TokenProvider;
  private readonly hasher: PasswordHasher;
  private readonly random: (n: number) => Uint8Array;
  private sweeper: Timer | undefined;
  private stage_: AuthStage | undefined;

  constructor(private readonly d: MemberAuthDeps) {
    this.tokens = tokenProviderFromConfig(d.cfg, d.log);
    this.hasher = d.hasher ?? bcryptHasher(d.cfg.bcryptCost);
    this.random = d.randomBytes ?? ((n) => randomFillSync(new Uint8Array(n)));
    this.store = this.loadStore();
  }

  /** The auth buckets as the backend holds them (a fresh backend gets etcd's revision 1). */
  private loadStore(): AuthStore {
    const b = this.d.backend;
    const store = AuthStore.restore(this.buckets());
    for (const w of store.initialWrites()) if (w.op === 'put') b.putAux(w.bucket, w.key, w.value);
    if (store.enabled) this.tokens.enable();
    return store;
  }

  private buckets() {
    const b = this.d.backend;
    return {
      auth: b.scanAux(AUTH_BUCKET),
      users: b.scanAux(AUTH_USERS_BUCKET),
      roles: b.scanAux(AUTH_ROLES_BUCKET),
    };
  }

  /** Reloads users, roles and the flags after a snapshot replaced the backend (etcd's authStore.Recover). */
  recover(): void {
    this.store.reload(this.buckets());
    if (this.store.enabled) this.tokens.enable();
    else this.tokens.disable();
  }

  /** The applier's auth stage, in front of `next` (etcd: quota → auth → lease → store). */
  stage(
    next: OpHandlers,
    lessor: Pick<Lessor, 'keysOf'>,
    backend: ConstructorParameters<typeof AuthStage>[1]['backend'],
  ): AuthStage {
    this.stage_ = new AuthStage(next, {
      store: this.store,
      tokens: this.tokens,
      hasher: this.hasher,
      backend,
      lessor,
      now: () => this.now(),
      log: this.d.log,
    });
    return this.stage_;
  }

  /** The applier's hook before each request. */
  beforeApply(req: InternalRequest): void {
    this.stage_?.beforeApply(req);
  }

  start(): void {
    this.sweeper = this.d.clock.every(
      SIMPLE_TOKEN_SWEEP_MS,
      () => this.tokens.sweep(this.d.clock.monotonic()),
      { unref: true },
    );
  }

  stop(): void {
    this.sweeper?.cancel();
  }

  /** What the leader revokes expired leases as: root at the current revision while auth is on (etcd's WithRoot). */
  rootCredentials(): AuthInfo | undefined {
    return this.store.enabled ? { username: ROOT_USER, revision: this.store.revision } : undefined;
  }

  // ---- identities and checks ------------------------------------------------

  async identify(creds: {
    token?: string | undefined;
    commonName?: string | undefined;
  }): Promise<AuthInfo | undefined> {
    if (creds.token !== undefined) {
      const who = await this.tokenInfo(creds.token);
      if (who === undefined) {
        this.d.log.warn('invalid auth token', { token: creds.token });
        throw authError('invalidAuthToken');
      }
      return who;
    }
    if (creds.commonName !== undefined && creds.commonName !== '') {
      return { username: creds.commonName, revision: this.store.revision };
    }
    return undefined;
  }

  private async tokenInfo(token: string): Promise<AuthInfo | undefined> {
    if (this.tokens.kind === 'simple') {
      // A simple token names the entry that issued it: wait until this member has applied it.
      const index = this.tokens.indexOf(token);
      if (index === undefined || index < 0) return undefined;
      if (index > this.d.appliedIndex()) {
        try {
          await this.d.waitApplied(index);
        } catch {
          return undefined;
        }
      }
    }
    return this.tokens.info(token, this.now(), this.store.revision);
  }

  private now(): Now {
    return { wallMs: this.d.clock.now(), monoMs: this.d.clock.monotonic() };
  }

  isEnabled(): boolean {
    return this.store.enabled;
  }

  checkAdmin(who: AuthInfo | undefined): void {
    this.store.checkAdmin(who);
  }

  checkWatch(who: AuthInfo | undefined, key: Uint8Array, rangeEnd: Uint8Array): void {
    checkWatchCreate(this.store, who ?? ANONYMOUS, key, rangeEnd);
  }

  /**
   * Reads served without raft, checked as etcd's doSerialize checks them:
   * permission first, then the read, then whether the auth store changed
   * meanwhile (the credentials' revision must still be the store's).
   */
  guardReads(kv: KvPort): KvPort {
    const serialize = async <T>(
      who: AuthInfo | undefined,
      check: (ai: AuthInfo) => void,
      read: () => Promise<T>,
    ): Promise<T> => {
      const ai = who ?? ANONYMOUS;
      check(ai);
      const out = await read();
      if (ai.revision !== 0 && ai.revision !== this.store.revision) throw authError('authOldRevision');
      return out;
    };
    // Auth off and no credentials (the common case): nothing to check, not even an extra await.
    const unchecked = (who: AuthInfo | undefined) => who === undefined && !this.store.enabled;
    return {
      range: (req: RangeRequest, who?: AuthInfo): Promise<RangeResponse> =>
        unchecked(who)
          ? kv.range(req)
          : serialize(
              who,
              (ai) => checkRangeRequest(this.store, ai, req),
              () => kv.range(req, who),
            ),
      txn: (req: TxnRequest, who?: AuthInfo): Promise<TxnResponse> => {
        if (unchecked(who) || !isTxnReadOnly(req)) return kv.txn(req, who);
        return serialize(
          who,
          (ai) => checkTxnRequest(this.store, ai, req),
          () => kv.txn(req, who),
        );
      },
      put: (req, who) => kv.put(req, who),
      deleteRange: (req, who) => kv.deleteRange(req, who),
      compact: (req, who) => kv.compact(req, who),
    };
  }

  // ---- the Auth service -------------------------------------------------------

  private async apply<K extends AuthOpType>(
    op: Extract<AuthOp, { type: K }>,
    who: AuthInfo | undefined,
  ): Promise<{ res: AuthOpResults[K]; header: ResponseHeader }> {
    const out: AuthOutcome = await this.d.propose({ kind: 'auth', req: op }, who);
    return { res: resultOf(out, op.type as K), header: this.d.header(out.revision) };
  }

  async authEnable(who?: AuthInfo) {
    const { header } = await this.apply({ type: 'authEnable', req: {} }, who);
    return { header };
  }

  async authDisable(who?: AuthInfo) {
    const { header } = await this.apply({ type: 'authDisable', req: {} }, who);
    return { header };
  }

  /** etcd 3.5's AuthStatus, answered after a linearizable barrier (no raft entry: 3.4 members could not apply one). */
  async authStatus(): Promise<AuthStatus> {
    await this.d.linearizableBarrier();
    return {
      header: this.d.header(this.d.currentRevision()),
      enabled: this.store.enabled,
      authRevision: this.store.revision,
    };
  }

  async authenticate(
    req: AuthenticateRequest,
    identify: () => Promise<AuthInfo | undefined>,
  ): Promise<AuthenticateResponse> {
    await this.d.linearizableBarrier();
    for (;;) {
      const { hash, revision } = this.store.passwordOf(req.name);
      if (!(await this.hasher.verify(req.password, hash))) {
        this.d.log.info('invalid password', { 'user-name': req.name });
        throw authError('authFailed');
      }
      // The password is checked: the entry carries only the name (no password in the log).
      const simpleToken = this.tokens.prefix(this.random);
      const who = await identify();
      const { res, header } = await this.apply(
        { type: 'authenticate', req: { name: req.name, password: '', simpleToken } },
        who,
      );
      // A password changed while this one was being checked: check again.
      if (revision === this.store.revision) return { header, token: await res.issue() };
      this.d.log.info('revision when password checked became stale; retrying');
    }
  }

  /**
   * The bcrypt hash for a user add or password change, computed before
   * proposing (never in the apply loop). Only root may change users, so the
   * cost is not spent for anyone else (the auth stage checks again on apply).
   */
  private async hashFor(password: string, who: AuthInfo | undefined): Promise<string> {
    this.store.checkAdmin(who);
    return Buffer.from(await this.hasher.hash(password)).toString('base64');
  }

  async userAdd(req: AuthUserAddRequest, who?: AuthInfo) {
    const noPassword = req.options?.noPassword === true;
    const hashedPassword = noPassword || req.name === '' ? '' : await this.hashFor(req.password, who);
    const { header } = await this.apply({ type: 'userAdd', req: { ...req, hashedPassword } }, who);
    return { header };
  }

  async userChangePassword(req: AuthUserChangePasswordRequest, who?: AuthInfo) {
    const hashedPassword = await this.hashFor(req.password, who);
    const { header } = await this.apply({ type: 'userChangePassword', req: { ...req, hashedPassword } }, who);
    return { header };
  }

  async userGet(req: AuthUserGetRequest, who?: AuthInfo): Promise<AuthUserGetResponse> {
    const { res, header } = await this.apply({ type: 'userGet', req }, who);
    return { header, roles: res.roles };
  }

  async userList(who?: AuthInfo): Promise<AuthUserListResponse> {
    const { res, header } = await this.apply({ type: 'userList', req: {} }, who);
    return { header, users: res.users };
  }

  async userDelete(req: AuthUserDeleteRequest, who?: AuthInfo) {
    const { header } = await this.apply({ type: 'userDelete', req }, who);
    return { header };
  }

  async userGrantRole(req: AuthUserGrantRoleRequest, who?: AuthInfo) {
    const { header } = await this.apply({ type: 'userGrantRole', req }, who);
    return { header };
  }

  async userRevokeRole(req: AuthUserRevokeRoleRequest, who?: AuthInfo) {
    const { header } = await this.apply({ type: 'userRevokeRole', req }, who);
    return { header };
  }

  async roleAdd(req: AuthRoleAddRequest, who?: AuthInfo) {
    const { header } = await this.apply({ type: 'roleAdd', req }, who);
    return { header };
  }

  async roleGet(req: AuthRoleGetRequest, who?: AuthInfo): Promise<AuthRoleGetResponse> {
    const { res, header } = await this.apply({ type: 'roleGet', req }, who);
    return { header, perm: res.perm };
  }

  async roleList(who?: AuthInfo): Promise<AuthRoleListResponse> {
    const { res, header } = await this.apply({ type: 'roleList', req: {} }, who);
    return { header, roles: res.roles };
  }

  async roleDelete(req: AuthRoleDeleteRequest, who?: AuthInfo) {
    const { header } = await this.apply({ type: 'roleDelete', req }, who);
    return { header };
  }

  async roleGrantPermission(req: AuthRoleGrantPermissionRequest, who?: AuthInfo) {
    const { header } = await this.apply({ type: 'roleGrantPermission', req }, who);
    return { header };
  }

  async roleRevokePermission(req: AuthRoleRevokePermissionRequest, who?: AuthInfo) {
    const { header } = await this.apply({ type: 'roleRevokePermission', req }, who);
    return { header };
  }
}
