// etcdctl v2's commands (etcdctl/ctlv2/command): keys (set, get, mk, mkdir,
// setdir, update, updatedir, rm, rmdir, ls, watch), member and cluster-health.
import type { CliIo } from '../io.js';
import { ClusterError, type KeysResponse, keysResponse, membersMessage, type V2Client } from './client.js';
import { type FlagSpec, ParsedFlags } from './flags.js';
import { formatResponse } from './format.js';

/** etcdctl v2's exit statuses. */
export const ExitV2 = { success: 0, badArgs: 1, badConnection: 2, badAuth: 3, serverError: 4, notHealthy: 5 };

export class ExitV2Error extends Error {
  constructor(
    readonly code: number,
    readonly stderr: string,
  ) {
    super(stderr);
  }
}

export interface V2Context {
  args: string[];
  flags: ParsedFlags;
  /** --output. */
  format: string;
  io: CliIo;
  /** The client, synced with the member list unless --no-sync. */
  client(sync?: boolean): Promise<V2Client>;
}

export interface V2Command {
  name: string;
  usage: string;
  argsUsage?: string;
  description?: string;
  flags: FlagSpec[];
  subcommands?: V2Command[];
  run?(ctx: V2Context): Promise<void>;
}

/** handleError: "Error:  <err>" (and a cluster error's detail), then the exit status. */
export function failWith(code: number, err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  let text = `Error:  ${message}\n`;
  if (err instanceof ClusterError) text += `${err.detail()}\n`;
  throw new ExitV2Error(code, text);
}

const ttlFlag: FlagSpec = { names: ['ttl'], kind: 'int', value: '0', usage: 'key time-to-live in seconds' };

/** The key's URL path, escaped as Go's url.URL does, cleaned with its trailing slash kept. */
export function keyPath(key: string): string {
  let p = `/v2/keys${key.startsWith('/') || key === '' ? '' : '/'}${key}`;
  const trailing = p.endsWith('/');
  p = p.replace(/\/+/g, '/');
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  const clean = `/${parts.map(escapeSegment).join('/')}`;
  return trailing && clean !== '/' ? `${clean}/` : clean;
}

function escapeSegment(s: string): string {
  return encodeURIComponent(s).replace(/%(24|26|2B|2C|3A|3B|3D|40)/gi, (m) => decodeURIComponent(m));
}

function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const k of Object.keys(params).sort()) {
    const v = params[k];
    if (v !== undefined) q.set(k, v);
  }
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

function form(params: Record<string, string | undefined>): string {
  return query(params).slice(1);
}

const FORM = 'application/x-www-form-urlencoded';

async function keysCall(
  ctx: V2Context,
  method: string,
  key: string,
  q: Record<string, string | undefined>,
  body?: Record<string, string | undefined>,
): Promise<KeysResponse> {
  const c = await ctx.client();
  try {
    const a = await c.request(
      method,
      keyPath(key) + query(q),
      body === undefined ? undefined : form(body),
      FORM,
    );
    return keysResponse(a);
  } catch (err) {
    failWith(ExitV2.serverError, err);
  }
}

function print(ctx: V2Context, r: KeysResponse): void {
  const f = formatResponse(r, ctx.format);
  if (f.out !== undefined) ctx.io.out(f.out);
  if (f.err !== undefined) ctx.io.err(f.err);
}

function keyArg(ctx: V2Context): string {
  if (ctx.args.length === 0) failWith(ExitV2.badArgs, 'key required');
  return ctx.args[0]!;
}

/** argOrStdin: the value argument, else all of standard input. */
async function valueArg(ctx: V2Context): Promise<string> {
  if (ctx.args.length > 1) return ctx.args[1]!;
  const input = (await ctx.io.readStdin()).toString('utf8');
  if (input === '') failWith(ExitV2.badArgs, 'value required');
  return input;
}

function ttlOf(ctx: V2Context): string | undefined {
  const ttl = ctx.flags.int('ttl');
  return ttl > 0 ? String(ttl) : undefined;
}

