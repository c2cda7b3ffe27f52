// One auth scenario, run step by step against a server over gRPC, written down
// as a transcript: one line per call with its status code and message, or its
// response (tokens, lease ids and addresses normalized). The parity test runs
// it against the real etcd 3.4 and against etcd-ts and compares the lines.
import * as grpc from '@grpc/grpc-js';
import {
  AuthDefinition,
  ClusterDefinition,
  KVDefinition,
  LeaseDefinition,
  MaintenanceDefinition,
  type MessageFns,
  SnapshotRequest,
  WatchRequest,
  WatchResponse,
} from '../../src/pb/etcdserverpb/rpc.js';
import { ElectionDefinition } from '../../src/pb/v3electionpb/v3election.js';
import { LockDefinition } from '../../src/pb/v3lockpb/v3lock.js';

type Service = {
  fullName: string;
  methods: Record<string, { name: string; requestType: unknown; responseType: unknown }>;
};

const SERVICES: Record<string, Service> = {
  Auth: AuthDefinition,
  KV: KVDefinition,
  Lease: LeaseDefinition,
  Maintenance: MaintenanceDefinition,
  Cluster: ClusterDefinition,
  Lock: LockDefinition,
  Election: ElectionDefinition,
};

export type Step =
  | { login: string; password: string; as?: string }
  | { call: string; as?: string; req?: Record<string, unknown>; show?: 'all' | 'code' }
  | { watch: Record<string, unknown>[]; as?: string };

/** base64 of a latin1 string, for JSON request fields of type bytes. */
export const b = (s: string): string => Buffer.from(s, 'latin1').toString('base64');

export class AuthScript {
  private readonly client: grpc.Client;
  private readonly tokens = new Map<string, string>();
  readonly lines: string[] = [];

  constructor(private readonly endpoint: string) {
    this.client = new grpc.Client(endpoint, grpc.credentials.createInsecure());
  }

  close(): void {
    this.client.close();
  }

  /** The token a login step got for `user`. */
  token(user: string): string {
    const t = this.tokens.get(user);
    if (t === undefined) throw new Error(`no token for ${user}`);
    return t;
  }

  /** Makes `as: user` send this token (e.g. one issued by another server). */
  useToken(user: string, token: string): void {
    this.tokens.set(user, token);
  }

  private metadata(as: string | undefined): grpc.Metadata {
    const md = new grpc.Metadata();
    if (as === 'bogus') md.set('token', 'bogus.1');
    else if (as !== undefined) {
      const t = this.tokens.get(as);
      if (t === undefined) throw new Error(`no token for ${as}`);
      md.set('token', t);
    }
    return md;
  }

  private unary(
    path: string,
    as: string | undefined,
    req: Record<string, unknown>,
  ): Promise<{ ok: unknown } | { err: string }> {
    const [svc, method] = path.split('.') as [string, string];
    const service = SERVICES[svc];
    const def = service?.methods[method];
    if (service === undefined || def === undefined) throw new Error(`unknown method ${path}`);
    const reqType = def.requestType as MessageFns<unknown>;
    const resType = def.responseType as MessageFns<unknown>;
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(
        `/${service.fullName}/${def.name}`,
        (m: unknown) => Buffer.from(reqType.encode(m).finish()),
        (buf: Buffer) => resType.decode(buf),
        reqType.fromJSON(req),
        this.metadata(as),
        { deadline: Date.now() + 10_000 },
        (err, res) => {
          if (err) resolve({ err: `ERR ${err.code} ${err.details}` });
          else resolve({ ok: resType.toJSON(res) });
        },
      );
    });
  }

  /** Runs the steps in order; each appends one line (a watch one per response). */
  async run(steps: Step[]): Promise<string[]> {
    for (const s of steps) {
      if ('login' in s) {
        const r = await this.unary('Auth.authenticate', s.as, { name: s.login, password: s.password });
        if ('ok' in r) {
          const token = (r.ok as { token: string }).token;
          this.tokens.set(s.login, token);
          this.lines.push(`login ${s.login} OK`);
        } else this.lines.push(`login ${s.login} ${r.err}`);
        continue;
      }
      if ('watch' in s) {
        for (const line of await this.watch(s.watch, s.as)) this.lines.push(`watch ${s.as ?? '-'} ${line}`);
        continue;
      }
      const r = await this.unary(s.call, s.as, s.req ?? {});
      const who = s.as ?? '-';
      if ('err' in r) this.lines.push(`${s.call} ${who} ${r.err}`);
      else if (s.show === 'code') this.lines.push(`${s.call} ${who} OK`);
      else this.lines.push(`${s.call} ${who} OK ${this.normalize(JSON.stringify(r.ok))}`);
    }
    return this.lines;
  }

  private normalize(json: string): string {
    return json.replaceAll(this.endpoint, 'ENDPOINT').replace(/"token":"[^"]*"/g, '"token":"<token>"');
  }

  /** Maintenance.Snapshot as `as`: "OK" once the first chunk arrives, or how the call failed. */
  snapshot(as: string | undefined): Promise<string> {
    return new Promise((resolve) => {
      const who = as ?? '-';
      const call = this.client.makeServerStreamRequest(
        '/etcdserverpb.Maintenance/Snapshot',
        (m: SnapshotRequest) => Buffer.from(SnapshotRequest.encode(m).finish()),
        (buf: Buffer) => buf,
        {},
        this.metadata(as),
        { deadline: Date.now() + 10_000 },
      );
      let done = false;
      const finish = (line: string): void => {
        if (done) return;
        done = true;
        call.cancel();
        resolve(`Maintenance.snapshot ${who} ${line}`);
      };
      call.on('data', () => finish('OK'));
      call.on('error', (e: grpc.ServiceError) => finish(`ERR ${e.code} ${e.details}`));
      call.on('end', () => finish('END'));
    });
  }

  /** One watch stream: the create requests in order, one line per response (the first n responses). */
  private watch(creates: Record<string, unknown>[], as: string | undefined): Promise<string[]> {
    return new Promise((resolve) => {
      const lines: string[] = [];
      const call = this.client.makeBidiStreamRequest(
        '/etcdserverpb.Watch/Watch',
        (m: WatchRequest) => Buffer.from(WatchRequest.encode(m).finish()),
        (buf: Buffer) => WatchResponse.decode(buf),
        this.metadata(as),
      );
      const timer = setTimeout(() => finish(), 5000);
      const finish = (): void => {
        clearTimeout(timer);
        call.cancel();
        resolve(lines);
      };
      call.on('data', (r: WatchResponse) => {
        lines.push(this.normalize(JSON.stringify(WatchResponse.toJSON(r))));
        if (lines.length >= creates.length) finish();
      });
      call.on('error', (e: grpc.ServiceError) => {
        if (e.code !== grpc.status.CANCELLED) lines.push(`ERR ${e.code} ${e.details}`);
        finish();
      });
      for (const c of creates) call.write(WatchRequest.fromJSON({ createRequest: c }));
    });
  }
}
