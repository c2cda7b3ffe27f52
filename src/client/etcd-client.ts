import {
  AuthDefinition,
  ClusterDefinition,
  KVDefinition,
  LeaseDefinition,
  MaintenanceDefinition,
  WatchDefinition,
} from '../pb/etcdserverpb/rpc.js';
import { ElectionDefinition } from '../pb/v3electionpb/v3election.js';
import { LockDefinition } from '../pb/v3lockpb/v3lock.js';
import { Channel } from './channel.js';
import { type Endpoint, parseEndpoint } from './endpoint.js';
import { type BidiCall, deadlineError, type Metadata } from './grpc-call.js';
import { AuthenticationFailed, GrpcCode, GrpcError } from './grpc-status.js';
import { type CallOptions, makeStub, type RawCaller, type ServiceStub } from './service-stub.js';
import type { TlsOptions } from './tls-options.js';

export interface EtcdClientOptions {
  /** `http://h:p`, `https://h:p` or `h:p` (TLS exactly when `tls` is given). */
  endpoints: string[];
  tls?: TlsOptions;
  keepaliveTimeMs?: number;
  keepaliveTimeoutMs?: number;
  /** Credentials: the client authenticates before its first call and sends the token after. */
  username?: string;
  password?: string;
  /** Called after each failed attempt of a call (retried or not), e.g. to log it. */
  onAttemptFailed?: (info: { endpoint: Endpoint; attempt: number; error: GrpcError }) => void;
}

const BACKOFF_START_MS = 25;
const BACKOFF_MAX_MS = 500;
const INVALID_TOKEN = 'etcdserver: invalid auth token';
/** Sent for calls without a token while auth is on: credentials we have are worth trying then. */
const USER_EMPTY = 'etcdserver: user name is empty';
const AUTH_NOT_ENABLED = 'etcdserver: authentication is not enabled';

/**
 * etcd v3 client over HTTP/2. Calls go to the endpoint that last worked;
 * when it cannot be reached the next one is tried, round after round with
 * growing pauses, until the call's deadline.
 */
export class EtcdClient implements RawCaller {
  readonly endpoints: readonly Endpoint[];
  readonly kv: ServiceStub<typeof KVDefinition>;
  readonly watch: ServiceStub<typeof WatchDefinition>;
  readonly lease: ServiceStub<typeof LeaseDefinition>;
  readonly cluster: ServiceStub<typeof ClusterDefinition>;
  readonly maintenance: ServiceStub<typeof MaintenanceDefinition>;
  readonly auth: ServiceStub<typeof AuthDefinition>;
  readonly lock: ServiceStub<typeof LockDefinition>;
  readonly election: ServiceStub<typeof ElectionDefinition>;

  private readonly channels: Channel[];
  private preferred = 0;
  private token: string | undefined;
  private closed = false;

  constructor(private readonly options: EtcdClientOptions) {
    if (options.endpoints.length === 0) throw new Error('at least one endpoint is required');
    const tlsConfigured = options.tls !== undefined;
    this.endpoints = options.endpoints.map((e) => parseEndpoint(e, tlsConfigured));
    this.channels = this.endpoints.map(
      (ep) =>
        new Channel(ep, {
          tls: options.tls,
          keepaliveTimeMs: options.keepaliveTimeMs ?? 0,
          keepaliveTimeoutMs: options.keepaliveTimeoutMs ?? 20_000,
        }),
    );
    this.kv = makeStub(KVDefinition, this);
    this.watch = makeStub(WatchDefinition, this);
    this.lease = makeStub(LeaseDefinition, this);
    this.cluster = makeStub(ClusterDefinition, this);
    this.maintenance = makeStub(MaintenanceDefinition, this);
    this.auth = makeStub(AuthDefinition, this);
    this.lock = makeStub(LockDefinition, this);
    this.election = makeStub(ElectionDefinition, this);
  }

