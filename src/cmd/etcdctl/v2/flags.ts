// Flags as etcdctl v2's urfave/cli (on Go's flag package) reads them:
// "-name" or "--name", "=value" or the next argument (not for booleans),
// aliases ("output, o"), parsing stops at the first argument that is not a
// flag or after "--".
import { parseDuration } from '../../../util/go-duration.js';

export type FlagKind = 'bool' | 'string' | 'int' | 'duration';

export interface FlagSpec {
  /** Names, the first one canonical ("output", "o"). */
  names: string[];
  kind: FlagKind;
  /** Shown in help; also the default of string flags. */
  value?: string;
  usage: string;
}

export class FlagError extends Error {}

export class ParsedFlags {
  constructor(
    private readonly specs: readonly FlagSpec[],
    private readonly values: Map<string, string>,
  ) {}

  private spec(name: string): FlagSpec {
    const s = this.specs.find((f) => f.names.includes(name));
    if (s === undefined) throw new Error(`no flag ${name}`);
    return s;
  }

  has(name: string): boolean {
    return this.values.has(this.spec(name).names[0]!);
  }

  string(name: string): string {
    const s = this.spec(name);
    return this.values.get(s.names[0]!) ?? s.value ?? '';
  }

  bool(name: string): boolean {
    return this.values.get(this.spec(name).names[0]!) === 'true';
  }

  int(name: string): number {
    const v = this.string(name);
    return v === '' ? 0 : Number(v);
  }

  /** Milliseconds. */
  duration(name: string): number {
    return parseDuration(this.string(name)) / 1e6;
  }
}

/**
 * urfave/cli v1's reorderArgs for command flags: flags (with the argument after
 * them, unless it starts with "-") move before the positional arguments; nothing
 * after "--" moves.
 */
export function reorderArgs(specs: readonly FlagSpec[], argv: readonly string[]): string[] {
  const flags: string[] = [];
  const rest: string[] = [];
  let valueMayFollow = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (valueMayFollow && !a.startsWith('-')) {
      valueMayFollow = false;
      flags.push(a);
    } else if (isDefinedFlag(specs, a)) {
      flags.push(a);
      valueMayFollow = !a.includes('=');
    } else {
      rest.push(a);
    }
  }
  return [...flags, ...rest];
}

function isDefinedFlag(specs: readonly FlagSpec[], arg: string): boolean {
  if (!arg.startsWith('-') || arg === '-') return false;
  const name = arg.replace(/^--?/, '').split('=')[0]!;
  return specs.some((f) => f.names.includes(name));
}

const BOOL_VALUES = new Set([
  '1',
  't',
  'T',
  'TRUE',
  'true',
  'True',
  '0',
  'f',
  'F',
  'FALSE',
  'false',
  'False',
]);

/** Parses flags off the front of `argv`; returns them and the arguments left. */
export function parseFlags(specs: readonly FlagSpec[], argv: readonly string[]): [ParsedFlags, string[]] {
  const values = new Map<string, string>();
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const spec = specs.find((f) => f.names.includes(name));
    if (spec === undefined) throw new FlagError(`flag provided but not defined: -${name}`);
    let value: string;
    if (spec.kind === 'bool') {
      value = eq < 0 ? 'true' : body.slice(eq + 1);
      if (!BOOL_VALUES.has(value))
        throw new FlagError(`invalid boolean value ${JSON.stringify(value)} for -${name}`);
      value = ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value) ? 'true' : 'false';
    } else {
      if (eq >= 0) value = body.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i]!;
      else throw new FlagError(`flag needs an argument: -${name}`);
      if (spec.kind === 'int' && !/^[+-]?\d+$/.test(value)) {
        throw new FlagError(`invalid value ${JSON.stringify(value)} for flag -${name}: parse error`);
      }
      if (spec.kind === 'duration') {
        try {
          parseDuration(value);
        } catch {
          throw new FlagError(`invalid value ${JSON.stringify(value)} for flag -${name}: parse error`);
        }
      }
    }
    values.set(spec.names[0]!, value);
  }
  return [new ParsedFlags(specs, values), argv.slice(i)];
}
