import { Flag, FlagError, FlagSet, type FlagSpec } from './flags.js';
import type { CliIo } from './io.js';

/** A command in etcdctl's tree (a cobra command, reduced to what we need). */
export interface Command {
  readonly name: string;
  readonly aliases?: readonly string[];
  /** Usage line after the command path, e.g. "get [options] <key> [range_end]". */
  readonly use: string;
  readonly short: string;
  readonly flags?: readonly FlagSpec[];
  /** Flags this command and all its subcommands accept. */
  readonly persistentFlags?: readonly FlagSpec[];
  readonly subcommands?: readonly Command[];
  readonly run?: (ctx: CommandContext) => Promise<void>;
}

/** Everything a running command sees. */
export interface CommandContext {
  /** Names from the root to this command, e.g. ["etcdctl", "member", "list"]. */
  readonly path: readonly string[];
  readonly args: string[];
  /** All flags the command accepts: its own plus inherited ones. */
  readonly flags: FlagSet;
  /** The inherited (persistent) flags only: what ETCDCTL_* variables may set and --debug lists. */
  readonly inherited: readonly Flag[];
  readonly io: CliIo;
}

export interface Resolved {
  readonly chain: readonly Command[];
  readonly args: readonly string[];
}

/**
 * Finds the command an argument list names, as cobra does: skip flags (and
 * the values of non-boolean flags), then match each word against the
 * subcommands, exactly or by unique prefix. Returns the chain and the
 * arguments with the command words removed.
 */
export function resolveCommand(root: Command, args: readonly string[]): Resolved {
  const chain: Command[] = [root];
  const rest = [...args];
  let i = 0;
  for (;;) {
    const current = chain[chain.length - 1] as Command;
    const subs = current.subcommands ?? [];
    if (subs.length === 0) break;
    const flagSet = flagSetFor(chain).flags;
    const at = nextWord(rest, i, flagSet);
    if (at < 0) break;
    const word = rest[at] as string;
    const found = matchCommand(subs, word);
    if (found === undefined) break;
    chain.push(found);
    rest.splice(at, 1);
    i = at;
  }
  return { chain, args: rest };
}

function nextWord(args: readonly string[], from: number, flags: FlagSet): number {
  for (let i = from; i < args.length; i++) {
    const s = args[i] as string;
    if (s === '--') return -1;
    if (s.startsWith('--') && !s.includes('=') && !flags.isBool(s.slice(2))) {
      i++;
      continue;
    }
    if (s.startsWith('-') && s.length === 2 && !flags.isShortBool(s.slice(1))) {
      i++;
      continue;
    }
    if (s !== '' && !s.startsWith('-')) return i;
  }
  return -1;
}

function matchCommand(subs: readonly Command[], word: string): Command | undefined {
  const exact = subs.find((c) => c.name === word || (c.aliases ?? []).includes(word));
  if (exact !== undefined) return exact;
  const byPrefix = subs.filter((c) => c.name.startsWith(word));
  return byPrefix.length === 1 ? byPrefix[0] : undefined;
}

/** Builds fresh flag objects for a command chain: local flags of the last, persistent flags of all. */
export function flagSetFor(chain: readonly Command[]): { flags: FlagSet; inherited: Flag[] } {
  const inherited: Flag[] = [];
  for (const c of chain.slice(0, -1)) for (const s of c.persistentFlags ?? []) inherited.push(new Flag(s));
  const last = chain[chain.length - 1] as Command;
  const help: FlagSpec = {
    name: 'help',
    short: 'h',
    kind: 'bool',
    def: 'false',
    usage: `help for ${last.name}`,
  };
  const own = [...(last.flags ?? []), ...(last.persistentFlags ?? []), help].map((s) => new Flag(s));
  return { flags: new FlagSet([...own, ...inherited]), inherited };
}

/** Parses flags for the resolved command; FlagError on bad input. */
export function bindCommand(resolved: Resolved, io: CliIo): CommandContext {
  const { flags, inherited } = flagSetFor(resolved.chain);
  const args = flags.parse(resolved.args);
  return { path: resolved.chain.map((c) => c.name), args, flags, inherited, io };
}

export { FlagError };
