import type { Command, CommandContext } from './command.js';
import { commandDeadline, display, mustClient, rpc, withClient } from './global.js';
import { Exit, fail } from './io.js';
import { goQuote } from './printer/go-quote.js';
import { SimplePrinter } from './printer/index.js';

function memberIdArg(ctx: CommandContext): bigint {
  if (ctx.args.length !== 1) fail(Exit.badArgs, 'member ID is not provided');
  const text = ctx.args[0] as string;
  if (!/^[0-9a-fA-F]+$/.test(text)) {
    fail(
      Exit.badArgs,
      `bad member ID arg (strconv.ParseUint: parsing ${JSON.stringify(text)}: invalid syntax), expecting ID in Hex`,
    );
  }
  const id = BigInt(`0x${text}`);
  if (id >= 1n << 64n) {
    fail(
      Exit.badArgs,
      `bad member ID arg (strconv.ParseUint: parsing ${JSON.stringify(text)}: value out of range), expecting ID in Hex`,
    );
  }
  return id;
}

const addCommand: Command = {
  name: 'add',
  use: 'add <memberName> [options]',
  short: 'Adds a member into the cluster',
  flags: [
    { name: 'peer-urls', kind: 'string', def: '', usage: 'comma separated peer URLs for the new member.' },
    { name: 'learner', kind: 'bool', def: 'false', usage: 'indicates if the new member is raft learner' },
  ],
  run: async (ctx) => {
    const args = ctx.args;
    if (args.length < 1) fail(Exit.badArgs, 'member name not provided');
    if (args.length > 1) {
      let text = 'too many arguments';
      for (const s of args) if (s.toLowerCase().startsWith('http')) text += `, did you mean --peer-urls=${s}`;
      fail(Exit.badArgs, text);
    }
    const name = args[0] as string;
    const peerUrls = ctx.flags.string('peer-urls');
    if (peerUrls.length === 0) fail(Exit.badArgs, 'member peer urls not provided');
    const urls = peerUrls.split(',');
    const deadline = commandDeadline(ctx);
    await withClient(ctx, async (client) => {
      const resp = await rpc(
        client.cluster.memberAdd({ peerURLs: urls, isLearner: ctx.flags.bool('learner') }, { deadline }),
      );
      const printer = display(ctx);
      printer.memberAdd(resp);
      if (!(printer instanceof SimplePrinter)) return;
      const newId = resp.member?.ID;
      const conf: string[] = [];
      for (const m of resp.members) {
        for (const u of m.peerURLs) conf.push(`${m.ID === newId ? name : m.name}=${u}`);
      }
      ctx.io.out(
        `\nETCD_NAME=${goQuote(name)}\nETCD_INITIAL_CLUSTER=${goQuote(conf.join(','))}\n` +
          `ETCD_INITIAL_ADVERTISE_PEER_URLS=${goQuote(peerUrls)}\nETCD_INITIAL_CLUSTER_STATE="existing"\n`,
      );
    });
  },
};

const removeCommand: Command = {
  name: 'remove',
  use: 'remove <memberID>',
  short: 'Removes a member from the cluster',
  run: async (ctx) => {
    const id = memberIdArg(ctx);
    const deadline = commandDeadline(ctx);
    await withClient(ctx, async (client) => {
      display(ctx).memberRemove(id, await rpc(client.cluster.memberRemove({ ID: id }, { deadline })));
    });
  },
};

const updateCommand: Command = {
  name: 'update',
  use: 'update <memberID> [options]',
  short: 'Updates a member in the cluster',
  flags: [
    {
      name: 'peer-urls',
      kind: 'string',
      def: '',
      usage: 'comma separated peer URLs for the updated member.',
    },
  ],
  run: async (ctx) => {
    const id = memberIdArg(ctx);
    const peerUrls = ctx.flags.string('peer-urls');
    if (peerUrls.length === 0) fail(Exit.badArgs, 'member peer urls not provided');
    const deadline = commandDeadline(ctx);
    await withClient(ctx, async (client) => {
      const resp = await rpc(
        client.cluster.memberUpdate({ ID: id, peerURLs: peerUrls.split(',') }, { deadline }),
      );
      display(ctx).memberUpdate(id, resp);
    });
  },
};

const listCommand: Command = {
  name: 'list',
  use: 'list',
  short: 'Lists all members in the cluster',
  run: async (ctx) => {
    const deadline = commandDeadline(ctx);
    const client = mustClient(ctx);
    try {
      display(ctx).memberList(await rpc(client.memberList({}, { deadline })));
    } finally {
      client.close();
    }
  },
};

const promoteCommand: Command = {
  name: 'promote',
  use: 'promote <memberID>',
  short: 'Promotes a non-voting member in the cluster',
  run: async (ctx) => {
    const id = memberIdArg(ctx);
    const deadline = commandDeadline(ctx);
    await withClient(ctx, async (client) => {
      display(ctx).memberPromote(id, await rpc(client.cluster.memberPromote({ ID: id }, { deadline })));
    });
  },
};

export const memberCommand: Command = {
  name: 'member',
  use: 'member <subcommand>',
  short: 'Membership related commands',
  subcommands: [addCommand, removeCommand, updateCommand, listCommand, promoteCommand],
};
