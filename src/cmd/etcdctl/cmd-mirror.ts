// `etcdctl make-mirror <destination>`, as etcdctl 3.4 runs it: copy every key under --prefix
// as of one revision to the destination (one put per key), then watch the source from the next
// revision and replay each revision's events there as one transaction. Keys are renamed by
// replacing the source prefix with --dest-prefix (the same prefix by default, none with
// --no-dest-prefix). Every 30 s the number of keys mirrored so far is printed. It runs until
// interrupted; a compacted watch or a failed write ends it with the error.
import { type EtcdClient, type EtcdClientOptions, GrpcCode, GrpcError } from '../../client/index.js';
import type { DeepPartial, RangeResponse, RequestOp } from '../../pb/etcdserverpb/rpc.js';
import { type Event, Event_EventType } from '../../pb/mvccpb/kv.js';
import { TlsSetupError } from '../../tls/errors.js';
import { loadCaBundle, loadKeyPair } from '../../tls/pem.js';
import { NS_PER_MS } from '../../util/go-duration.js';
import type { Command, CommandContext } from './command.js';
import { errorText } from './errors.js';
import { mustClient, newClient } from './global.js';
import { Exit, ExitError, fail } from './io.js';
import { bytes, FROM_KEY_END, prefixRangeEnd } from './keys.js';

const REPORT_EVERY_MS = 30_000;
/** Test-only: a shorter interval for the running count (not a flag, so not in the help). */
const REPORT_ENV = 'ETCDTS_MAKE_MIRROR_REPORT_MS';
const BATCH_LIMIT = 1000;
/** Pause before trying an unreachable cluster again; etcdctl's client waits for it forever. */
const RETRY_PAUSE_MS = 200;
const COMPACTED = 'etcdserver: mvcc: required revision has been compacted';

export const makeMirrorCommand: Command = {
  name: 'make-mirror',
  use: 'make-mirror [options] <destination>',
  short: 'Makes a mirror at the destination etcd cluster',
  flags: [
    { name: 'prefix', kind: 'string', def: '', usage: 'Key-value prefix to mirror' },
    {
      name: 'dest-prefix',
      kind: 'string',
      def: '',
      usage: 'destination prefix to mirror a prefix to a different prefix in the destination cluster',
    },
    {
      name: 'no-dest-prefix',
      kind: 'bool',
      def: 'false',
      usage: 'mirror key-values to the root of the destination cluster',
    },
    {
      name: 'dest-cert',
      kind: 'string',
      def: '',
      usage: 'Identify secure client using this TLS certificate file for the destination cluster',
    },
    { name: 'dest-key', kind: 'string', def: '', usage: 'Identify secure client using this TLS key file' },
    {
      name: 'dest-cacert',
      kind: 'string',
      def: '',
      usage: 'Verify certificates of TLS enabled secure servers using this CA bundle',
    },
    {
      name: 'dest-insecure-transport',
      kind: 'bool',
      def: 'true',
      usage: 'Disable transport security for client connections',
    },
  ],
  run: async (ctx) => {
    if (ctx.args.length !== 1) fail(Exit.badArgs, 'make-mirror takes one destination argument');
    const dest = destinationClient(ctx, ctx.args[0] as string);
    const source = mustClient(ctx);
    const reportMs = Number(ctx.io.env[REPORT_ENV]) > 0 ? Number(ctx.io.env[REPORT_ENV]) : REPORT_EVERY_MS;
    const mirror = new Mirror(source, dest, ctx.flags.string('prefix'));
    const report = setInterval(() => ctx.io.out(`${mirror.total}\n`), reportMs);
    try {
      const rev = await mirror.baseRevision();
      // etcdctl checks this only once the source has answered, so an unreachable source hangs first.
      const destPrefix = chooseDestPrefix(ctx);
      mirror.destPrefix = bytes(destPrefix);
      await mirror.copyBase(rev);
      await mirror.followUpdates(rev + 1);
    } catch (e) {
      if (e instanceof ExitError) throw e;
      fail(Exit.error, errorText(e));
    } finally {
      clearInterval(report);
      source.close();
      dest.close();
    }
  },
};

function chooseDestPrefix(ctx: CommandContext): string {
  const prefix = ctx.flags.string('prefix');
  const destPrefix = ctx.flags.string('dest-prefix');
  if (ctx.flags.bool('no-dest-prefix')) {
    if (destPrefix !== '') {
      fail(Exit.badArgs, '`--dest-prefix` and `--no-dest-prefix` cannot be set at the same time, choose one');
    }
    return '';
  }
  return destPrefix === '' ? prefix : destPrefix;
}

/**
 * The destination's client: its own TLS flags, the global dial and keep-alive settings, no
 * credentials (etcdctl sends none to the destination).
 */
