import { spawn } from 'node:child_process';
import { type EtcdClient, GrpcCode, GrpcError } from '../../client/index.js';
import type { WatchResponse } from '../../pb/etcdserverpb/rpc.js';
import { Event_EventType } from '../../pb/mvccpb/kv.js';
import type { Command, CommandContext } from './command.js';
import { errorText } from './errors.js';
import { Flag, FlagSet, type FlagSpec } from './flags.js';
import { clientConfigFromCmd, display, newClient } from './global.js';
import { argify } from './go-scan.js';
import { EndOfInput, Exit, ExitError, fail, LineReader } from './io.js';
import { bytes, prefixRangeEnd } from './keys.js';
import { goQuote } from './printer/go-quote.js';

const WATCH_FLAGS: readonly FlagSpec[] = [
  { name: 'interactive', short: 'i', kind: 'bool', def: 'false', usage: 'Interactive mode' },
  { name: 'prefix', kind: 'bool', def: 'false', usage: 'Watch on a prefix if prefix is set' },
  { name: 'rev', kind: 'int', def: '0', usage: 'Revision to start watching' },
  // etcdctl 3.5's flag (3.4 has none): ask the server for periodic progress notifications.
  {
    name: 'progress-notify',
    kind: 'bool',
    def: 'false',
    usage: 'get periodic watch progress notification from server',
  },
  {
    name: 'prev-kv',
    kind: 'bool',
    def: 'false',
    usage: 'get the previous key-value pair before the event happens',
  },
];

const RETRY_PAUSE_MS = 500;

interface WatchSpec {
  key: string;
  rangeEnd?: string;
  prefix: boolean;
  prevKv: boolean;
  progressNotify: boolean;
  rev: number;
  exec: string[];
}

function watchSpec(args: string[], flags: FlagSet, exec: string[]): WatchSpec {
  if (args.length < 1) fail(Exit.badArgs, 'bad number of arguments');
  const prefix = flags.bool('prefix');
  if (args.length === 2 && prefix) fail(Exit.badArgs, '`range_end` and `--prefix` are mutually exclusive');
  return {
    key: args[0] as string,
    rangeEnd: args.length >= 2 ? args[1] : undefined,
    prefix,
    prevKv: flags.bool('prev-kv'),
    progressNotify: flags.bool('progress-notify'),
    rev: Number(flags.int('rev')),
    exec,
  };
}

/** Splits positionals at `--` into watch arguments and the command to run per event. */
function splitExec(flags: FlagSet, positional: string[]): { args: string[]; exec: string[] } {
  const at = flags.argsLenAtDash;
  if (at < 0) return { args: positional, exec: [] };
  const exec = positional.slice(at);
  if (exec.length === 0) fail(Exit.badArgs, 'bad number of arguments (found separator --, but no commands)');
  return { args: positional.slice(0, at), exec };
}

function withEnvKey(args: string[], envKey: string, envRange: string): string[] {
  if (envKey === '') return args;
  if (args.length > 0) fail(Exit.badArgs, 'bad number of arguments (ETCDCTL_WATCH_KEY is set)');
  return envRange !== '' ? [envKey, envRange] : [envKey];
}

/**
 * Keeps one watch running, re-creating it after connection loss from the
 * revision after the last one seen. Resolves when the server cancels it.
 */
async function runWatch(ctx: CommandContext, client: EtcdClient, spec: WatchSpec, progress: Set<() => void>) {
  let nextRev = spec.rev;
  for (;;) {
    let stream: Awaited<ReturnType<EtcdClient['watch']['watch']>>;
    try {
      stream = await client.watch.watch({ metadata: { hasleader: 'true' } });
    } catch {
      await sleep(RETRY_PAUSE_MS);
      continue;
    }
    const key = bytes(spec.key);
    const rangeEnd = spec.prefix
      ? prefixRangeEnd(key)
      : spec.rangeEnd !== undefined
        ? bytes(spec.rangeEnd)
        : undefined;
    stream.send({
      requestUnion: {
        $case: 'createRequest',
        createRequest: {
          key,
          rangeEnd,
          startRevision: nextRev,
          prevKv: spec.prevKv,
          progressNotify: spec.progressNotify,
        },
      },
    });
    const askProgress = () => {
      stream.send({ requestUnion: { $case: 'progressRequest', progressRequest: {} } });
    };
    progress.add(askProgress);
    try {
      for await (const resp of stream) {
        if (resp.created && resp.events.length === 0 && !resp.canceled) continue;
        if (resp.canceled) {
          ctx.io.err(`watch was canceled (${cancelText(resp)})\n`);
          display(ctx).watch(resp);
          return;
        }
        if (resp.events.length === 0 && !resp.fragment) {
          ctx.io.out(`progress notify: ${resp.header?.revision ?? 0}\n`);
        }
        display(ctx).watch(resp);
        const last = resp.events[resp.events.length - 1];
        if (last?.kv !== undefined) nextRev = last.kv.modRevision + 1;
        if (spec.exec.length > 0) await runExec(ctx, spec.exec, resp);
      }
    } catch (e) {
      if (!(e instanceof GrpcError) || e.code === GrpcCode.CANCELLED) throw e;
    } finally {
      progress.delete(askProgress);
    }
    await sleep(RETRY_PAUSE_MS);
  }
}

