// etcdctl 3.4's `snapshot save|status|restore` (etcdctl/ctlv3/command/snapshot_command.go and
// clientv3/snapshot/v3_snapshot.go): same flags, output, log lines, errors and exit codes.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { Command } from './command.js';
import { errorText } from './errors.js';
import { clientConfigFromCmd, commandDeadline, display, initDisplay, newClient } from './global.js';
import { Exit, fail } from './io.js';
import { humanBytes } from './printer/humanize.js';
import { SaveProgress } from './save-progress.js';
import { zapLine } from './zap-line.js';

/** etcd's hasChecksum: db ‖ sha256 has size % 512 == 32. */
const hasChecksum = (size: number): boolean => size % 512 === 32;

/** The client library's own log lines carry an ISO time, unlike the snapshot manager's. */
function clientLog(io: { err(s: string): void }, caller: string, msg: string): void {
  io.err(`${JSON.stringify({ level: 'info', ts: new Date().toISOString(), caller, msg })}\n`);
}

const snapshotSaveCommand: Command = {
  name: 'save',
  use: 'save <filename>',
  short: 'Stores an etcd node backend snapshot to a given file',
  run: async (ctx) => {
    if (ctx.args.length !== 1) fail(Exit.badArgs, 'snapshot save expects one argument');
    const path = ctx.args[0] as string;
    const cfg = clientConfigFromCmd(ctx);
    if (cfg.endpoints.length !== 1) {
      fail(
        Exit.interrupted,
        `snapshot must be requested to one selected node, not multiple [${cfg.endpoints.join(' ')}]`,
      );
    }
    const endpoint = cfg.endpoints[0] as string;
    // Without --command-timeout the download may take as long as it takes, as in etcdctl.
    const deadline = ctx.flags.changed('command-timeout') ? commandDeadline(ctx) : undefined;
    const partPath = `${path}.part`;
    let fd: number;
    try {
      fd = openSync(partPath, 'w', 0o600);
    } catch (e) {
      return fail(Exit.interrupted, `could not open ${partPath} (${openErrorText(partPath, e)})`);
    }
    zapLine(ctx.io, 'info', 'snapshot/v3_snapshot.go:119', 'created temporary db file', { path: partPath });
    const client = newClient(cfg.endpoints, cfg.options);
    const started = process.hrtime.bigint();
    const progress = process.stderr.isTTY === true ? new SaveProgress((s) => ctx.io.err(s)) : undefined;
    let size = 0;
    let fdOpen = true;
    try {
      const stream = await client.maintenance.snapshot({}, { deadline });
      clientLog(ctx.io, 'clientv3/maintenance.go:200', 'opened snapshot stream; downloading');
      zapLine(ctx.io, 'info', 'snapshot/v3_snapshot.go:127', 'fetching snapshot', { endpoint });
      for await (const chunk of stream) {
        writeSync(fd, chunk.blob);
        size += chunk.blob.length;
        progress?.update(size, size + Number(chunk.remainingBytes));
      }
      progress?.done();
      clientLog(ctx.io, 'clientv3/maintenance.go:208', 'completed snapshot read; closing');
      if (!hasChecksum(size)) throw new Error(`sha256 checksum not found [bytes: ${size}]`);
      fsyncSync(fd);
      closeSync(fd);
      fdOpen = false;
      const took = Number(process.hrtime.bigint() - started) / 1e9;
      zapLine(ctx.io, 'info', 'snapshot/v3_snapshot.go:142', 'fetched snapshot', {
        endpoint,
        size: humanBytes(size),
        took,
      });
      try {
        renameSync(partPath, path);
      } catch (e) {
        throw new Error(`could not rename ${partPath} to ${path} (${(e as Error).message})`);
      }
    } catch (e) {
      progress?.done();
      return fail(Exit.interrupted, errorText(e));
    } finally {
      if (fdOpen) closeSync(fd);
      client.close();
      // etcd removes the partial file whatever happened (after a rename there is none).
      rmSync(partPath, { force: true });
    }
    zapLine(ctx.io, 'info', 'snapshot/v3_snapshot.go:152', 'saved', { path });
    ctx.io.out(`Snapshot saved at ${path}\n`);
  },
};

function openErrorText(path: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'is a directory'
          : (e as Error).message;
  return `open ${path}: ${why}`;
}

const snapshotStatusCommand: Command = {
  name: 'status',
  use: 'status <filename>',
  short: 'Gets backend snapshot status of a given file',
  run: async (ctx) => {
    if (ctx.args.length !== 1) fail(Exit.badArgs, 'snapshot status requires exactly one argument');
    initDisplay(ctx);
    // Loaded on demand: the file code needs native modules (crc32c, LMDB) other commands do not.
    const { statusOrFail } = await import('./snapshot-files.js');
    const status = await statusOrFail(ctx.args[0] as string);
    display(ctx).dbStatus(status);
  },
};

const DEFAULT_NAME = 'default';
const DEFAULT_PEER_URLS = 'http://localhost:2380';

const snapshotRestoreCommand: Command = {
  name: 'restore',
  use: 'restore <filename> [options]',
  short: 'Restores an etcd member snapshot to an etcd directory',
  flags: [
    { name: 'data-dir', kind: 'string', def: '', usage: 'Path to the data directory' },
    {
      name: 'wal-dir',
      kind: 'string',
      def: '',
      usage: 'Path to the WAL directory (use --data-dir if none given)',
    },
    {
      name: 'initial-cluster',
      kind: 'string',
      def: `${DEFAULT_NAME}=${DEFAULT_PEER_URLS}`,
      usage: 'Initial cluster configuration for restore bootstrap',
    },
    {
      name: 'initial-cluster-token',
      kind: 'string',
      def: 'etcd-cluster',
      usage: 'Initial cluster token for the etcd cluster during restore bootstrap',
    },
    {
      name: 'initial-advertise-peer-urls',
      kind: 'string',
      def: DEFAULT_PEER_URLS,
      usage: "List of this member's peer URLs to advertise to the rest of the cluster",
    },
    { name: 'name', kind: 'string', def: DEFAULT_NAME, usage: 'Human-readable name for this member' },
    {
      name: 'skip-hash-check',
      kind: 'bool',
      def: 'false',
      usage: 'Ignore snapshot integrity hash value (required if copied from data directory)',
    },
  ],
  run: async (ctx) => {
    if (ctx.args.length !== 1) fail(Exit.badArgs, 'snapshot restore requires exactly one argument');
    const f = ctx.flags;
    const { ETCDCTL_34_RESTORE_CALLERS, restoreOrFail } = await import('./snapshot-files.js');
    await restoreOrFail(
      ctx.io,
      {
        snapshotPath: ctx.args[0] as string,
        name: f.string('name'),
        dataDir: f.string('data-dir'),
        walDir: f.string('wal-dir'),
        peerUrls: f.string('initial-advertise-peer-urls').split(','),
        initialCluster: f.string('initial-cluster'),
        initialClusterToken: f.string('initial-cluster-token'),
        skipHashCheck: f.bool('skip-hash-check'),
      },
      ETCDCTL_34_RESTORE_CALLERS,
    );
  },
};

export const snapshotCommand: Command = {
  name: 'snapshot',
  use: 'snapshot <subcommand>',
  short: 'Manages etcd node snapshots',
  subcommands: [snapshotRestoreCommand, snapshotSaveCommand, snapshotStatusCommand],
};
