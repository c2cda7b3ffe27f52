// ETCD_* environment variables, with etcd's rules (pkg/flags/flag.go):
//  - every flag "some-flag" may come from ETCD_SOME_FLAG when it is not on the command line;
//  - an empty variable counts as unset;
//  - a variable whose flag IS on the command line is a fatal conflict (not silently ignored);
//  - any other ETCD_* variable is reported as unrecognized.

import { FLAG_DEFS, type FlagValue, goQuote, parseFlagValue } from './flags.js';
import { ConfigError, type ConfigWarning } from './types.js';
import { ValueError } from './values.js';

export function flagToEnv(flagName: string): string {
  return `ETCD_${flagName.replaceAll('-', '_').toUpperCase()}`;
}

/**
 * Fills `values` from the environment for flags not set on the command line.
 * Returns what etcd would log; throws ConfigError on a bad value or a conflict.
 */
export function applyEnv(
  values: Map<string, FlagValue>,
  setOnCommandLine: ReadonlySet<string>,
  env: NodeJS.ProcessEnv,
): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  const used = new Set<string>();
  const shadowed = new Set<string>([...setOnCommandLine].map(flagToEnv));
  const sorted = [...FLAG_DEFS].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const d of sorted) {
    const key = flagToEnv(d.name);
    const text = env[key];
    if (shadowed.has(key) || text === undefined || text === '') continue;
    used.add(key);
    try {
      const value = parseFlagValue(d, text);
      if (d.kind === 'ignored') {
        warnings.push({ level: 'warn', msg: `flag "-${d.name}" is no longer supported - ignoring.` });
      } else {
        values.set(d.name, value);
      }
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      throw new ConfigError(`invalid value ${goQuote(text)} for ${key}: ${err.message}`, 'verify');
    }
    warnings.push({ level: 'info', msg: `recognized and used environment variable ${key}=${text}` });
  }
  for (const [key, text] of Object.entries(env)) {
    if (used.has(key)) continue;
    if (shadowed.has(key)) {
      throw new ConfigError(
        `conflicting environment variable ${goQuote(key)} is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`,
        'fatal',
      );
    }
    if (key.startsWith('ETCD_')) {
      warnings.push({ level: 'warn', msg: `unrecognized environment variable ${key}=${text ?? ''}` });
    }
  }
  return warnings;
}
