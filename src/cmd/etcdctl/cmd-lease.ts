import { parseHexInt64 } from './cmd-kv.js';
import type { Command, CommandContext } from './command.js';
import { errorText } from './errors.js';
import { commandDeadline, display, rpc, withClient } from './global.js';
import { Exit, fail } from './io.js';
import { SimplePrinter } from './printer/index.js';
import { leaseHex } from './printer/simple.js';

const LEASE_NOT_FOUND = 'etcdserver: requested lease not found';

function leaseFromArg(arg: string): bigint {
  try {
    return parseHexInt64(arg);
  } catch (e) {
    return fail(Exit.badArgs, `bad lease ID arg (${(e as Error).message}), expecting ID in Hex`);
  }
}

function oneArg(ctx: CommandContext, message: string): string {
  if (ctx.args.length !== 1) fail(Exit.badArgs, message);
  return ctx.args[0] as string;
}

const grantCommand: Command = {
  name: 'grant',
  use: 'grant <ttl>',
  short: 'Creates leases',
  run: async (ctx) => {
    const text = oneArg(ctx, 'lease grant command needs TTL argument');
    if (!/^[+-]?[0-9]+$/.test(text)) {
      fail(Exit.badArgs, `bad TTL (strconv.ParseInt: parsing ${JSON.stringify(text)}: invalid syntax)`);
    }
    const deadline = commandDeadline(ctx);
    await withClient(ctx, async (client) => {
      const resp = await client.lease
        .leaseGrant({ TTL: Number(text), ID: 0n }, { deadline })
        .catch((e: unknown) => fail(Exit.error, `failed to grant lease (${errorText(e)})`));
      display(ctx).grant(resp);
    });
  },
};

const revokeCommand: Command = {
  name: 'revoke',
  use: 'revoke <leaseID>',
  short: 'Revokes leases',
  run: async (ctx) => {
    const id = leaseFromArg(oneArg(ctx, 'lease revoke command needs 1 argument'));
    const deadline = commandDeadline(ctx);
    await withClient(ctx, async (client) => {
      const resp = await client.lease
        .leaseRevoke({ ID: id }, { deadline })
        .catch((e: unknown) => fail(Exit.error, `failed to revoke lease (${errorText(e)})`));
      display(ctx).revoke(id, resp);
    });
  },
};

const timeToLiveCommand: Command = {
  name: 'timetolive',
  use: 'timetolive <leaseID> [options]',
  short: 'Get lease information',
  flags: [{ name: 'keys', kind: 'bool', def: 'false', usage: 'Get keys attached to this lease' }],
  run: async (ctx) => {
    const id = leaseFromArg(oneArg(ctx, 'lease timetolive command needs lease ID as argument'));
    const keys = ctx.flags.bool('keys');
    await withClient(ctx, async (client) => {
      const resp = await client.lease
        .leaseTimeToLive({ ID: id, keys })
        .catch((e: unknown) => fail(Exit.badConnection, errorText(e)));
      display(ctx).timeToLive(resp, keys);
    });
  },
};

const listCommand: Command = {
  name: 'list',
  use: 'list',
  short: 'List all active leases',
  run: async (ctx) => {
    await withClient(ctx, async (client) => {
      const resp = await client.lease
        .leaseLeases({})
        .catch((e: unknown) => fail(Exit.badConnection, errorText(e)));
      display(ctx).leases(resp);
    });
  },
};

const keepAliveCommand: Command = {
  name: 'keep-alive',
  use: 'keep-alive [options] <leaseID>',
  short: 'Keeps leases alive (renew)',
  flags: [
    {
      name: 'once',
      kind: 'bool',
      def: 'false',
      usage: 'Resets the keep-alive time to its original value and exits immediately',
    },
  ],
  run: async (ctx) => {
    const id = leaseFromArg(oneArg(ctx, 'lease keep-alive command needs lease ID as argument'));
    const once = ctx.flags.bool('once');
    await withClient(ctx, async (client) => {
      const stream = await rpc(client.lease.leaseKeepAlive());
      let first = true;
      for (;;) {
        stream.send({ ID: id });
        const next = await stream.next().catch((e: unknown) => fail(Exit.badConnection, errorText(e)));
        if (next.done === true) fail(Exit.badConnection, 'keepalive stream closed');
        const resp = next.value;
        if (resp.TTL <= 0) {
          // The first answer tells whether the lease exists at all.
          if (first) fail(Exit.badConnection, LEASE_NOT_FOUND);
          break;
        }
        first = false;
        display(ctx).keepAlive(resp);
        if (once) {
          stream.cancel();
          return;
        }
        await new Promise((r) => setTimeout(r, Math.max(500, (resp.TTL * 1000) / 3)));
      }
      stream.cancel();
      if (display(ctx) instanceof SimplePrinter) ctx.io.out(`lease ${leaseHex(id)} expired or revoked.\n`);
    });
  },
};

export const leaseCommand: Command = {
  name: 'lease',
  use: 'lease <subcommand>',
  short: 'Lease related commands',
  subcommands: [grantCommand, revokeCommand, timeToLiveCommand, listCommand, keepAliveCommand],
};
