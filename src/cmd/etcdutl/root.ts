// etcdutl (etcd 3.5's offline tool) as far as etcd-ts's files go: `snapshot status` and
// `snapshot restore` on snapshot files (the code etcdctl's commands use), and `version`.
import type { Command } from '../etcdctl/command.js';
import { Exit, fail } from '../etcdctl/io.js';
import { dbStatusPrinter } from './printer.js';

export const ETCDUTL_VERSION = '3.4.23';
const API_VERSION = '3.4';

const DEFAULT_NAME = 'default';
const DEFAULT_PEER_URLS = 'http://localhost:2380';

/** etcdutl logs as etcd 3.5 does: zap JSON with ISO 8601 times. */
const RESTORE_LOG = {
  restoring: 'snapshot/v3_snapshot.go:248',
  restored: 'snapshot/v3_snapshot.go:276',
  addedMember: 'membership/cluster.go:421',
  isoTime: true,
};

const statusCommand: Command = {
  name: 'status',
  use: 'status <filename>',
  short: 'Gets backend snapshot status of a given file',
  run: async (ctx) => {
    if (ctx.args.length !== 1) fail(Exit.badArgs, 'snapshot status requires exactly one argument');
    const print = dbStatusPrinter(ctx.flags.string('write-out'), (s) => ctx.io.out(s));
    const { statusOrFail } = await import('../etcdctl/snapshot-files.js');
    print(await statusOrFail(ctx.args[0] as string));
  },
};

const restoreCommand: Command = {
  name: 'restore',
  use: 'restore <filename> --data-dir {output dir} [options]',
  short: 'Restores an etcd member snapshot to an etcd directory',
  flags: [
    { name: 'data-dir', kind: 'string', def: '', usage: 'Path to the output data directory' },
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
    const { restoreOrFail } = await import('../etcdctl/snapshot-files.js');
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
        allowEmptyDataDir: true,
      },
      RESTORE_LOG,
    );
  },
};

const snapshotCommand: Command = {
  name: 'snapshot',
  use: 'snapshot <subcommand>',
  short: 'Manages etcd node snapshots',
  subcommands: [restoreCommand, statusCommand],
};

const versionCommand: Command = {
  name: 'version',
  use: 'version',
  short: 'Prints the version of etcdutl',
  run: async (ctx) => {
    ctx.io.out(`etcdutl version: ${ETCDUTL_VERSION}\nAPI version: ${API_VERSION}\n`);
  },
};

export const etcdutlRoot: Command = {
  name: 'etcdutl',
  use: 'etcdutl',
  short: 'An administrative command line tool for etcd3.',
  persistentFlags: [
    {
      name: 'write-out',
      short: 'w',
      kind: 'string',
      def: 'simple',
      usage: 'set the output format (fields, json, protobuf, simple, table)',
    },
  ],
  subcommands: [snapshotCommand, versionCommand],
};
