import type { Command } from './command.js';
import type { FlagSpec } from './flags.js';

/** A help text in etcdctl's layout (NAME, USAGE, OPTIONS, GLOBAL OPTIONS). */
export function usageText(chain: readonly Command[]): string {
  const cmd = chain[chain.length - 1] as Command;
  const parentPath = chain
    .slice(0, -1)
    .map((c) => c.name)
    .join(' ');
  let out = `NAME:\n\t${
    chain.length > 1
      ? `${chain
          .slice(1)
          .map((c) => c.name)
          .join(' ')} - `
      : `${cmd.name} - `
  }${cmd.short}\n\n`;
  out += `USAGE:\n\t${parentPath === '' ? cmd.use : `${parentPath} ${cmd.use}`}${cmd.flags !== undefined || chain.length > 1 ? ' [flags]' : ''}\n\n`;
  if ((cmd.subcommands ?? []).length > 0) {
    out += 'COMMANDS:\n';
    for (const s of cmd.subcommands ?? []) out += `\t${s.name.padEnd(24)}${s.short}\n`;
    out += '\n';
  }
  const own: FlagSpec[] = [
    ...(cmd.flags ?? []),
    ...(chain.length > 1 ? (cmd.persistentFlags ?? []) : []),
    { name: 'help', short: 'h', kind: 'bool', def: 'false', usage: `help for ${cmd.name}` },
  ];
  out += `OPTIONS:\n${flagLines(own)}\n`;
  const inherited = chain.slice(0, -1).flatMap((c) => c.persistentFlags ?? []);
  if (inherited.length > 0) out += `GLOBAL OPTIONS:\n${flagLines(inherited)}\n`;
  return out;
}

/** One line per flag, descriptions aligned with tabs as Go's text/tabwriter (tab width 8) does. */
function flagLines(specs: readonly FlagSpec[]): string {
  const sorted = [...specs].sort((a, b) => (a.name < b.name ? -1 : 1));
  const heads = sorted.map((s) => {
    const head = s.short !== undefined ? `  -${s.short}, --${s.name}` : `      --${s.name}`;
    return head + defaultText(s);
  });
  const column = Math.ceil((Math.max(0, ...heads.map((h) => h.length)) + 1) / 8) * 8;
  return sorted
    .map((s, i) => {
      const head = heads[i] as string;
      return `${head}${'\t'.repeat(Math.ceil((column - head.length) / 8))}${s.usage}\n`;
    })
    .join('');
}

function defaultText(s: FlagSpec): string {
  switch (s.kind) {
    case 'bool':
      return `[=${s.def}]`;
    case 'string':
      return `=${JSON.stringify(s.def)}`;
    case 'stringSlice':
      return `=[${s.def}]`;
    default:
      return `=${s.def}`;
  }
}