function cancelText(resp: WatchResponse): string {
  if (resp.compactRevision !== 0) return 'etcdserver: mvcc: required revision has been compacted';
  if (resp.cancelReason !== '') {
    return errorText(new GrpcError(GrpcCode.FAILED_PRECONDITION, resp.cancelReason));
  }
  return 'etcdserver: mvcc: required revision is a future revision';
}

async function runExec(ctx: CommandContext, exec: string[], resp: WatchResponse): Promise<void> {
  for (const ev of resp.events) {
    const env = {
      ...process.env,
      ETCD_WATCH_REVISION: String(resp.header?.revision ?? 0),
      ETCD_WATCH_EVENT_TYPE: goQuote(ev.type === Event_EventType.DELETE ? 'DELETE' : 'PUT'),
      ETCD_WATCH_KEY: goQuote(ev.kv?.key ?? Buffer.alloc(0)),
      ETCD_WATCH_VALUE: goQuote(ev.kv?.value ?? Buffer.alloc(0)),
    };
    const code = await new Promise<number | string>((resolve) => {
      const child = spawn(exec[0] as string, exec.slice(1), { env, stdio: 'inherit' });
      child.on('error', (e) => resolve(e.message));
      child.on('exit', (c, sig) => resolve(sig !== null ? `signal: ${sig}` : (c ?? 0)));
    });
    if (code !== 0) {
      const why = typeof code === 'number' ? `exit status ${code}` : code;
      ctx.io.err(`command [${exec.join(' ')}] error (${why})\n`);
      throw new ExitError(Exit.error, undefined);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function interactive(ctx: CommandContext, client: EtcdClient, envKey: string, envRange: string) {
  const reader = new LineReader(ctx.io.stdin());
  const progress = new Set<() => void>();
  // A watch that fails (e.g. its exec command errs) ends the whole command, as in etcdctl.
  let failWatch: (e: unknown) => void = () => undefined;
  const watchFailed = new Promise<never>((_, reject) => {
    failWatch = reject;
  });
  watchFailed.catch(() => undefined);
  for (;;) {
    let line: string;
    try {
      line = (await Promise.race([reader.readLine(), watchFailed])).replace(/\n$/, '');
    } catch (e) {
      if (e instanceof EndOfInput) fail(Exit.invalidInput, 'Error reading watch request line: EOF');
      throw e;
    }
    const args = argify(line);
    if (args.length < 1) {
      ctx.io.err(`Invalid command: ${line} (watch and progress supported)\n`);
      continue;
    }
    if (args[0] === 'progress') {
      for (const ask of progress) ask();
      continue;
    }
    if (args[0] !== 'watch') {
      ctx.io.err(`Invalid command ${line} (only support watch)\n`);
      continue;
    }
    if (args.length < 2 && envKey === '') {
      ctx.io.err(`Invalid command ${line} (command type or key is not provided)\n`);
      continue;
    }
    const flags = new FlagSet(WATCH_FLAGS.map((s) => new Flag(s)));
    let positional: string[];
    try {
      positional = flags.parse(args.slice(1));
    } catch (e) {
      return fail(Exit.badArgs, (e as Error).message);
    }
    const { args: watchArgs, exec } = splitExec(flags, positional);
    let spec: WatchSpec;
    try {
      spec = watchSpec(withEnvKey(watchArgs, envKey, envRange), flags, exec);
    } catch (e) {
      if (e instanceof ExitError) {
        ctx.io.err(`Invalid command ${line} (${e.text})\n`);
        continue;
      }
      throw e;
    }
    runWatch(ctx, client, spec, progress).catch(failWatch);
  }
}

export const watchCommand: Command = {
  name: 'watch',
  use: 'watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]',
  short: 'Watches events stream on keys or prefixes',
  flags: WATCH_FLAGS,
  run: async (ctx) => {
    const envKey = ctx.io.env.ETCDCTL_WATCH_KEY ?? '';
    const envRange = ctx.io.env.ETCDCTL_WATCH_RANGE_END ?? '';
    if (envKey === '' && envRange !== '') {
      fail(Exit.badArgs, `ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END=${goQuote(envRange)}`);
    }
    const ignored = ['watch-key', 'watch-range-end'];
    if (ctx.flags.bool('interactive')) {
      const cfg = clientConfigFromCmd(ctx, ignored);
      const client = newClient(cfg.endpoints, cfg.options);
      await interactive(ctx, client, envKey, envRange);
      return;
    }
    const { args, exec } = splitExec(ctx.flags, ctx.args);
    if (args.length < 1 && exec.length === 0 && envKey === '') fail(Exit.badArgs, 'bad number of arguments');
    const spec = watchSpec(withEnvKey(args, envKey, envRange), ctx.flags, exec);
    const cfg = clientConfigFromCmd(ctx, ignored);
    const client = newClient(cfg.endpoints, cfg.options);
    await runWatch(ctx, client, spec, new Set());
    client.close();
    fail(Exit.interrupted, 'watch is canceled by the server');
  },
};
