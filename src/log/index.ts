// Public surface of the logging module.
export { createLogger, type LogFormat, type LoggerOptions, nopLogger } from './logger.js';
export { memorySink, type Sink } from './sinks.js';
export type { Level, LogFields, LogFieldValue, Logger } from './types.js';
