import { AuthStatusRequest, AuthStatusResponse } from '../../auth/status-codec.js';
import type { EtcdClient } from '../../client/index.js';
import { Permission_Type } from '../../pb/authpb/auth.js';
import type { AuthRoleGetResponse, ResponseHeader } from '../../pb/etcdserverpb/rpc.js';
import type { Command, CommandContext } from './command.js';
import { errorText, exitCodeOf } from './errors.js';
import { commandDeadline, rpc, withClient } from './global.js';
import { Exit, fail } from './io.js';
import { prefixRangeEnd } from './keys.js';
import { askSecret, secretInputOf } from './password-prompt.js';
import { type GoJson, goJson, omitEmpty, omitZero } from './printer/go-json.js';
import { goQuote } from './printer/go-quote.js';

/**
 * auth, user and role commands. Their results print in the simple format as
 * sentences; json prints the response message; fields prints the header
 * (and role permissions / lists); other formats are refused.
 */

const ROOT_ROLE_MISSING = 'etcdserver: root user does not have root role';

type Extra = Record<string, GoJson>;

function header(h: ResponseHeader | undefined): GoJson {
  if (h === undefined) return undefined;
  return {
    cluster_id: omitZero(h.clusterId),
    member_id: omitZero(h.memberId),
    revision: omitZero(h.revision),
    raft_term: omitZero(h.raftTerm),
  };
}

/** Prints one auth result in the chosen format. */
function show(
  ctx: CommandContext,
  h: ResponseHeader | undefined,
  simple: string,
  extra: Extra = {},
  fields = '',
): void {
  const format = ctx.flags.string('write-out');
  switch (format) {
    case 'simple':
      ctx.io.out(simple);
      return;
    case 'json':
      ctx.io.out(`${goJson({ header: header(h), ...extra })}\n`);
      return;
    case 'fields':
      ctx.io.out(
        `"ClusterID" : ${h?.clusterId ?? 0n}\n"MemberID" : ${h?.memberId ?? 0n}\n"Revision" : ${h?.revision ?? 0}\n"RaftTerm" : ${h?.raftTerm ?? 0}\n${fields}`,
      );
      return;
    case 'table':
    case 'protobuf':
      fail(Exit.badFeature, `${format} not supported as output format`);
      break;
    default:
      fail(Exit.badFeature, 'unsupported output format');
  }
}

function args(ctx: CommandContext, n: number, message: string): string[] {
  if (ctx.args.length !== n) fail(Exit.badArgs, message);
  return ctx.args;
}

const PERM_NAMES = ['READ', 'WRITE', 'READWRITE'];

function roleGetText(role: string, r: AuthRoleGetResponse): string {
  let out = `Role ${role}\nKV Read:\n`;
  const line = (key: Buffer, end: Buffer) => {
    if (end.length === 0) return `\t${key.toString('latin1')}\n`;
    const k = key.toString('latin1');
    const e = end.toString('latin1');
    let s = e !== '\x00' ? `\t[${k}, ${e})` : `\t[${k}, <open ended>`;
    if (prefixRangeEnd(key).toString('latin1') === e) s += ` (prefix ${k})`;
    return `${s}\n`;
  };
  for (const p of r.perm) {
    if (p.permType === Permission_Type.READ || p.permType === Permission_Type.READWRITE)
      out += line(p.key, p.rangeEnd);
  }
  out += 'KV Write:\n';
  for (const p of r.perm) {
    if (p.permType === Permission_Type.WRITE || p.permType === Permission_Type.READWRITE)
      out += line(p.key, p.rangeEnd);
  }
  return out;
}

function permJson(r: AuthRoleGetResponse): Extra {
  return {
    perm: omitEmpty(
      r.perm.map((p) => ({
        permType: omitZero(p.permType),
        key: omitEmpty(p.key),
        range_end: omitEmpty(p.rangeEnd),
      })),
    ),
  };
}

function permFields(r: AuthRoleGetResponse): string {
  return r.perm
    .map(
      (p) =>
        `"PermType" :  ${PERM_NAMES[p.permType] ?? p.permType}\n"Key" : ${goQuote(p.key)}\n"RangeEnd" : ${goQuote(p.rangeEnd)}\n`,
    )
    .join('');
}

