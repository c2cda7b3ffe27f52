// The `etcd` command: flags/env/config file → ServerConfig → logger → member.
// Holds no logic worth testing on its own; parsing lives in src/config, the
// member in src/server.

import { loggingDeprecationNotices } from '../../config/logging-rules.js';
import { parseEtcdCommandLine } from '../../config/parse.js';
import { ConfigError, type ParseOutcome, type ServerConfig } from '../../config/types.js';
import { createLogger } from '../../log/logger.js';
import type { Logger } from '../../log/types.js';
import { startEtcd } from '../../server/etcd.js';
import { describeConfigError } from './report.js';

function loggerFor(cfg: ServerConfig): Logger & { close(): void } {
  return createLogger({
    format: cfg.logger === 'zap' ? 'json' : 'capnslog',
    level: cfg.debug ? 'debug' : cfg.logLevel,
    outputs: cfg.logOutputs,
  });
}

function parseOrExit(argv: readonly string[]): ParseOutcome {
  try {
    return parseEtcdCommandLine(argv, process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const { stderr, exitCode } = describeConfigError(err, new Date());
    process.stderr.write(stderr);
    process.exit(exitCode);
  }
}

/** SIGINT/SIGTERM: close the member cleanly and exit 0; a second signal exits at once. */
function exitOnSignals(log: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info('received signal; shutting down', { signal });
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('failed to close the member cleanly', { error: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

export async function main(argv: readonly string[]): Promise<void> {
  const outcome = parseOrExit(argv);
  if (outcome.kind !== 'run') {
    process.stdout.write(outcome.text);
    process.exit(0);
  }
  const cfg = outcome.config;
  for (const line of loggingDeprecationNotices(cfg)) process.stderr.write(`${line}\n`);
  let log: Logger & { close(): void };
  try {
    log = loggerFor(cfg);
  } catch (err) {
    process.stderr.write(`failed to set up logging: ${(err as Error).message}\n`);
    process.exit(1);
  }
  for (const w of outcome.warnings) log[w.level](w.msg, w.fields);
  try {
    const etcd = await startEtcd(cfg, log);
    exitOnSignals(log, () => etcd.close());
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log.fatal('failed to start etcd', { error: message });
    process.exit(1);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`etcd: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
