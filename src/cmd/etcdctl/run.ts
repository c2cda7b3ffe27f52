import { bindCommand, type Command, FlagError, resolveCommand } from './command.js';
import { type CliIo, ExitError } from './io.js';
import { usageText } from './usage.js';
import { runCtlV2 } from './v2/index.js';

/**
 * Runs etcdctl with the given arguments (without the program name) and
 * returns the exit status. Output goes through io.
 */
export async function runCli(root: Command, argv: readonly string[], io: CliIo): Promise<number> {
  const api = io.env.ETCDCTL_API;
  // ETCDCTL_API=2: etcd 3.4's v2 client, a different command line altogether.
  if (api === '2') return runCtlV2(argv, io);
  if (api !== undefined && api !== '' && api !== '3') {
    io.err(`unsupported API version ${api}\n`);
    return 1;
  }
  try {
    const resolved = resolveCommand(root, argv);
    const command = resolved.chain[resolved.chain.length - 1] as Command;
    let ctx: ReturnType<typeof bindCommand>;
    try {
      ctx = bindCommand(resolved, io);
    } catch (e) {
      if (!(e instanceof FlagError)) throw e;
      io.err(`Error: ${e.message}\n`);
      io.out(usageText(resolved.chain));
      io.err(`\nError: ${e.message}\n`);
      return 1;
    }
    if (ctx.flags.has('help') && ctx.flags.bool('help')) {
      io.out(usageText(resolved.chain));
      return 0;
    }
    if (command.run === undefined) {
      if (resolved.chain.length === 1 && ctx.args.length > 0) {
        const text = `unknown command ${JSON.stringify(ctx.args[0])} for "etcdctl"`;
        io.err(`Error: ${text}\nRun 'etcdctl --help' for usage.\nError: ${text}\n`);
        return 1;
      }
      io.out(usageText(resolved.chain));
      return 0;
    }
    await command.run(ctx);
    return 0;
  } catch (e) {
    if (e instanceof ExitError) {
      if (e.text !== undefined) io.err(`${e.prefix}${e.text}\n`);
      return e.code;
    }
    throw e;
  }
}