const setCommand: V2Command = {
  name: 'set',
  usage: 'set the value of a key',
  argsUsage: '<key> <value>',
  description:
    "Set sets the value of a key.\n\n   When <value> begins with '-', <value> is interpreted as a flag.\n   Insert '--' for workaround:\n\n   $ set -- <key> <value>",
  flags: [
    ttlFlag,
    { names: ['swap-with-value'], kind: 'string', usage: 'previous value' },
    { names: ['swap-with-index'], kind: 'int', value: '0', usage: 'previous index' },
  ],
  run: async (ctx) => {
    const key = keyArg(ctx);
    const value = await valueArg(ctx);
    const prevIndex = ctx.flags.int('swap-with-index');
    const prevValue = ctx.flags.string('swap-with-value');
    const r = await keysCall(
      ctx,
      'PUT',
      key,
      {
        prevValue: prevValue === '' ? undefined : prevValue,
        prevIndex: prevIndex > 0 ? String(prevIndex) : undefined,
      },
      { value, ttl: ttlOf(ctx) },
    );
    print(ctx, r);
  },
};

const mkCommand: V2Command = {
  name: 'mk',
  usage: 'make a new key with a given value',
  argsUsage: '<key> <value>',
  flags: [{ names: ['in-order'], kind: 'bool', usage: 'create in-order key under directory <key>' }, ttlFlag],
  run: async (ctx) => {
    const key = keyArg(ctx);
    const value = await valueArg(ctx);
    const r = ctx.flags.bool('in-order')
      ? await keysCall(ctx, 'POST', key, {}, { value, ttl: ttlOf(ctx) })
      : await keysCall(ctx, 'PUT', key, { prevExist: 'false' }, { value, ttl: ttlOf(ctx) });
    print(ctx, r);
  },
};

function dirCommand(
  name: string,
  usage: string,
  prevExist: string | undefined,
  argsUsage = '<key>',
): V2Command {
  return {
    name,
    usage,
    argsUsage,
    flags: [ttlFlag],
    run: async (ctx) => {
      const key = keyArg(ctx);
      const r = await keysCall(ctx, 'PUT', key, { dir: 'true', prevExist }, { ttl: ttlOf(ctx) });
      if (ctx.format !== 'simple') print(ctx, r);
    },
  };
}

const updateCommand: V2Command = {
  name: 'update',
  usage: 'update an existing key with a given value',
  argsUsage: '<key> <value>',
  flags: [ttlFlag],
  run: async (ctx) => {
    const key = keyArg(ctx);
    const value = await valueArg(ctx);
    print(ctx, await keysCall(ctx, 'PUT', key, { prevExist: 'true' }, { value, ttl: ttlOf(ctx) }));
  },
};

const rmCommand: V2Command = {
  name: 'rm',
  usage: 'remove a key or a directory',
  argsUsage: '<key>',
  flags: [
    {
      names: ['dir'],
      kind: 'bool',
      usage: 'removes the key if it is an empty directory or a key-value pair',
    },
    {
      names: ['recursive', 'r'],
      kind: 'bool',
      usage: 'removes the key and all child keys(if it is a directory)',
    },
    { names: ['with-value'], kind: 'string', usage: 'previous value' },
    { names: ['with-index'], kind: 'int', value: '0', usage: 'previous index' },
  ],
  run: async (ctx) => {
    const key = keyArg(ctx);
    const prevValue = ctx.flags.string('with-value');
    const prevIndex = ctx.flags.int('with-index');
    const r = await keysCall(ctx, 'DELETE', key, {
      prevValue: prevValue === '' ? undefined : prevValue,
      prevIndex: prevIndex > 0 ? String(prevIndex) : undefined,
      dir: ctx.flags.bool('dir') ? 'true' : undefined,
      recursive: ctx.flags.bool('recursive') ? 'true' : undefined,
    });
    if (r.node?.dir !== true || ctx.format !== 'simple') print(ctx, r);
  },
};

const rmdirCommand: V2Command = {
  name: 'rmdir',
  usage: 'removes the key if it is an empty directory or a key-value pair',
  argsUsage: '<key>',
  flags: [],
  run: async (ctx) => {
    const r = await keysCall(ctx, 'DELETE', keyArg(ctx), { dir: 'true' });
    if (r.node?.dir !== true || ctx.format !== 'simple') print(ctx, r);
  },
};

