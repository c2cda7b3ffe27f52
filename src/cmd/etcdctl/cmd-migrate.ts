// etcdctl 3.4's `migrate` (ctlv3/command/migrate_command.go): the v2 keys of a stopped etcd 3.4
// member's data dir become v3 keys in its backend. Same flags and stdout lines as etcdctl 3.4:
// "using default transformer", the membership lines its cluster logs while the v2 store is
// rebuilt (zap's example format), then "finished transforming keys" — or "no v2 keys to migrate"
// when the store never had a /1, or "failed to transform keys" and exit 1 when the --transformer
// program fails. The work is in src/migrate/v2-migrate.ts.
import {
  defaultTransform,
  exampleLogLine,
  externalTransform,
  memberPaths,
  rebuildV2Store,
  V2MigrateError,
  v2KeyNodes,
  writeMigratedBackend,
} from '../../migrate/v2-migrate.js';
import type { KeyValue } from '../../mvcc/types.js';
import type { Command } from './command.js';
import { Exit, ExitError, fail } from './io.js';

export const migrateCommand: Command = {
  name: 'migrate',
  use: 'migrate',
  short: 'Migrates keys in a v2 store to a mvcc store',
  flags: [
    { name: 'no-ttl', kind: 'bool', def: 'false', usage: 'Do not convert TTL keys' },
    { name: 'data-dir', kind: 'string', def: '', usage: 'Path to the data directory' },
    { name: 'wal-dir', kind: 'string', def: '', usage: 'Path to the WAL directory' },
    { name: 'transformer', kind: 'string', def: '', usage: 'Path to the user-provided transformer program' },
  ],
  run: async (ctx) => {
    const dataDir = ctx.flags.string('data-dir');
    const walDir = ctx.flags.string('wal-dir');
    const transformer = ctx.flags.string('transformer');
    const noTtl = ctx.flags.bool('no-ttl');
    if (transformer === '') ctx.io.out('using default transformer\n');
    try {
      const rebuilt = await rebuildV2Store(dataDir, walDir, (msg, fields) =>
        ctx.io.out(exampleLogLine(msg, fields)),
      );
      const nodes = rebuilt.hasKeySpace ? v2KeyNodes(rebuilt.store, noTtl) : undefined;
      if (nodes === undefined) {
        ctx.io.out('no v2 keys to migrate\n');
        return;
      }
      let kvs: KeyValue[];
      if (transformer === '') {
        kvs = defaultTransform(nodes);
      } else {
        try {
          kvs = await externalTransform(transformer, nodes);
        } catch (err) {
          ctx.io.out('failed to transform keys\n');
          throw err;
        }
      }
      await writeMigratedBackend(memberPaths(dataDir, walDir).dbPath, kvs, rebuilt.index);
      ctx.io.out('finished transforming keys\n');
    } catch (err) {
      if (err instanceof ExitError) throw err;
      if (err instanceof V2MigrateError) fail(Exit.error, err.message);
      fail(Exit.error, err instanceof Error ? err.message : String(err));
    }
  },
};