  // Shortcuts for the most used RPCs.
  readonly range: ServiceStub<typeof KVDefinition>['range'] = (r, o) => this.kv.range(r, o);
  readonly put: ServiceStub<typeof KVDefinition>['put'] = (r, o) => this.kv.put(r, o);
  readonly deleteRange: ServiceStub<typeof KVDefinition>['deleteRange'] = (r, o) => this.kv.deleteRange(r, o);
  readonly txn: ServiceStub<typeof KVDefinition>['txn'] = (r, o) => this.kv.txn(r, o);
  readonly compact: ServiceStub<typeof KVDefinition>['compact'] = (r, o) => this.kv.compact(r, o);
  readonly memberList: ServiceStub<typeof ClusterDefinition>['memberList'] = (r, o) =>
    this.cluster.memberList(r, o);
  readonly status: ServiceStub<typeof MaintenanceDefinition>['status'] = (r, o) =>
    this.maintenance.status(r, o);

  close(): void {
    this.closed = true;
    for (const ch of this.channels) ch.close();
  }

  async unaryRaw(path: string, body: Uint8Array, options: CallOptions, idempotent: boolean): Promise<Buffer> {
    return this.withFailover(options, idempotent, async (channel) =>
      channel.unary(path, body, await this.metadata(channel, options, path), options.deadline),
    );
  }

  async streamRaw(path: string, options: CallOptions): Promise<BidiCall> {
    // Opening a stream sends nothing yet, so any connection failure may fail over.
    return this.withFailover(options, false, async (channel) => {
      const metadata = await this.metadata(channel, options, path);
      await channel.connect(options.deadline);
      return channel.stream(path, metadata, options.deadline);
    });
  }

  private async withFailover<T>(
    options: CallOptions,
    idempotent: boolean,
    attempt: (channel: Channel) => Promise<T>,
  ): Promise<T> {
    if (this.closed) throw new GrpcError(GrpcCode.CANCELLED, 'grpc: the client connection is closing');
    const pinned = options.endpoint;
    if (pinned !== undefined && this.channels[pinned] === undefined)
      throw new Error(`no endpoint #${pinned}`);
    let index = pinned ?? this.preferred;
    let failuresThisRound = 0;
    let pause = BACKOFF_START_MS;
    let reauthenticated = false;
    let attemptNo = 0;
    for (;;) {
      const channel = this.channels[index] as Channel;
      try {
        const result = await attempt(channel);
        if (pinned === undefined) this.preferred = index;
        return result;
      } catch (e) {
        if (!(e instanceof GrpcError)) throw e;
        this.options.onAttemptFailed?.({ endpoint: channel.endpoint, attempt: attemptNo++, error: e });
        const staleCredentials = e.details === INVALID_TOKEN || e.details === USER_EMPTY;
        if (staleCredentials && this.options.username !== undefined && !reauthenticated) {
          reauthenticated = true;
          this.token = undefined;
          continue;
        }
        const retryable = e.notSent || (idempotent && e.code === GrpcCode.UNAVAILABLE);
        if (!retryable) throw e;
        if (options.deadline === undefined && failuresThisRound + 1 >= this.channels.length) throw e;
        if (options.deadline !== undefined && Date.now() >= options.deadline) throw deadlineError();
        failuresThisRound++;
        if (pinned === undefined) index = (index + 1) % this.channels.length;
        if (failuresThisRound >= this.channels.length) {
          failuresThisRound = 0;
          await sleepUntil(Math.min(Date.now() + pause, options.deadline ?? Number.POSITIVE_INFINITY));
          pause = Math.min(pause * 2, BACKOFF_MAX_MS);
          if (options.deadline !== undefined && Date.now() >= options.deadline) throw deadlineError();
        }
      }
    }
  }

  /** Auth token header; fetched (once) from the same endpoint before the first authenticated call. */
  private async metadata(channel: Channel, options: CallOptions, path: string): Promise<Metadata> {
    const extra = options.metadata ?? {};
    if (this.options.username === undefined || path === '/etcdserverpb.Auth/Authenticate')
      return { ...extra };
    if (this.token === undefined) {
      const idx = this.channels.indexOf(channel);
      try {
        const reply = await this.auth.authenticate(
          { name: this.options.username, password: this.options.password ?? '' },
          { ...options, endpoint: idx },
        );
        this.token = reply.token;
      } catch (e) {
        if (!(e instanceof GrpcError)) throw e;
        // As etcd's Go client: with auth off, credentials are not an error; calls go without a token.
        if (e.details !== AUTH_NOT_ENABLED) throw new AuthenticationFailed(e);
        this.token = '';
      }
    }
    return this.token === '' ? { ...extra } : { ...extra, token: this.token };
  }
}

function sleepUntil(when: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, when - Date.now())));
}
