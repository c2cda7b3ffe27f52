import type { CliIo } from '../io.js';
import { FieldsPrinter } from './fields.js';
import { JsonPrinter } from './json.js';
import { protobufPrinter } from './protobuf.js';
import { SimplePrinter } from './simple.js';
import { tablePrinter } from './table.js';
import type { Printer } from './types.js';

export { SimplePrinter } from './simple.js';
export type { DbStatus, EpHashKV, EpHealth, EpStatus, Printer } from './types.js';

/** The printer for a `--write-out` value, or undefined for an unknown format. */
export function newPrinter(format: string, isHex: boolean, io: CliIo): Printer | undefined {
  switch (format) {
    case 'simple':
      return new SimplePrinter(io, isHex);
    case 'json':
      return new JsonPrinter(io);
    case 'fields':
      return new FieldsPrinter(io);
    case 'table':
      return tablePrinter(io);
    case 'protobuf':
      return protobufPrinter(io);
    default:
      return undefined;
  }
}