function destinationClient(ctx: CommandContext, endpoint: string): EtcdClient {
  const options: Omit<EtcdClientOptions, 'endpoints'> = {
    keepaliveTimeMs: ctx.flags.duration('keepalive-time') / NS_PER_MS,
    keepaliveTimeoutMs: ctx.flags.duration('keepalive-timeout') / NS_PER_MS,
  };
  const cert = ctx.flags.string('dest-cert');
  const key = ctx.flags.string('dest-key');
  const cacert = ctx.flags.string('dest-cacert');
  try {
    if (cert !== '' || key !== '' || cacert !== '') {
      options.tls = {};
      if (cert !== '' || key !== '') {
        if (cert === '' || key === '')
          throw new TlsSetupError(`KeyFile and CertFile must both be present[key: ${key}, cert: ${cert}]`);
        const pair = loadKeyPair(cert, key);
        options.tls.cert = pair.cert;
        options.tls.key = pair.key;
      }
      if (cacert !== '') options.tls.ca = loadCaBundle(cacert);
    } else if (!ctx.flags.bool('dest-insecure-transport')) options.tls = {};
  } catch (e) {
    if (e instanceof TlsSetupError) fail(Exit.badArgs, e.message);
    throw e;
  }
  return newClient([endpoint], options, ctx.io);
}

/** The copying itself, apart from the command line. */
export class Mirror {
  /** Keys copied and events replayed so far. */
  total = 0;
  destPrefix: Buffer;
  private readonly prefix: Buffer;

  constructor(
    private readonly source: EtcdClient,
    private readonly dest: EtcdClient,
    prefix: string,
  ) {
    this.prefix = bytes(prefix);
    this.destPrefix = this.prefix;
  }

  /** The source's current revision, the point in time the copy is taken at. */
  async baseRevision(): Promise<number> {
    const resp = await untilReachable(() => this.source.range({ key: bytes('foo') }));
    return resp.header?.revision ?? 0;
  }

  /** Copies every key under the prefix as of `rev`, a batch of keys at a time. */
  async copyBase(rev: number): Promise<void> {
    // Without a prefix: every key, from the smallest ("\0") on.
    let key = this.prefix.length === 0 ? Buffer.from([0]) : this.prefix;
    const rangeEnd = this.prefix.length === 0 ? FROM_KEY_END : prefixRangeEnd(this.prefix);
    for (;;) {
      const from = key;
      const resp: RangeResponse = await untilReachable(() =>
        this.source.range({ key: from, rangeEnd, limit: BATCH_LIMIT, revision: rev }),
      );
      for (const kv of resp.kvs) {
        await untilReachable(() => this.dest.put({ key: this.rename(kv.key), value: kv.value }));
        this.total++;
      }
      const last = resp.kvs[resp.kvs.length - 1];
      if (!resp.more || last === undefined) return;
      key = Buffer.concat([last.key, Buffer.from([0])]);
    }
  }

  /** Replays the source's changes from `startRev` on, one transaction per revision; never ends by itself. */
  async followUpdates(startRev: number): Promise<never> {
    let next = startRev;
    for (;;) {
      try {
        for await (const events of this.watch(next)) {
          await this.apply(events);
          next = (events[events.length - 1]?.kv?.modRevision ?? next - 1) + 1;
        }
      } catch (e) {
        if (!isUnavailable(e)) throw e;
      }
      // The stream broke (the source went away): watch again from the first revision not applied.
      await sleep(RETRY_PAUSE_MS);
    }
  }

  private async *watch(startRev: number): AsyncGenerator<Event[]> {
    const stream = await this.source.watch.watch();
    try {
      const key = this.prefix.length === 0 ? Buffer.from([0]) : this.prefix;
      const rangeEnd = this.prefix.length === 0 ? FROM_KEY_END : prefixRangeEnd(this.prefix);
      stream.send({
        requestUnion: { $case: 'createRequest', createRequest: { key, rangeEnd, startRevision: startRev } },
      });
      for await (const resp of stream) {
        if (resp.compactRevision !== 0) throw new Error(COMPACTED);
        if (resp.canceled) throw new Error(resp.cancelReason || 'watch canceled');
        if (resp.events.length > 0) yield resp.events;
      }
    } finally {
      stream.cancel();
    }
  }

  /** Applies a watch response's events: a transaction for each run of events of one revision. */
  private async apply(events: readonly Event[]): Promise<void> {
    let ops: DeepPartial<RequestOp>[] = [];
    let rev = 0;
    for (const ev of events) {
      const kv = ev.kv;
      if (kv === undefined) continue;
      if (rev !== 0 && kv.modRevision > rev) {
        await this.commit(ops);
        ops = [];
      }
      rev = kv.modRevision;
      const key = this.rename(kv.key);
      ops.push(
        ev.type === Event_EventType.DELETE
          ? { request: { $case: 'requestDeleteRange', requestDeleteRange: { key } } }
          : { request: { $case: 'requestPut', requestPut: { key, value: kv.value } } },
      );
      this.total++;
    }
    if (ops.length > 0) await this.commit(ops);
  }

  private async commit(ops: DeepPartial<RequestOp>[]): Promise<void> {
    await untilReachable(() => this.dest.txn({ compare: [], success: ops, failure: [] }));
  }

  /** The key at the destination: the source prefix replaced by the destination's. */
  private rename(key: Buffer | Uint8Array): Buffer {
    return Buffer.concat([this.destPrefix, Buffer.from(key).subarray(this.prefix.length)]);
  }
}

/** Retries a call while the cluster cannot be reached, as etcdctl's client waits for a connection. */
async function untilReachable<T>(call: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (e) {
      if (!isUnavailable(e)) throw e;
      await sleep(RETRY_PAUSE_MS);
    }
  }
}

function isUnavailable(e: unknown): boolean {
  return e instanceof GrpcError && e.code === GrpcCode.UNAVAILABLE;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