const authCommand: Command = {
  name: 'auth',
  use: 'auth <enable or disable>',
  short: 'Enable or disable authentication',
  subcommands: [
    {
      name: 'enable',
      use: 'enable',
      short: 'Enables authentication',
      run: async (ctx) => {
        if (ctx.args.length !== 0) fail(Exit.badArgs, 'auth enable command does not accept any arguments');
        const deadline = commandDeadline(ctx);
        await withClient(ctx, async (client) => {
          for (;;) {
            try {
              await client.auth.authEnable({}, { deadline });
              break;
            } catch (e) {
              // etcdctl creates the root role on demand, then tries again.
              if (errorText(e) !== ROOT_ROLE_MISSING) return fail(exitCodeOf(e), errorText(e));
              await rpc(client.auth.roleAdd({ name: 'root' }, { deadline }));
              await rpc(client.auth.userGrantRole({ user: 'root', role: 'root' }, { deadline }));
            }
          }
        });
        ctx.io.out('Authentication Enabled\n');
      },
    },
    {
      name: 'disable',
      use: 'disable',
      short: 'Disables authentication',
      run: async (ctx) => {
        if (ctx.args.length !== 0) fail(Exit.badArgs, 'auth disable command does not accept any arguments');
        const deadline = commandDeadline(ctx);
        await withClient(ctx, (client) => rpc(client.auth.authDisable({}, { deadline })));
        ctx.io.out('Authentication Disabled\n');
      },
    },
    {
      name: 'status',
      use: 'status',
      short: 'Returns authentication status',
      run: async (ctx) => {
        if (ctx.args.length !== 0) fail(Exit.badArgs, 'auth status command does not accept any arguments');
        const deadline = commandDeadline(ctx);
        await withClient(ctx, async (client) => {
          const r = await rpc(authStatus(client, deadline));
          show(ctx, r.header, `Authentication Status: ${r.enabled}\nAuthRevision: ${r.authRevision}\n`, {
            enabled: r.enabled ? true : undefined,
            authRevision: omitZero(r.authRevision),
          });
        });
      },
    },
  ],
};

/** etcd 3.5's Auth.AuthStatus (not in etcd 3.4's protos, so not on the client's generated stub). */
async function authStatus(client: EtcdClient, deadline: number): Promise<AuthStatusResponse> {
  const body = AuthStatusRequest.encode({}).finish();
  const raw = await client.unaryRaw('/etcdserverpb.Auth/AuthStatus', body, { deadline }, true);
  return AuthStatusResponse.decode(raw);
}

/** Password from stdin without a prompt (--interactive=false: Go's fmt.Scanf("%s")). */
async function passwordFromStdin(ctx: CommandContext): Promise<string> {
  const text = (await ctx.io.readStdin()).toString();
  return text.trim().split(/\s+/)[0] ?? '';
}

/** etcdctl's readPasswordInteractive: asked twice, both must match and not be empty. */
function passwordInteractive(ctx: CommandContext, name: string): string {
  const input = secretInputOf(ctx.io);
  const first = askSecret(ctx.io, input, `Password of ${name}: `);
  if (first.length === 0) fail(Exit.badArgs, 'empty password');
  const second = askSecret(ctx.io, input, `Type password of ${name} again for confirmation: `);
  if (first !== second) fail(Exit.badArgs, 'given passwords are different');
  return first;
}

