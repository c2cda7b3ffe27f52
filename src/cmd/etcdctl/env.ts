import type { CommandContext } from './command.js';
import { ExitError } from './io.js';

const PREFIX = 'ETCDCTL_';

function envName(flagName: string): string {
  return `${PREFIX}${flagName.toUpperCase().replaceAll('-', '_')}`;
}

/**
 * Sets inherited flags from ETCDCTL_* variables as etcd's pkg/flags does:
 * a flag given on the command line wins but makes its variable an error
 * ("shadowed"); a variable naming no flag is only warned about. A value that
 * does not parse is ignored, as etcdctl ignores that error.
 * `extraKnown` are variable-backed names that are accepted silently.
 */
export function applyEnvironment(ctx: CommandContext, extraKnown: readonly string[] = []): void {
  const { env, envOrder } = ctx.io;
  const alreadySet = new Set<string>();
  const used = new Set<string>();
  const flags = [...ctx.inherited].sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1));
  for (const f of flags) {
    const key = envName(f.spec.name);
    if (f.changed) alreadySet.add(key);
    if (alreadySet.has(key)) continue;
    const val = env[key];
    if (val === undefined || val === '') continue;
    used.add(key);
    try {
      f.set(val);
    } catch {
      // etcdctl drops this error and keeps the default.
    }
  }
  for (const name of extraKnown) {
    const key = envName(name);
    const val = env[key];
    if (val !== undefined && val !== '') used.add(key);
  }
  for (const key of envOrder) {
    if (key === 'ETCDCTL_API' || used.has(key)) continue;
    const val = env[key];
    if (val === undefined) continue;
    if (alreadySet.has(key)) {
      ctx.io.err(
        `${logTime(new Date())} C | pkg/flags: conflicting environment variable ${JSON.stringify(key)} is shadowed by corresponding command-line flag (either unset environment variable or disable flag)\n`,
      );
      throw new ExitError(1, undefined);
    }
    if (key.startsWith(PREFIX)) {
      ctx.io.err(`${logTime(new Date())} W | pkg/flags: unrecognized environment variable ${key}=${val}\n`);
    }
  }
}

/** capnslog's timestamp: local "2006-01-02 15:04:05.000000". */
export function logTime(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)}`;
}
