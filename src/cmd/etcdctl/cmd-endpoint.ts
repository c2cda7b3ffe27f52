import type { EtcdClient } from '../../client/index.js';
import { formatDuration } from '../../util/go-duration.js';
import type { Command, CommandContext } from './command.js';
import { applyEnvironment } from './env.js';
import { errorText } from './errors.js';
import {
  clientConfigFromCmd,
  commandDeadline,
  display,
  initDisplay,
  markConfigured,
  newClient,
  rpc,
} from './global.js';
import { Exit, ExitError, fail } from './io.js';
import type { EpHashKV, EpHealth, EpStatus } from './printer/index.js';

const PERMISSION_DENIED = 'etcdserver: permission denied';

/** The endpoints to visit: the flag's, or with --cluster every member's client URLs. */
async function endpointsFromCluster(ctx: CommandContext): Promise<string[]> {
  const flagEndpoints = ctx.flags.strings('endpoints');
  if (!ctx.flags.bool('cluster')) return flagEndpoints;
  const cfg = clientConfigFromCmd(ctx);
  const { username: _u, password: _p, ...noAuth } = cfg.options;
  const client = newClient(cfg.endpoints, noAuth);
  try {
    const resp = await client
      .memberList({}, { deadline: commandDeadline(ctx) })
      .catch((e: unknown) =>
        fail(Exit.error, `failed to fetch endpoints from etcd cluster member list: ${errorText(e)}`),
      );
    return resp.members.flatMap((m) => m.clientURLs);
  } finally {
    client.close();
  }
}

/** Runs fn against each endpoint with a client of its own. */
async function perEndpoint<T>(
  ctx: CommandContext,
  fn: (client: EtcdClient, ep: string) => Promise<T>,
): Promise<T[]> {
  const cfg = clientConfigFromCmd(ctx);
  const eps = await endpointsFromCluster(ctx);
  return Promise.all(
    eps.map(async (ep) => {
      const client = newClient([ep], cfg.options, ctx.io);
      try {
        return await fn(client, ep);
      } finally {
        client.close();
      }
    }),
  );
}

const healthCommand: Command = {
  name: 'health',
  use: 'health',
  short: 'Checks the healthiness of endpoints specified in `--endpoints` flag',
  run: async (ctx) => {
    applyEnvironment(ctx);
    markConfigured(ctx);
    initDisplay(ctx);
    const results: EpHealth[] = [];
    await perEndpoint(ctx, async (client, ep) => {
      const start = process.hrtime.bigint();
      let error = '';
      try {
        await client.range({ key: Buffer.from('health') }, { deadline: commandDeadline(ctx) });
      } catch (e) {
        const text = errorText(e);
        if (text !== PERMISSION_DENIED) error = text;
      }
      const took = formatDuration(Number(process.hrtime.bigint() - start));
      // Listed in the order the checks finish, like etcdctl's channel.
      results.push({ ep, health: error === '', took, error });
    });
    display(ctx).endpointHealth(results);
    if (results.some((h) => h.error !== '')) fail(Exit.error, 'unhealthy cluster');
  },
};

const statusCommand: Command = {
  name: 'status',
  use: 'status',
  short: 'Prints out the status of endpoints specified in `--endpoints` flag',
  run: async (ctx) => {
    let failed = false;
    const all = await perEndpoint(ctx, async (client, ep): Promise<EpStatus | undefined> => {
      try {
        return { ep, resp: await client.status({}, { deadline: commandDeadline(ctx) }) };
      } catch (e) {
        failed = true;
        ctx.io.err(`Failed to get the status of endpoint ${ep} (${errorText(e)})\n`);
        return undefined;
      }
    });
    display(ctx).endpointStatus(all.filter((s): s is EpStatus => s !== undefined));
    if (failed) throw new ExitError(Exit.error, undefined);
  },
};

const hashKVCommand: Command = {
  name: 'hashkv',
  use: 'hashkv',
  short: 'Prints the KV history hash for each endpoint in --endpoints',
  persistentFlags: [
    { name: 'rev', kind: 'int', def: '0', usage: 'maximum revision to hash (default: all revisions)' },
  ],
  run: async (ctx) => {
    let lastError: unknown;
    const rev = Number(ctx.flags.int('rev'));
    const all = await perEndpoint(ctx, async (client, ep): Promise<EpHashKV | undefined> => {
      try {
        return {
          ep,
          resp: await client.maintenance.hashKV({ revision: rev }, { deadline: commandDeadline(ctx) }),
        };
      } catch (e) {
        lastError = e;
        ctx.io.err(`Failed to get the hash of endpoint ${ep} (${errorText(e)})\n`);
        return undefined;
      }
    });
    display(ctx).endpointHashKV(all.filter((s): s is EpHashKV => s !== undefined));
    if (lastError !== undefined) await rpc(Promise.reject(lastError));
  },
};

export const endpointCommand: Command = {
  name: 'endpoint',
  use: 'endpoint <subcommand>',
  short: 'Endpoint related commands',
  persistentFlags: [
    { name: 'cluster', kind: 'bool', def: 'false', usage: 'use all endpoints from the cluster member list' },
  ],
  subcommands: [healthCommand, statusCommand, hashKVCommand],
};
