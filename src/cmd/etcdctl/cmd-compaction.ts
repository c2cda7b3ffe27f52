import type { Command } from './command.js';
import { parseGoInt } from './flags.js';
import { commandDeadline, rpc, withClient } from './global.js';
import { Exit, fail } from './io.js';

export const compactionCommand: Command = {
  name: 'compaction',
  use: 'compaction [options] <revision>',
  short: 'Compacts the event history in etcd',
  flags: [
    {
      name: 'physical',
      kind: 'bool',
      def: 'false',
      usage: "'true' to wait for compaction to physically remove all old revisions",
    },
  ],
  run: async (ctx) => {
    if (ctx.args.length !== 1) fail(Exit.badArgs, 'compaction command needs 1 argument');
    const text = ctx.args[0] as string;
    if (!/^[+-]?[0-9]+$/.test(text))
      fail(Exit.error, `strconv.ParseInt: parsing ${JSON.stringify(text)}: invalid syntax`);
    let rev: bigint;
    try {
      rev = parseGoInt(text.replace(/^([+-]?)0+(?=\d)/, '$1'), true);
    } catch (e) {
      return fail(Exit.error, (e as Error).message);
    }
    await withClient(ctx, async (client) => {
      await rpc(
        client.compact(
          { revision: Number(rev), physical: ctx.flags.bool('physical') },
          { deadline: commandDeadline(ctx) },
        ),
      );
    });
    ctx.io.out(`compacted revision ${rev}\n`);
  },
};