const getCommand: V2Command = {
  name: 'get',
  usage: 'retrieve the value of a key',
  argsUsage: '<key>',
  flags: [
    { names: ['sort'], kind: 'bool', usage: 'returns result in sorted order' },
    { names: ['quorum', 'q'], kind: 'bool', usage: 'require quorum for get request' },
  ],
  run: async (ctx) => {
    const r = await keysCall(ctx, 'GET', keyArg(ctx), {
      quorum: ctx.flags.bool('quorum') ? 'true' : undefined,
      recursive: 'false',
      sorted: ctx.flags.bool('sort') ? 'true' : 'false',
    });
    if (r.node?.dir === true) throw new ExitV2Error(1, `${r.node.key}: is a directory\n`);
    print(ctx, r);
  },
};

const lsCommand: V2Command = {
  name: 'ls',
  usage: 'retrieve a directory',
  argsUsage: '[key]',
  flags: [
    { names: ['sort'], kind: 'bool', usage: 'returns result in sorted order' },
    {
      names: ['recursive', 'r'],
      kind: 'bool',
      usage: 'returns all key names recursively for the given path',
    },
    { names: ['p'], kind: 'bool', usage: 'append slash (/) to directories' },
    { names: ['quorum', 'q'], kind: 'bool', usage: 'require quorum for get request' },
  ],
  run: async (ctx) => {
    const key = ctx.args[0] ?? '/';
    const r = await keysCall(ctx, 'GET', key, {
      quorum: ctx.flags.bool('quorum') ? 'true' : undefined,
      recursive: ctx.flags.bool('recursive') ? 'true' : 'false',
      sorted: ctx.flags.bool('sort') ? 'true' : 'false',
    });
    if (ctx.format !== 'simple') {
      print(ctx, r);
      return;
    }
    const slash = ctx.flags.bool('p');
    let out = r.node?.dir === true ? '' : `${r.node?.key ?? ''}\n`;
    const walk = (n: NonNullable<KeysResponse['node']>): void => {
      out += n.dir === true && slash ? `${n.key}/\n` : `${n.key}\n`;
      for (const c of n.nodes ?? []) walk(c);
    };
    for (const c of r.node?.nodes ?? []) walk(c);
    ctx.io.out(out);
  },
};

const watchCommand: V2Command = {
  name: 'watch',
  usage: 'watch a key for changes',
  argsUsage: '<key>',
  flags: [
    { names: ['forever', 'f'], kind: 'bool', usage: 'forever watch a key until CTRL+C' },
    { names: ['after-index'], kind: 'int', value: '0', usage: 'watch after the given index' },
    { names: ['recursive', 'r'], kind: 'bool', usage: 'returns all values for key and child keys' },
  ],
  run: async (ctx) => {
    const key = keyArg(ctx);
    const recursive = ctx.flags.bool('recursive');
    const after = ctx.flags.int('after-index');
    let waitIndex = after > 0 ? after + 1 : 0;
    const c = await ctx.client();
    for (;;) {
      let r: KeysResponse;
      try {
        const a = await c.request(
          'GET',
          keyPath(key) +
            query({
              recursive: recursive ? 'true' : undefined,
              wait: 'true',
              waitIndex: waitIndex > 0 ? String(waitIndex) : undefined,
            }),
          undefined,
          undefined,
          true,
        );
        if (a.body.trim() === '') continue;
        r = keysResponse(a);
      } catch (err) {
        failWith(ExitV2.serverError, err);
      }
      waitIndex = (r.node?.modifiedIndex ?? 0) + 1;
      if (r.node?.dir === true) continue;
      if (recursive) ctx.io.out(`[${r.action}] ${r.node?.key ?? ''}\n`);
      print(ctx, r);
      if (!ctx.flags.bool('forever')) return;
    }
  },
};

async function membersOf(c: V2Client) {
  try {
    return await c.members();
  } catch (err) {
    throw new ExitV2Error(1, `${(err as Error).message}\n`);
  }
}

