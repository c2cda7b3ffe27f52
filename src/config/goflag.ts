// Command-line parsing with the syntax of Go's "flag" package, which etcd uses:
// "-name" and "--name" are the same; values as "-name=v" or "-name v"; boolean
// flags take no separate value ("-name", "-name=false"); parsing stops at the
// first non-flag argument or at "--". Error texts match Go's so scripts that
// check etcd's stderr keep working.

import { type FlagDef, type FlagValue, findFlag, goQuote, isBoolFlag, parseFlagValue } from './flags.js';
import { ValueError } from './values.js';

export interface ParsedArgs {
  /** Values of the flags given on the command line (last one wins). */
  values: Map<string, FlagValue>;
  /** Arguments left after the flags (etcd refuses any). */
  positional: string[];
  /** Pre-v3 flags that were given and are ignored; etcd warns about each. */
  ignored: string[];
  /** "-h" / "-help" was given. */
  help: boolean;
}

/** A command-line syntax error: etcd prints the message and its usage, and exits with 2. */
export class FlagSyntaxError extends Error {}

export function parseGoFlags(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { values: new Map(), positional: [], ignored: [], help: false };
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] as string;
    if (arg.length < 2 || arg[0] !== '-') break;
    const dashes = arg[1] === '-' ? 2 : 1;
    if (dashes === 2 && arg.length === 2) {
      i++;
      break;
    }
    i++;
    const body = arg.slice(dashes);
    if (body === '' || body[0] === '-' || body[0] === '=') {
      throw new FlagSyntaxError(`bad flag syntax: ${arg}`);
    }
    const eq = body.indexOf('=', 1);
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const inlineValue = eq >= 0 ? body.slice(eq + 1) : undefined;
    const d = findFlag(name);
    if (d === undefined) {
      if (name === 'h' || name === 'help') {
        out.help = true;
        return out;
      }
      throw new FlagSyntaxError(`flag provided but not defined: -${name}`);
    }
    if (isBoolFlag(d)) {
      setBool(out, d, inlineValue);
      continue;
    }
    let value = inlineValue;
    if (value === undefined && i < argv.length) {
      value = argv[i] as string;
      i++;
    }
    if (value === undefined) throw new FlagSyntaxError(`flag needs an argument: -${name}`);
    out.values.set(name, parseOrExplain(d, value));
  }
  out.positional = argv.slice(i);
  return out;
}

function setBool(out: ParsedArgs, d: FlagDef, inlineValue: string | undefined): void {
  const text = inlineValue ?? 'true';
  let value: FlagValue;
  try {
    value = parseFlagValue(d, text);
  } catch (err) {
    if (!(err instanceof ValueError)) throw err;
    throw new FlagSyntaxError(`invalid boolean value ${goQuote(text)} for -${d.name}: ${err.message}`);
  }
  if (d.kind === 'ignored') {
    out.ignored.push(d.name);
    return;
  }
  out.values.set(d.name, value);
}

function parseOrExplain(d: FlagDef, text: string): FlagValue {
  try {
    return parseFlagValue(d, text);
  } catch (err) {
    if (!(err instanceof ValueError)) throw err;
    throw new FlagSyntaxError(`invalid value ${goQuote(text)} for flag -${d.name}: ${err.message}`);
  }
}
