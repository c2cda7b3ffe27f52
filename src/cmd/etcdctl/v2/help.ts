// etcdctl v2's help texts, in urfave/cli's layout.
import { CTL_VERSION } from '../cmd-version.js';
import type { FlagSpec } from './flags.js';

export interface CommandHelp {
  name: string;
  usage: string;
  argsUsage?: string;
  description?: string;
  flags: FlagSpec[];
}

function flagTitle(f: FlagSpec): string {
  const placeholder = /`([^`]+)`/.exec(f.usage)?.[1] ?? 'value';
  return f.names
    .map((n) => {
      const dash = n.length === 1 ? '-' : '--';
      return f.kind === 'bool' ? `${dash}${n}` : `${dash}${n} ${placeholder}`;
    })
    .join(', ');
}

function flagUsage(f: FlagSpec): string {
  const usage = f.usage.replace(/`([^`]+)`/, '$1');
  if (f.kind === 'bool') return usage;
  if (f.kind === 'string') return f.value ? `${usage} (default: ${JSON.stringify(f.value)})` : usage;
  return `${usage} (default: ${f.value ?? '0'})`;
}

/** Two-column rows as Go's tabwriter pads them (two spaces after the widest). */
export function flagRows(flags: readonly FlagSpec[]): string {
  const titles = flags.map(flagTitle);
  const width = Math.max(0, ...titles.map((t) => t.length)) + 2;
  return flags.map((f, i) => `   ${titles[i]!.padEnd(width)}${flagUsage(f)}`).join('\n');
}

export function commandHelp(c: CommandHelp): string {
  let out = `NAME:\n   etcdctl ${c.name} - ${c.usage}\n\nUSAGE:\n   etcdctl ${c.name}${c.flags.length > 0 ? ' [command options]' : ''} ${c.argsUsage ?? '[arguments...]'}\n`;
  if (c.description !== undefined) out += `\nDESCRIPTION:\n   ${c.description}\n`;
  if (c.flags.length > 0) out += `\nOPTIONS:\n${flagRows(c.flags)}\n   \n`;
  return out;
}

export function globalHelp(
  commands: readonly { name: string; usage: string }[],
  flags: readonly FlagSpec[],
): string {
  const rows = [...commands, { name: 'help, h', usage: 'Shows a list of commands or help for one command' }];
  const width = Math.max(...rows.map((r) => r.name.length)) + 2;
  const help: FlagSpec = { names: ['help', 'h'], kind: 'bool', usage: 'show help' };
  const version: FlagSpec = { names: ['version', 'v'], kind: 'bool', usage: 'print the version' };
  return (
    'NAME:\n   etcdctl - A simple command line client for etcd.\n\n' +
    'USAGE:\n   etcdctl [global options] command [command options] [arguments...]\n\n' +
    `VERSION:\n   ${CTL_VERSION}\n\n` +
    `COMMANDS:\n${rows.map((r) => `   ${r.name.padEnd(width)}${r.usage}`).join('\n')}\n\n` +
    `GLOBAL OPTIONS:\n${flagRows([...flags, help, version])}\n`
  );
}