const memberCommand: V2Command = {
  name: 'member',
  usage: 'member add, remove and list subcommands',
  flags: [],
  subcommands: [
    {
      name: 'list',
      usage: 'enumerate existing cluster members',
      argsUsage: ' ',
      flags: [],
      run: async (ctx) => {
        if (ctx.args.length !== 0) throw new ExitV2Error(1, 'No arguments accepted\n');
        const c = await ctx.client();
        const members = await membersOf(c);
        const leader = await c.request('GET', '/v2/members/leader').catch((err: Error) => {
          throw new ExitV2Error(1, `Failed to get leader:  ${err.message}\n`);
        });
        if (leader.status !== 200)
          throw new ExitV2Error(1, `Failed to get leader:  ${membersMessage(leader)}\n`);
        const leaderId = (JSON.parse(leader.body) as { id: string }).id;
        let out = '';
        for (const m of members) {
          if (m.name === '') out += `${m.id}[unstarted]: peerURLs=${m.peerURLs.join(',')}\n`;
          else {
            out += `${m.id}: name=${m.name} peerURLs=${m.peerURLs.join(',')} clientURLs=${m.clientURLs.join(',')} isLeader=${m.id === leaderId}\n`;
          }
        }
        ctx.io.out(out);
      },
    },
    {
      name: 'add',
      usage: 'add a new member to the etcd cluster',
      argsUsage: '<name> <peerURL>',
      flags: [],
      run: async (ctx) => {
        if (ctx.args.length !== 2) throw new ExitV2Error(1, 'Provide a name and a single member peerURL\n');
        const [name, url] = ctx.args as [string, string];
        const c = await ctx.client();
        const a = await c.request(
          'POST',
          '/v2/members',
          JSON.stringify({ peerURLs: [url] }),
          'application/json',
        );
        if (a.status !== 201) throw new ExitV2Error(1, `${membersMessage(a)}\n`);
        const added = JSON.parse(a.body) as { id: string };
        const members = await membersOf(c);
        const conf = members.flatMap((m) =>
          m.peerURLs.map((u) => `${m.id === added.id ? name : m.name}=${u}`),
        );
        ctx.io.out(
          `Added member named ${name} with ID ${added.id} to cluster\n\n` +
            `ETCD_NAME=${JSON.stringify(name)}\nETCD_INITIAL_CLUSTER=${JSON.stringify(conf.join(','))}\n` +
            'ETCD_INITIAL_CLUSTER_STATE="existing"\n',
        );
      },
    },
    {
      name: 'remove',
      usage: 'remove an existing member from the etcd cluster',
      argsUsage: '<memberID>',
      flags: [],
      run: async (ctx) => {
        if (ctx.args.length !== 1) throw new ExitV2Error(1, 'Provide a single member ID\n');
        const id = ctx.args[0]!;
        const c = await ctx.client();
        let members: Awaited<ReturnType<V2Client['members']>>;
        try {
          members = await c.members();
        } catch (err) {
          throw new ExitV2Error(
            1,
            `Error while verifying ID against known members: ${(err as Error).message}\n`,
          );
        }
        let err = '';
        for (const m of members) {
          if (m.name === id) {
            err +=
              `Found a member named ${m.name}; if this is correct, please use its ID, eg:\n\tetcdctl member remove ${m.id}\n` +
              'For more details, read the documentation at https://github.com/etcd-io/etcd/blob/master/Documentation/runtime-configuration.md#remove-a-member\n\n';
          }
        }
        if (err !== '') ctx.io.err(err);
        if (!members.some((m) => m.id === id)) {
          throw new ExitV2Error(1, `Couldn't find a member in the cluster with an ID of ${id}.\n`);
        }
        const a = await c.request('DELETE', `/v2/members/${id}`);
        if (a.status !== 204) {
          throw new ExitV2Error(1, `Received an error trying to remove member ${id}: ${membersMessage(a)}`);
        }
        ctx.io.out(`Removed member ${id} from cluster\n`);
      },
    },
    {
      name: 'update',
      usage: 'update an existing member in the etcd cluster',
      argsUsage: '<memberID> <peerURLs>',
      flags: [],
      run: async (ctx) => {
        if (ctx.args.length !== 2) {
          throw new ExitV2Error(
            1,
            'Provide an ID and a list of comma separated peerURL (0xabcd http://example.com,http://example1.com)\n',
          );
        }
        const [id, urls] = ctx.args as [string, string];
        const c = await ctx.client();
        const a = await c.request(
          'PUT',
          `/v2/members/${id}`,
          JSON.stringify({ peerURLs: urls.split(',') }),
          'application/json',
        );
        if (a.status !== 204) throw new ExitV2Error(1, `${membersMessage(a)}\n`);
        ctx.io.out(`Updated member with ID ${id} in cluster\n`);
      },
    },
  ],
};

