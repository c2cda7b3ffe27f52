// etcdctl with ETCDCTL_API=2: etcd 3.4's v2 command line client (urfave/cli
// layout, etcd's Go client v2 behind it), over the v2 HTTP API.
import { parseDuration } from '../../../util/go-duration.js';
import { CTL_VERSION } from '../cmd-version.js';
import type { CliIo } from '../io.js';
import { tlsFiles, V2Client } from './client.js';
import { ExitV2, ExitV2Error, failWith, type V2Command, type V2Context, v2Commands } from './commands.js';
import { FlagError, type FlagSpec, parseFlags, reorderArgs } from './flags.js';
import { commandHelp, globalHelp } from './help.js';

const GLOBAL_FLAGS: FlagSpec[] = [
  {
    names: ['debug'],
    kind: 'bool',
    usage: 'output cURL commands which can be used to reproduce the request',
  },
  { names: ['no-sync'], kind: 'bool', usage: "don't synchronize cluster information before sending request" },
  {
    names: ['output', 'o'],
    kind: 'string',
    value: 'simple',
    usage: 'output response in the given format (`simple`, `extended` or `json`)',
  },
  {
    names: ['discovery-srv', 'D'],
    kind: 'string',
    usage: 'domain name to query for SRV records describing cluster endpoints',
  },
  {
    names: ['insecure-discovery'],
    kind: 'bool',
    usage: 'accept insecure SRV records describing cluster endpoints',
  },
  { names: ['peers', 'C'], kind: 'string', usage: 'DEPRECATED - "--endpoints" should be used instead' },
  { names: ['endpoint'], kind: 'string', usage: 'DEPRECATED - "--endpoints" should be used instead' },
  {
    names: ['endpoints'],
    kind: 'string',
    usage:
      'a comma-delimited list of machine addresses in the cluster (default: "http://127.0.0.1:2379,http://127.0.0.1:4001")',
  },
  { names: ['cert-file'], kind: 'string', usage: 'identify HTTPS client using this SSL certificate file' },
  { names: ['key-file'], kind: 'string', usage: 'identify HTTPS client using this SSL key file' },
  {
    names: ['ca-file'],
    kind: 'string',
    usage: 'verify certificates of HTTPS-enabled servers using this CA bundle',
  },
  {
    names: ['username', 'u'],
    kind: 'string',
    usage: 'provide username[:password] and prompt if password is not supplied.',
  },
  { names: ['timeout'], kind: 'duration', value: '2s', usage: 'connection timeout per request' },
  {
    names: ['total-timeout'],
    kind: 'duration',
    value: '5s',
    usage: 'timeout for the command execution (except watch)',
  },
  { names: ['help', 'h'], kind: 'bool', usage: 'show help' },
  { names: ['version', 'v'], kind: 'bool', usage: 'print the version' },
];

/** getPeersFlagValue: flags, then ETCDCTL_* variables, then the default. */
function endpointsOf(flags: ReturnType<typeof parseFlags>[0], env: CliIo['env']): string[] {
  const candidates = [
    flags.string('endpoints'),
    env.ETCDCTL_ENDPOINTS ?? '',
    flags.string('endpoint'),
    env.ETCDCTL_ENDPOINT ?? '',
    flags.string('peers'),
    env.ETCDCTL_PEERS ?? '',
  ];
  const chosen = candidates.find((c) => c !== '') ?? 'http://127.0.0.1:2379,http://127.0.0.1:4001';
  return chosen.split(',').map((e) => (/^[a-z]+:\/\//i.test(e) ? e : `http://${e}`));
}

function findCommand(list: readonly V2Command[], name: string): V2Command | undefined {
  return list.find((c) => c.name === name);
}

export async function runCtlV2(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    let global: ReturnType<typeof parseFlags>;
    try {
      global = parseFlags(GLOBAL_FLAGS, argv);
    } catch (e) {
      if (!(e instanceof FlagError)) throw e;
      io.err(`Incorrect Usage: ${e.message}\n\n`);
      io.out(globalHelp(v2Commands, GLOBAL_FLAGS.slice(0, -2)));
      return 1;
    }
    const [flags, rest] = global;
    if (flags.bool('version')) {
      io.out(`etcdctl version: ${CTL_VERSION}\nAPI version: 2\n`);
      return 0;
    }
    const name = rest[0];
    if (name === undefined || flags.bool('help') || name === 'help' || name === 'h') {
      const topic = name === 'help' || name === 'h' ? rest[1] : undefined;
      const c = topic === undefined ? undefined : findCommand(v2Commands, topic);
      if (topic !== undefined && c === undefined) {
        io.err(`No help topic for '${topic}'\n`);
        return 3;
      }
      io.out(c === undefined ? globalHelp(v2Commands, GLOBAL_FLAGS.slice(0, -2)) : commandHelp(c));
      return 0;
    }
    let command = findCommand(v2Commands, name);
    if (command === undefined) {
      io.err(`No help topic for '${name}'\n`);
      return 3;
    }
    let args = rest.slice(1);
    let prefix = name;
    if (command.subcommands !== undefined) {
      const sub = args[0] === undefined ? undefined : findCommand(command.subcommands, args[0]);
      if (sub === undefined) {
        io.out(
          `NAME:\n   etcdctl ${name} - ${command.usage}\n\nUSAGE:\n   etcdctl ${name} command [command options] [arguments...]\n\nCOMMANDS:\n${command.subcommands.map((s) => `   ${s.name.padEnd(8)}${s.usage}`).join('\n')}\n\nOPTIONS:\n   --help, -h  show help\n   \n`,
        );
        return 0;
      }
      command = sub;
      prefix = `${name} ${sub.name}`;
      args = args.slice(1);
    }
    const cmdSpecs: FlagSpec[] = [
      ...command.flags,
      { names: ['help', 'h'], kind: 'bool', usage: 'show help' },
    ];
    let parsed: ReturnType<typeof parseFlags>;
    try {
      parsed = parseFlags(cmdSpecs, reorderArgs(cmdSpecs, args));
    } catch (e) {
      if (!(e instanceof FlagError)) throw e;
      io.err(`Incorrect Usage: ${e.message}\n\n`);
      io.out(commandHelp({ ...command, name: prefix }));
      return 1;
    }
    if (parsed[0].bool('help')) {
      io.out(commandHelp({ ...command, name: prefix }));
      return 0;
    }
    const username = flags.string('username');
    const client = new V2Client({
      endpoints: endpointsOf(flags, io.env),
      timeoutMs: parseDuration(flags.string('total-timeout')) / 1e6,
      ...tlsFiles(flags.string('ca-file'), flags.string('cert-file'), flags.string('key-file')),
      ...(username === '' ? {} : { auth: username }),
    });
    let synced = false;
    const ctx: V2Context = {
      args: parsed[1],
      flags: parsed[0],
      format: flags.string('output'),
      io,
      client: async (sync = true) => {
        if (sync && !synced && !flags.bool('no-sync')) {
          try {
            await client.sync();
          } catch (err) {
            failWith(
              err instanceof Error && err.message.startsWith('client: etcd cluster')
                ? ExitV2.badConnection
                : ExitV2.serverError,
              err,
            );
          }
          synced = true;
        }
        return client;
      },
    };
    await command.run?.(ctx);
    return 0;
  } catch (e) {
    if (e instanceof ExitV2Error) {
      io.err(e.stderr);
      return e.code;
    }
    throw e;
  }
}