const userCommand: Command = {
  name: 'user',
  use: 'user <subcommand>',
  short: 'User related commands',
  subcommands: [
    {
      name: 'add',
      use: 'add <user name or user:password> [options]',
      short: 'Adds a new user',
      flags: [
        {
          name: 'interactive',
          kind: 'bool',
          def: 'true',
          usage: 'Read password from stdin instead of interactive terminal',
        },
        {
          name: 'new-user-password',
          kind: 'string',
          def: '',
          usage: 'Supply password from the command line flag',
        },
        {
          name: 'no-password',
          kind: 'bool',
          def: 'false',
          usage: 'Create a user without password (CN based auth only)',
        },
      ],
      run: async (ctx) => {
        const [arg] = args(ctx, 1, 'user add command requires user name as its argument') as [string];
        let user = arg;
        let password = '';
        const noPassword = ctx.flags.bool('no-password');
        if (!noPassword) {
          const fromFlag = ctx.flags.string('new-user-password');
          const colon = arg.indexOf(':');
          if (fromFlag !== '') password = fromFlag;
          else if (colon >= 0) {
            user = arg.slice(0, colon);
            password = arg.slice(colon + 1);
            if (user.length === 0) fail(Exit.badArgs, 'empty user name is not allowed');
          } else if (ctx.flags.bool('interactive')) password = passwordInteractive(ctx, arg);
          else password = await passwordFromStdin(ctx);
        }
        await withClient(ctx, async (client) => {
          const r = await rpc(client.auth.userAdd({ name: user, password, options: { noPassword } }));
          show(ctx, r.header, `User ${user} created\n`);
        });
      },
    },
    {
      name: 'delete',
      use: 'delete <user name>',
      short: 'Deletes a user',
      run: async (ctx) => {
        const [name] = args(ctx, 1, 'user delete command requires user name as its argument') as [string];
        await withClient(ctx, async (client) => {
          const r = await rpc(client.auth.userDelete({ name }));
          show(ctx, r.header, `User ${name} deleted\n`);
        });
      },
    },
    {
      name: 'get',
      use: 'get <user name> [options]',
      short: 'Gets detailed information of a user',
      flags: [
        {
          name: 'detail',
          kind: 'bool',
          def: 'false',
          usage: 'Show permissions of roles granted to the user',
        },
      ],
      run: async (ctx) => {
        const [name] = args(ctx, 1, 'user get command requires user name as its argument') as [string];
        await withClient(ctx, async (client) => {
          const r = await rpc(client.auth.userGet({ name }));
          if (!ctx.flags.bool('detail')) {
            if (ctx.flags.string('write-out') === 'fields')
              fail(Exit.badFeature, 'fields not supported as output format');
            show(ctx, r.header, `User: ${name}\nRoles:${r.roles.map((x) => ` ${x}`).join('')}\n`, {
              roles: omitEmpty(r.roles),
            });
            return;
          }
          ctx.io.out(`User: ${name}\n`);
          for (const role of r.roles) {
            ctx.io.out('\n');
            const rr = await rpc(client.auth.roleGet({ role }));
            show(ctx, rr.header, roleGetText(role, rr), permJson(rr), permFields(rr));
          }
        });
      },
    },
    {
      name: 'list',
      use: 'list',
      short: 'Lists all users',
      run: async (ctx) => {
        args(ctx, 0, 'user list command requires no arguments');
        await withClient(ctx, async (client) => {
          const r = await rpc(client.auth.userList({}));
          if (ctx.flags.string('write-out') === 'fields')
            fail(Exit.badFeature, 'fields not supported as output format');
          show(ctx, r.header, r.users.map((u) => `${u}\n`).join(''), { users: omitEmpty(r.users) });
        });
      },
    },
    {
      name: 'passwd',
      use: 'passwd <user name> [options]',
      short: 'Changes password of user',
      flags: [
        {
          name: 'interactive',
          kind: 'bool',
          def: 'true',
          usage: 'If true, read password from stdin instead of interactive terminal',
        },
      ],
      run: async (ctx) => {
        const [name] = args(ctx, 1, 'user passwd command requires user name as its argument') as [string];
        const password = ctx.flags.bool('interactive')
          ? passwordInteractive(ctx, name)
          : await passwordFromStdin(ctx);
        await withClient(ctx, async (client) => {
          const r = await rpc(client.auth.userChangePassword({ name, password }));
          show(ctx, r.header, 'Password updated\n');
        });
      },
    },
    {
      name: 'grant-role',
      use: 'grant-role <user name> <role name>',
      short: 'Grants a role to a user',
      run: async (ctx) => {
        const [user, role] = args(
          ctx,
          2,
          'user grant command requires user name and role name as its argument',
        ) as [string, string];
        await withClient(ctx, async (client) => {
          const r = await rpc(client.auth.userGrantRole({ user, role }));
          show(ctx, r.header, `Role ${role} is granted to user ${user}\n`);
        });
      },
    },
    {
      name: 'revoke-role',
      use: 'revoke-role <user name> <role name>',
      short: 'Revokes a role from a user',
      run: async (ctx) => {
        const [name, role] = args(
          ctx,
          2,
          'user revoke-role requires user name and role name as its argument',
        ) as [string, string];
        await withClient(ctx, async (client) => {
          const r = await rpc(client.auth.userRevokeRole({ name, role }));
          show(ctx, r.header, `Role ${role} is revoked from user ${name}\n`);
        });
      },
    },
  ],
};

/** Key and range end of a permission from arguments and --prefix/--from-key. */
function permRange(ctx: CommandContext, rest: string[]): { key: string; end: string } {
  const prefix = ctx.flags.bool('prefix');
  const fromKey = ctx.flags.bool('from-key');
  const key = rest[0] as string;
  if (key.length === 0) {
    if (prefix && fromKey) fail(Exit.badArgs, '--from-key and --prefix flags are mutually exclusive');
    return { key: '\x00', end: prefix || fromKey ? '\x00' : '' };
  }
  if (rest.length === 1) {
    if (prefix && fromKey) fail(Exit.badArgs, '--from-key and --prefix flags are mutually exclusive');
    if (prefix) return { key, end: prefixRangeEnd(Buffer.from(key)).toString('latin1') };
    return { key, end: fromKey ? '\x00' : '' };
  }
  if (prefix) fail(Exit.badArgs, 'unexpected endkey argument with --prefix flag');
  if (fromKey) fail(Exit.badArgs, 'unexpected endkey argument with --from-key flag');
  return { key, end: rest[1] as string };
}

