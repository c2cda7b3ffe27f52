// Entry point of configuration: argv + environment (or a config file) → ServerConfig,
// in the order etcd 3.4 does it (etcdmain/config.go parse()):
//   1. Go-style flag parsing (syntax errors: exit 2 with usage; -h: help);
//   2. leftover arguments are an error; --version wins over everything else;
//   3. --config-file (or ETCD_CONFIG_FILE) → only the file counts;
//      otherwise ETCD_* variables fill flags not given on the command line;
//   4. defaulting and validation.

import { readFileSync } from 'node:fs';
import { buildServerConfig } from './build.js';
import { detectDefaultHost } from './default-host.js';
import { applyEnv, flagToEnv } from './env.js';
import { readConfigFileText } from './file.js';
import { FlagSyntaxError, parseGoFlags } from './goflag.js';
import { flagsHelpText, USAGE_TEXT } from './help.js';
import { ConfigError, type ConfigWarning, type ParseOutcome, type ServerConfig } from './types.js';
import { versionText } from './version.js';

export interface ParseDeps {
  readFile(path: string): string;
  /** The machine's default-route IPv4 address; absent or undefined = none. */
  defaultHost?(): string | undefined;
}

const realDeps: ParseDeps = {
  readFile: (path) => readFileSync(path, 'utf8'),
  defaultHost: detectDefaultHost,
};

export function parseEtcdCommandLine(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  deps: ParseDeps = realDeps,
): ParseOutcome {
  let parsed: ReturnType<typeof parseGoFlags>;
  try {
    parsed = parseGoFlags(argv);
  } catch (err) {
    if (err instanceof FlagSyntaxError) throw new ConfigError(err.message, 'usage');
    throw err;
  }
  if (parsed.help) return { kind: 'help', text: USAGE_TEXT + flagsHelpText() };
  const extra = parsed.positional[0];
  if (extra !== undefined) throw new ConfigError(`'${extra}' is not a valid flag`, 'verify');
  if (parsed.values.get('version') === true) return { kind: 'version', text: versionText() };

  const warnings: ConfigWarning[] = parsed.ignored.map((name) => ({
    level: 'warn',
    msg: `flag "-${name}" is no longer supported - ignoring.`,
  }));
  const fromFlag = parsed.values.get('config-file');
  const configFile =
    typeof fromFlag === 'string' && fromFlag !== '' ? fromFlag : (env[flagToEnv('config-file')] ?? '');
  const defaultHost = deps.defaultHost?.();
  if (configFile !== '') {
    const built = buildServerConfig(readConfigFile(configFile, deps), 'config-file', configFile, defaultHost);
    warnings.push({
      level: 'info',
      msg: 'loaded server configuration, other configuration command line flags and environment variables will be ignored if provided',
      fields: { path: configFile },
    });
    return finish(built, defaultHost, warnings);
  }
  const setOnCommandLine = new Set(parsed.values.keys());
  warnings.push(...applyEnv(parsed.values, setOnCommandLine, env));
  return finish(buildServerConfig(parsed.values, 'command-line', '', defaultHost), defaultHost, warnings);
}

function finish(
  built: ReturnType<typeof buildServerConfig>,
  defaultHost: string | undefined,
  warnings: ConfigWarning[],
): ParseOutcome {
  if (built.usedDefaultHost) {
    warnings.push({
      level: 'info',
      msg: 'detected default host for advertise',
      fields: { host: defaultHost ?? '' },
    });
  }
  return { kind: 'run', config: built.config, warnings };
}

/** The configuration to run with; throws ConfigError on bad input and on --version / -h. */
export function parseServerConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  deps?: ParseDeps,
): ServerConfig {
  const outcome = parseEtcdCommandLine(argv, env, deps);
  if (outcome.kind !== 'run')
    throw new ConfigError(`--${outcome.kind} asks for output, not a server`, 'verify');
  return outcome.config;
}

function readConfigFile(path: string, deps: ParseDeps) {
  let text: string;
  try {
    text = deps.readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : String(err);
    throw new ConfigError(`open ${path}: ${reason}`, 'verify');
  }
  return readConfigFileText(text);
}
