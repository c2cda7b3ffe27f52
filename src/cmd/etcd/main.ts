// The `etcd` command: flags/env/config file → ServerConfig → logger → member.
// Holds no logic worth testing on its own; parsing lives in src/config, the
// member in src/server.

// First: heap settings must be in place before the rest of the server allocates.
import './heap-tuning.js';
import { loggingDeprecationNotices } from '../../config/logging-rules.js';
import { parseEtcdCommandLine } from '../../config/parse.js';
import { ConfigError, type ParseOutcome, type ServerConfig } from '../../config/types.js';
import { startEtcd } from '../../embed/etcd.js';
import { createLogger } from '../../log/logger.js';
import type { Logger } from '../../log/types.js';
import { GATEWAY_USAGE, parseGatewayArgs, startGateway } from './gateway.js';
import { GRPC_PROXY_GROUP_USAGE, GRPC_PROXY_USAGE, parseGrpcProxyArgs, runGrpcProxy } from './grpc-proxy.js';
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

/** A clean close that takes longer than this is abandoned: a stuck process is worse than exit 1. */
const CLOSE_TIMEOUT_MS = 10_000;

/** SIGINT/SIGTERM: close the member cleanly and exit 0; a second signal exits at once. */
function exitOnSignals(log: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info('received signal; shutting down', { signal });
    setTimeout(() => {
      log.warn('closing took too long; exiting anyway', { 'timeout-ms': CLOSE_TIMEOUT_MS });
      process.exit(1);
    }, CLOSE_TIMEOUT_MS).unref();
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

/** "etcd grpc-proxy start ...": the gRPC proxy (src/proxy). */
async function runGrpcProxyCommand(args: readonly string[]): Promise<void> {
  if (args[0] !== 'start') {
    process.stderr.write(GRPC_PROXY_GROUP_USAGE);
    process.exit(args.length === 0 ? 0 : 1);
  }
  const log = createLogger({ format: 'json', level: 'info', outputs: ['stderr'] });
  try {
    const flags = parseGrpcProxyArgs(args.slice(1));
    if (flags.help) {
      process.stdout.write(GRPC_PROXY_USAGE);
      process.exit(0);
    }
    const running = await runGrpcProxy(flags, log);
    exitOnSignals(log, () => running.close());
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

/** "etcd gateway start ...": the TCP proxy; "etcd grpc-proxy start ...": the gRPC proxy. */
async function runSubcommand(command: string, args: readonly string[]): Promise<void> {
  if (command === 'grpc-proxy') return runGrpcProxyCommand(args);
  if (args[0] !== 'start') {
    process.stderr.write(GATEWAY_USAGE);
    process.exit(args.length === 0 ? 0 : 1);
  }
  const log = createLogger({ format: 'json', level: 'info', outputs: ['stderr'] });
  try {
    const gateway = await startGateway(parseGatewayArgs(args.slice(1)), log);
    exitOnSignals(log, () => gateway.close());
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  const command = argv[0];
  if (command === 'gateway' || command === 'grpc-proxy') return runSubcommand(command, argv.slice(1));
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