const PERM_FLAGS = (verb: string) =>
  [
    { name: 'prefix', kind: 'bool', def: 'false', usage: `${verb} a prefix permission` },
    {
      name: 'from-key',
      kind: 'bool',
      def: 'false',
      usage: `${verb} a permission of keys that are greater than or equal to the given key using byte compare`,
    },
  ] as const;

const roleCommand: Command = {
  name: 'role',
  use: 'role <subcommand>',
  short: 'Role related commands',
  subcommands: [
    {
      name: 'add',
      use: 'add <role name>',
      short: 'Adds a new role',
      run: async (ctx) => {
        const [name] = args(ctx, 1, 'role add command requires role name as its argument') as [string];
        await withClient(ctx, async (client) => {
          show(ctx, (await rpc(client.auth.roleAdd({ name }))).header, `Role ${name} created\n`);
        });
      },
    },
    {
      name: 'delete',
      use: 'delete <role name>',
      short: 'Deletes a role',
      run: async (ctx) => {
        const [role] = args(ctx, 1, 'role delete command requires role name as its argument') as [string];
        await withClient(ctx, async (client) => {
          show(ctx, (await rpc(client.auth.roleDelete({ role }))).header, `Role ${role} deleted\n`);
        });
      },
    },
    {
      name: 'get',
      use: 'get <role name>',
      short: 'Gets detailed information of a role',
      run: async (ctx) => {
        const [role] = args(ctx, 1, 'role get command requires role name as its argument') as [string];
        await withClient(ctx, async (client) => {
          const r = await rpc(client.auth.roleGet({ role }));
          show(ctx, r.header, roleGetText(role, r), permJson(r), permFields(r));
        });
      },
    },
    {
      name: 'list',
      use: 'list',
      short: 'Lists all roles',
      run: async (ctx) => {
        args(ctx, 0, 'role list command requires no arguments');
        await withClient(ctx, async (client) => {
          const r = await rpc(client.auth.roleList({}));
          show(
            ctx,
            r.header,
            r.roles.map((x) => `${x}\n`).join(''),
            { roles: omitEmpty(r.roles) },
            `"Roles" :${r.roles.map((x) => ` ${goQuote(x)}`).join('')}\n`,
          );
        });
      },
    },
    {
      name: 'grant-permission',
      use: 'grant-permission [options] <role name> <permission type> <key> [endkey]',
      short: 'Grants a key to a role',
      flags: PERM_FLAGS('grant'),
      run: async (ctx) => {
        if (ctx.args.length < 3) {
          fail(
            Exit.badArgs,
            'role grant command requires role name, permission type, and key [endkey] as its argument',
          );
        }
        const [name, type, ...rest] = ctx.args as [string, string, ...string[]];
        const permType = PERM_NAMES.indexOf(type.toUpperCase());
        if (permType < 0) fail(Exit.badArgs, `invalid permission type: ${type}`);
        const { key, end } = permRange(ctx, rest);
        await withClient(ctx, async (client) => {
          const r = await rpc(
            client.auth.roleGrantPermission({
              name,
              perm: { permType, key: Buffer.from(key, 'latin1'), rangeEnd: Buffer.from(end, 'latin1') },
            }),
          );
          show(ctx, r.header, `Role ${name} updated\n`);
        });
      },
    },
    {
      name: 'revoke-permission',
      use: 'revoke-permission <role name> <key> [endkey]',
      short: 'Revokes a key from a role',
      flags: PERM_FLAGS('revoke'),
      run: async (ctx) => {
        if (ctx.args.length < 2) {
          fail(
            Exit.badArgs,
            'role revoke-permission command requires role name and key [endkey] as its argument',
          );
        }
        const [role, ...rest] = ctx.args as [string, ...string[]];
        const { key, end } = permRange(ctx, rest);
        await withClient(ctx, async (client) => {
          const r = await rpc(
            client.auth.roleRevokePermission({
              role,
              key: Buffer.from(key, 'latin1'),
              rangeEnd: Buffer.from(end, 'latin1'),
            }),
          );
          const shownKey = rest[0] as string;
          let text: string;
          if (end.length === 0) text = `Permission of key ${shownKey} is revoked from role ${role}\n`;
          else if (end !== '\x00')
            text = `Permission of range [${shownKey}, ${end}) is revoked from role ${role}\n`;
          else text = `Permission of range [${shownKey}, <open ended> is revoked from role ${role}\n`;
          show(ctx, r.header, text);
        });
      },
    },
  ],
};

export const authCommands: Command[] = [authCommand, userCommand, roleCommand];
