import { type AlarmMember, AlarmRequest_AlarmAction, AlarmType } from '../../pb/etcdserverpb/rpc.js';
import { snapshotCommand } from './cmd-snapshot.js';
import type { Command } from './command.js';
import { errorText } from './errors.js';
import { clientConfigFromCmd, commandDeadline, display, newClient, rpc, withClient } from './global.js';
import { Exit, ExitError, fail } from './io.js';

const defragCommand: Command = {
  name: 'defrag',
  use: 'defrag',
  short: 'Defragments the storage of the etcd members with given endpoints',
  persistentFlags: [
    { name: 'cluster', kind: 'bool', def: 'false', usage: 'use all endpoints from the cluster member list' },
  ],
  flags: [
    {
      name: 'data-dir',
      kind: 'string',
      def: '',
      usage: 'Optional. If present, defragments a data directory not in use by etcd.',
    },
  ],
  run: async (ctx) => {
    if (ctx.flags.string('data-dir') !== '') {
      ctx.io.err(
        `Failed to defragment etcd data[${ctx.flags.string('data-dir')}] (offline defragmentation is not supported)\n`,
      );
      throw new ExitError(Exit.error, undefined);
    }
    const cfg = clientConfigFromCmd(ctx);
    let eps = cfg.endpoints;
    if (ctx.flags.bool('cluster')) {
      const client = newClient(cfg.endpoints, cfg.options);
      try {
        const resp = await client
          .memberList({}, { deadline: commandDeadline(ctx) })
          .catch((e: unknown) =>
            fail(Exit.error, `failed to fetch endpoints from etcd cluster member list: ${errorText(e)}`),
          );
        eps = resp.members.flatMap((m) => m.clientURLs);
      } finally {
        client.close();
      }
    }
    let failures = 0;
    for (const ep of eps) {
      const client = newClient([ep], cfg.options, ctx.io);
      try {
        await client.maintenance.defragment({}, { deadline: commandDeadline(ctx) });
        ctx.io.out(`Finished defragmenting etcd member[${ep}]\n`);
      } catch (e) {
        ctx.io.err(`Failed to defragment etcd member[${ep}] (${errorText(e)})\n`);
        failures++;
      } finally {
        client.close();
      }
    }
    if (failures !== 0) throw new ExitError(Exit.error, undefined);
  },
};

const alarmDisarmCommand: Command = {
  name: 'disarm',
  use: 'disarm',
  short: 'Disarms all alarms',
  run: async (ctx) => {
    if (ctx.args.length !== 0) fail(Exit.badArgs, 'alarm disarm command accepts no arguments');
    const deadline = commandDeadline(ctx);
    await withClient(ctx, async (client) => {
      // Disarming needs the concrete alarms: list them, then deactivate each.
      const list = await rpc(
        client.maintenance.alarm(
          { action: AlarmRequest_AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE },
          { deadline },
        ),
      );
      const cleared: AlarmMember[] = [];
      for (const a of list.alarms) {
        const resp = await rpc(
          client.maintenance.alarm(
            { action: AlarmRequest_AlarmAction.DEACTIVATE, memberID: a.memberID, alarm: a.alarm },
            { deadline },
          ),
        );
        cleared.push(...resp.alarms);
      }
      // The combined answer has no header of its own, as in etcd's client.
      display(ctx).alarm({ header: undefined, alarms: cleared });
    });
  },
};

const alarmListCommand: Command = {
  name: 'list',
  use: 'list',
  short: 'Lists all alarms',
  run: async (ctx) => {
    if (ctx.args.length !== 0) fail(Exit.badArgs, 'alarm list command accepts no arguments');
    const deadline = commandDeadline(ctx);
    await withClient(ctx, async (client) => {
      const resp = await rpc(
        client.maintenance.alarm(
          { action: AlarmRequest_AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE },
          { deadline },
        ),
      );
      display(ctx).alarm(resp);
    });
  },
};

const alarmCommand: Command = {
  name: 'alarm',
  use: 'alarm <subcommand>',
  short: 'Alarm related commands',
  subcommands: [alarmDisarmCommand, alarmListCommand],
};

const moveLeaderCommand: Command = {
  name: 'move-leader',
  use: 'move-leader <transferee-member-id>',
  short: 'Transfers leadership to another etcd cluster member.',
  run: async (ctx) => {
    if (ctx.args.length !== 1) fail(Exit.badArgs, 'move-leader command needs 1 argument');
    const text = ctx.args[0] as string;
    if (!/^[0-9a-fA-F]{1,16}$/.test(text)) {
      fail(Exit.badArgs, `strconv.ParseUint: parsing ${JSON.stringify(text)}: invalid syntax`);
    }
    const target = BigInt(`0x${text}`);
    const cfg = clientConfigFromCmd(ctx);
    const deadline = commandDeadline(ctx);
    for (const ep of cfg.endpoints) {
      const client = newClient([ep], cfg.options, ctx.io);
      try {
        const status = await rpc(client.status({}, { deadline }));
        const self = status.header?.memberId ?? 0n;
        if (self !== status.leader) continue;
        const resp = await rpc(client.maintenance.moveLeader({ targetID: target }, { deadline }));
        display(ctx).moveLeader(status.leader, target, resp);
        return;
      } finally {
        client.close();
      }
    }
    fail(Exit.badArgs, `no leader endpoint given at [${cfg.endpoints.join(' ')}]`);
  },
};

export const maintenanceCommands: Command[] = [
  defragCommand,
  alarmCommand,
  snapshotCommand,
  moveLeaderCommand,
];
