import { authCommands } from './cmd-auth.js';
import { checkCommand } from './cmd-check.js';
import { compactionCommand } from './cmd-compaction.js';
import { electCommand } from './cmd-elect.js';
import { endpointCommand } from './cmd-endpoint.js';
import { delCommand, getCommand, putCommand } from './cmd-kv.js';
import { leaseCommand } from './cmd-lease.js';
import { lockCommand } from './cmd-lock.js';
import { maintenanceCommands } from './cmd-maintenance.js';
import { memberCommand } from './cmd-member.js';
import { migrateCommand } from './cmd-migrate.js';
import { makeMirrorCommand } from './cmd-mirror.js';
import { txnCommand } from './cmd-txn.js';
import { versionCommand } from './cmd-version.js';
import { watchCommand } from './cmd-watch.js';
import type { Command } from './command.js';
import { GLOBAL_FLAGS } from './global.js';

/** etcdctl's command tree (ETCDCTL_API=3). */
export const rootCommand: Command = {
  name: 'etcdctl',
  use: 'etcdctl',
  short: 'A simple command line client for etcd3.',
  persistentFlags: GLOBAL_FLAGS,
  subcommands: [
    getCommand,
    putCommand,
    delCommand,
    txnCommand,
    compactionCommand,
    endpointCommand,
    versionCommand,
    memberCommand,
    leaseCommand,
    lockCommand,
    electCommand,
    ...authCommands,
    ...maintenanceCommands,
    watchCommand,
    makeMirrorCommand,
    migrateCommand,
    checkCommand,
  ],
};
