import { randomUUID } from 'node:crypto';
import { EtcdClient, type EtcdClientOptions, GrpcCode, type TlsOptions } from '../../client/index.js';
// The two leaf modules only: src/tls/index.js would pull the X.509 generator into the etcdctl bundle.
import { TlsSetupError } from '../../tls/errors.js';
import { loadCaBundle, loadKeyPair } from '../../tls/pem.js';
import { NS_PER_MS } from '../../util/go-duration.js';
import type { CommandContext } from './command.js';
import { applyEnvironment } from './env.js';
import { errorText, exitCodeOf } from './errors.js';
import type { FlagSpec } from './flags.js';
import { Exit, fail } from './io.js';
import { askSecret, secretInputOf } from './password-prompt.js';
import { newPrinter, type Printer, SimplePrinter } from './printer/index.js';

/** etcdctl 3.4's global flags, with its defaults and help texts. */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'endpoints', kind: 'stringSlice', def: '127.0.0.1:2379', usage: 'gRPC endpoints' },
  { name: 'debug', kind: 'bool', def: 'false', usage: 'enable client-side debug logging' },
  {
    name: 'write-out',
    short: 'w',
    kind: 'string',
    def: 'simple',
    usage: 'set the output format (fields, json, protobuf, simple, table)',
  },
  { name: 'hex', kind: 'bool', def: 'false', usage: 'print byte strings as hex encoded strings' },
  { name: 'dial-timeout', kind: 'duration', def: '2s', usage: 'dial timeout for client connections' },
  {
    name: 'command-timeout',
    kind: 'duration',
    def: '5s',
    usage: 'timeout for short running command (excluding dial timeout)',
  },
  { name: 'keepalive-time', kind: 'duration', def: '2s', usage: 'keepalive time for client connections' },
  {
    name: 'keepalive-timeout',
    kind: 'duration',
    def: '6s',
    usage: 'keepalive timeout for client connections',
  },
  {
    name: 'insecure-transport',
    kind: 'bool',
    def: 'true',
    usage: 'disable transport security for client connections',
  },
  {
    name: 'insecure-discovery',
    kind: 'bool',
    def: 'true',
    usage: 'accept insecure SRV records describing cluster endpoints',
  },
  {
    name: 'insecure-skip-tls-verify',
    kind: 'bool',
    def: 'false',
    usage:
      'skip server certificate verification (CAUTION: this option should be enabled only for testing purposes)',
  },
  { name: 'cert', kind: 'string', def: '', usage: 'identify secure client using this TLS certificate file' },
  { name: 'key', kind: 'string', def: '', usage: 'identify secure client using this TLS key file' },
  {
    name: 'cacert',
    kind: 'string',
    def: '',
    usage: 'verify certificates of TLS-enabled secure servers using this CA bundle',
  },
  {
    name: 'user',
    kind: 'string',
    def: '',
    usage: 'username[:password] for authentication (prompt if password is not supplied)',
  },
  {
    name: 'password',
    kind: 'string',
    def: '',
    usage: "password for authentication (if this option is used, --user option shouldn't include password)",
  },
  {
    name: 'discovery-srv',
    short: 'd',
    kind: 'string',
    def: '',
    usage: 'domain name to query for SRV records describing cluster endpoints',
  },
  {
    name: 'discovery-srv-name',
    kind: 'string',
    def: '',
    usage: 'service name to query when using DNS discovery',
  },
];

/** The printer in effect; etcdctl starts with the simple one and switches once flags are final. */
const displays = new WeakMap<CommandContext, Printer>();

export function display(ctx: CommandContext): Printer {
  let p = displays.get(ctx);
  if (p === undefined) {
    p = new SimplePrinter(ctx.io, false);
    displays.set(ctx, p);
  }
  return p;
}

export function initDisplay(ctx: CommandContext): void {
  const p = newPrinter(ctx.flags.string('write-out'), ctx.flags.bool('hex'), ctx.io);
  if (p === undefined) fail(Exit.badFeature, 'unsupported output format');
  displays.set(ctx, p);
}

export interface ClientConfig {
  endpoints: string[];
  options: Omit<EtcdClientOptions, 'endpoints'>;
}

/**
 * Applies ETCDCTL_* variables, prints the --debug listing, picks the printer
 * and builds the client settings, in etcdctl's order.
 */
export function clientConfigFromCmd(
  ctx: CommandContext,
  extraIgnoredEnv: readonly string[] = [],
): ClientConfig {
  // Only the first call reads the environment and prints the --debug listing.
  if (!configured.has(ctx)) {
    configured.add(ctx);
    applyEnvironment(ctx, extraIgnoredEnv);
    if (ctx.flags.bool('debug')) printDebugSettings(ctx);
  }
  const endpoints = ctx.flags.strings('endpoints').map((e) => e.trim());
  const options = clientOptions(ctx);
  initDisplay(ctx);
  return { endpoints, options };
}

const configured = new WeakSet<CommandContext>();

/** Marks the environment as applied (for commands that apply it themselves). */
export function markConfigured(ctx: CommandContext): void {
  configured.add(ctx);
}

function printDebugSettings(ctx: CommandContext): void {
  for (const f of [...ctx.inherited].sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1))) {
    ctx.io.err(`${envName(f.spec.name)}=${f.toString()}\n`);
  }
}

