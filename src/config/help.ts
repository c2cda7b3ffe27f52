// Texts for "etcd -h": a short usage (also printed after a command-line syntax
// error, as etcd does) and the list of flags generated from the flag table.

import { FLAG_DEFS, type FlagDef } from './flags.js';
import { formatGoDuration } from './values.js';

export const USAGE_TEXT = `Usage:

  etcd [flags]
    Run one etcd member (etcd-ts, compatible with etcd 3.4).

  etcd --version
    Print the version and exit.

  etcd -h | --help
    Print this help and exit.

  etcd --config-file <path>
    Read the configuration from a YAML file; flags and ETCD_* variables are then ignored.

  etcd gateway start --endpoints=<urls> --listen-addr=<addr>
    Run a TCP proxy in front of the cluster's client URLs.
`;

function defaultText(d: FlagDef): string {
  if (d.name === 'data-dir') return '<name>.etcd';
  const v = d.default;
  if (Array.isArray(v)) return v.join(',');
  if (d.kind === 'duration' && typeof v === 'number') return formatGoDuration(v);
  return String(v);
}

/** One entry per flag: "--name 'default'" and a line saying what it does. */
export function flagsHelpText(): string {
  const lines = [
    '',
    'Every flag may also be given as an environment variable: --some-flag=x is ETCD_SOME_FLAG=x.',
    'A flag given on the command line and in the environment is an error.',
    '',
    'Flags:',
  ];
  for (const d of FLAG_DEFS) {
    if (d.kind === 'ignored') continue;
    lines.push(`  --${d.name} '${defaultText(d)}'`, `    ${d.help}`);
  }
  return `${lines.join('\n')}\n`;
}
