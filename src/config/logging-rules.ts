// etcd's checks on --logger / --log-outputs / --log-level (embed/config_logging.go),
// and the deprecation notices it prints straight to stderr before any logger exists.

import { ConfigError, type ServerConfig } from './types.js';

const LEVELS: ReadonlySet<string> = new Set(['debug', 'info', 'warn', 'error', 'dpanic', 'panic', 'fatal']);
const CAPNSLOG_OUTPUTS: ReadonlySet<string> = new Set(['default', 'stderr', 'stdout']);

/** Go's %q of a []string: ["a" "b"]. */
function goQuoteList(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;
}

export function validateLogging(cfg: ServerConfig): void {
  if (!LEVELS.has(cfg.logLevel)) {
    throw new ConfigError(`unknown level "${cfg.logLevel}"`, 'verify');
  }
  const outputs = cfg.logOutputs;
  if (cfg.logger === 'capnslog') {
    if (outputs.length !== 1) {
      throw new ConfigError(
        `--logger=capnslog supports only 1 value in '--log-outputs', got ${goQuoteList(outputs)}`,
        'verify',
      );
    }
    const only = outputs[0] as string;
    if (!CAPNSLOG_OUTPUTS.has(only)) {
      throw new ConfigError(
        `unknown log-output "${only}" (only supports "default", "stderr", "stdout")`,
        'verify',
      );
    }
    return;
  }
  if (cfg.logger === 'zap') {
    if (outputs.length > 1 && outputs.includes('default')) {
      throw new ConfigError('multi logoutput for "default" is not supported yet', 'verify');
    }
    return;
  }
  throw new ConfigError(`unknown logger option "${cfg.logger}"`, 'verify');
}

/** The "[WARNING] Deprecated ..." lines etcd 3.4 writes to stderr for old logging options. */
export function loggingDeprecationNotices(cfg: ServerConfig): string[] {
  const notices: string[] = [];
  if (cfg.debug && cfg.logLevel !== 'debug') {
    notices.push(
      `[WARNING] Deprecated '--debug' flag is set to true with inconsistent '--log-level=${cfg.logLevel}' flag`,
    );
  }
  if (cfg.logger === 'capnslog') {
    notices.push("[WARNING] Deprecated '--logger=capnslog' flag is set; use '--logger=zap' flag instead");
  }
  if (cfg.logPackageLevels !== '') {
    notices.push(
      `[WARNING] Deprecated '--log-package-levels=${cfg.logPackageLevels}' flag is set; use '--logger=zap' flag instead`,
    );
  }
  return notices;
}