export function envName(flagName: string): string {
  return `ETCDCTL_${flagName.toUpperCase().replaceAll('-', '_')}`;
}

function clientOptions(ctx: CommandContext): Omit<EtcdClientOptions, 'endpoints'> {
  const f = ctx.flags;
  const files: Record<'cert' | 'key' | 'cacert', string> = { cert: '', key: '', cacert: '' };
  for (const name of ['cert', 'key', 'cacert'] as const) {
    files[name] = f.string(name);
    if (files[name] === '' && f.changed(name))
      fail(Exit.badArgs, `empty string is passed to --${name} option`);
  }
  const options: Omit<EtcdClientOptions, 'endpoints'> = {
    keepaliveTimeMs: f.duration('keepalive-time') / NS_PER_MS,
    keepaliveTimeoutMs: f.duration('keepalive-timeout') / NS_PER_MS,
  };
  const tls = tlsFromFiles(files);
  // Without TLS files but with --insecure-transport=false, TLS still applies
  // (system roots). As in etcdctl 3.4, --insecure-skip-tls-verify only acts on
  // a TLS configuration that exists: alone, an https:// endpoint still verifies.
  const effective = tls ?? (f.bool('insecure-transport') ? undefined : {});
  if (effective !== undefined && f.bool('insecure-skip-tls-verify')) effective.insecureSkipVerify = true;
  if (effective !== undefined) options.tls = effective;
  const auth = authFromFlags(ctx);
  if (auth !== undefined) {
    options.username = auth.username;
    options.password = auth.password;
  }
  return options;
}

/**
 * The TLS material as etcd's transport.TLSInfo.ClientConfig() loads it, with
 * its errors (exit 128): both of --cert/--key or neither, the pair read and
 * matched, then the CA bundle parsed.
 */
function tlsFromFiles(files: Record<'cert' | 'key' | 'cacert', string>): TlsOptions | undefined {
  if (files.cert === '' && files.key === '' && files.cacert === '') return undefined;
  const tls: TlsOptions = {};
  try {
    if (files.cert !== '' || files.key !== '') {
      if (files.cert === '' || files.key === '')
        throw new TlsSetupError(
          `KeyFile and CertFile must both be present[key: ${files.key}, cert: ${files.cert}]`,
        );
      const pair = loadKeyPair(files.cert, files.key);
      tls.cert = pair.cert;
      tls.key = pair.key;
    }
    if (files.cacert !== '') tls.ca = loadCaBundle(files.cacert);
  } catch (e) {
    if (e instanceof TlsSetupError) fail(Exit.badArgs, e.message);
    throw e;
  }
  return tls;
}

/**
 * --user name[:password] and --password, as etcdctl 3.4 takes them: a user
 * without a password is asked for one ("Password: "), and -- as etcd's Go
 * client does -- credentials count only when both parts are non-empty.
 */
function authFromFlags(ctx: CommandContext): { username: string; password: string } | undefined {
  const user = ctx.flags.string('user');
  if (user === '') return undefined;
  let username = user;
  let password = ctx.flags.string('password');
  if (password === '') {
    const colon = user.indexOf(':');
    if (colon < 0) password = askSecret(ctx.io, secretInputOf(ctx.io), 'Password: ');
    else {
      username = user.slice(0, colon);
      password = user.slice(colon + 1);
    }
  }
  if (username === '' || password === '') return undefined;
  return { username, password };
}

/** A client for the command's endpoints; callers close it. */
export function mustClient(ctx: CommandContext): EtcdClient {
  const cfg = clientConfigFromCmd(ctx);
  return newClient(cfg.endpoints, cfg.options, ctx.io);
}

export function newClient(
  endpoints: string[],
  options: Omit<EtcdClientOptions, 'endpoints'>,
  io?: { err(s: string): void },
): EtcdClient {
  const clientId = randomUUID();
  // Like etcd's Go client, report every failed attempt as a warning line on stderr.
  const onAttemptFailed: EtcdClientOptions['onAttemptFailed'] =
    io === undefined
      ? undefined
      : ({ endpoint, attempt, error }) => {
          if (error.code === GrpcCode.DEADLINE_EXCEEDED || error.notSent) return;
          const line = {
            level: 'warn',
            ts: new Date().toISOString(),
            caller: 'clientv3/retry_interceptor.go:62',
            msg: 'retrying of unary invoker failed',
            target: `endpoint://client-${clientId}/${endpoint.authority}`,
            attempt,
            error: error.goString(),
          };
          io.err(`${JSON.stringify(line)}\n`);
        };
  try {
    return new EtcdClient({ ...options, endpoints, onAttemptFailed });
  } catch (e) {
    return fail(Exit.badConnection, (e as Error).message);
  }
}

/** The absolute deadline of a short command (--command-timeout from now). */
export function commandDeadline(ctx: CommandContext): number {
  return Date.now() + ctx.flags.duration('command-timeout') / NS_PER_MS;
}

/** Runs fn with a client for the command, closing it afterwards. */
export async function withClient<T>(ctx: CommandContext, fn: (client: EtcdClient) => Promise<T>): Promise<T> {
  const client = mustClient(ctx);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** Awaits an RPC; a failure ends the command with `Error: <text>` and exit status 1. */
export function rpc<T>(p: Promise<T>): Promise<T> {
  return p.catch((e: unknown) => fail(exitCodeOf(e), errorText(e)));
}