const clusterHealthCommand: V2Command = {
  name: 'cluster-health',
  usage: 'check the health of the etcd cluster',
  argsUsage: ' ',
  flags: [
    { names: ['forever', 'f'], kind: 'bool', usage: 'forever check the health every 10 second until CTRL+C' },
  ],
  run: async (ctx) => {
    const c = await ctx.client(false);
    let members: Awaited<ReturnType<V2Client['members']>>;
    try {
      members = await c.members();
    } catch (err) {
      ctx.io.out('cluster may be unhealthy: failed to list members\n');
      failWith(ExitV2.serverError, err);
    }
    for (;;) {
      let healthy = 0;
      let out = '';
      for (const m of members) {
        if (m.clientURLs.length === 0) {
          out += `member ${m.id} is unreachable: no available published client urls\n`;
          continue;
        }
        let checked = false;
        for (const url of m.clientURLs) {
          let body: string;
          try {
            const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
            body = await res.text();
          } catch (err) {
            out += `failed to check the health of member ${m.id} on ${url}: ${(err as Error).message}\n`;
            continue;
          }
          let ok: boolean;
          try {
            const h = (JSON.parse(body) as { health?: string | boolean }).health;
            ok = h === 'true' || h === true;
          } catch (err) {
            out += `failed to check the health of member ${m.id} on ${url}: ${(err as Error).message}\n`;
            continue;
          }
          checked = true;
          if (ok) {
            out += `member ${m.id} is healthy: got healthy result from ${url}\n`;
            healthy++;
          } else {
            out += `member ${m.id} is unhealthy: got unhealthy result from ${url}\n`;
          }
          break;
        }
        if (!checked)
          out += `member ${m.id} is unreachable: [${m.clientURLs.join(' ')}] are all unreachable\n`;
      }
      out +=
        healthy === members.length
          ? 'cluster is healthy\n'
          : healthy === 0
            ? 'cluster is unavailable\n'
            : 'cluster is degraded\n';
      ctx.io.out(out);
      if (!ctx.flags.bool('forever')) {
        if (healthy !== members.length) throw new ExitV2Error(ExitV2.notHealthy, '');
        return;
      }
      ctx.io.out('\nnext check after 10 second...\n\n');
      await new Promise((r) => setTimeout(r, 10_000));
    }
  },
};

function unsupported(name: string, usage: string): V2Command {
  return {
    name,
    usage,
    flags: [],
    run: async () => {
      throw new ExitV2Error(1, `Error:  etcdctl ${name} (API 2) is not supported by etcd-ts\n`);
    },
  };
}

export const v2Commands: V2Command[] = [
  unsupported('backup', 'backup an etcd directory'),
  clusterHealthCommand,
  mkCommand,
  dirCommand('mkdir', 'make a new directory', 'false'),
  rmCommand,
  rmdirCommand,
  getCommand,
  lsCommand,
  setCommand,
  dirCommand('setdir', 'create a new directory or update an existing directory TTL', undefined),
  updateCommand,
  dirCommand('updatedir', 'update an existing directory', 'true', '<key> <value>'),
  watchCommand,
  unsupported('exec-watch', 'watch a key for changes and exec an executable'),
  memberCommand,
  unsupported('user', 'user add, grant and revoke subcommands'),
  unsupported('role', 'role add, grant and revoke subcommands'),
  unsupported('auth', 'overall auth controls'),
];

export { ParsedFlags };
