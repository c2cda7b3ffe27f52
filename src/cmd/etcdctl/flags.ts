import { formatDuration, parseDuration } from '../../util/go-duration.js';

/** The flag types etcdctl uses, with pflag's parsing and printing rules. */
export type FlagKind = 'bool' | 'string' | 'int' | 'uint' | 'duration' | 'stringSlice';

export interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  readonly kind: FlagKind;
  /** Default in its textual form (what pflag would print). */
  readonly def: string;
  readonly usage: string;
}

type Value = boolean | string | bigint | number | string[];

/** A flag definition bound to its current value. */
export class Flag {
  value: Value;
  changed = false;

  constructor(readonly spec: FlagSpec) {
    this.value = convert(spec.kind, spec.def, []);
  }

  /** Sets from text as pflag's Value.Set does; throws the parse error text on bad input. */
  set(text: string): void {
    const previous = this.changed && Array.isArray(this.value) ? this.value : [];
    this.value = convert(this.spec.kind, text, previous);
    this.changed = true;
  }

  /** The value as pflag's Value.String() prints it (used by --debug). */
  toString(): string {
    const v = this.value;
    switch (this.spec.kind) {
      case 'duration':
        return formatDuration(v as number);
      case 'stringSlice':
        return `[${(v as string[]).join(',')}]`;
      default:
        return String(v);
    }
  }
}

function convert(kind: FlagKind, text: string, previous: string[]): Value {
  switch (kind) {
    case 'bool':
      return parseGoBool(text);
    case 'string':
      return text;
    case 'int':
      return parseGoInt(text, true);
    case 'uint':
      return parseGoInt(text, false);
    case 'duration':
      return parseDuration(text);
    case 'stringSlice':
      return [...previous, ...(text === '' ? [] : splitCsv(text))];
  }
}

export function parseGoBool(text: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  throw new Error(`strconv.ParseBool: parsing ${JSON.stringify(text)}: invalid syntax`);
}

/** strconv.ParseInt/ParseUint with base 0 (0x, 0o, 0b prefixes), 64 bits. */
export function parseGoInt(text: string, signed: boolean): bigint {
  const fn = signed ? 'ParseInt' : 'ParseUint';
  const bad = (why: string) => new Error(`strconv.${fn}: parsing ${JSON.stringify(text)}: ${why}`);
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(text);
  if (m === null || (!signed && m[1] !== '')) throw bad('invalid syntax');
  let digits = (m[2] as string).replaceAll('_', '');
  if (/^0[0-7]+$/.test(digits)) digits = `0o${digits.slice(1)}`;
  let v = BigInt(digits);
  if (m[1] === '-') v = -v;
  const min = signed ? -(1n << 63n) : 0n;
  const max = signed ? (1n << 63n) - 1n : (1n << 64n) - 1n;
  if (v < min || v > max) throw bad('value out of range');
  return v;
}

/** pflag's stringSlice reads its value as one CSV record. */
function splitCsv(text: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}

/** Raised for command-line errors cobra reports (unknown flag, missing value, bad value). */
export class FlagError extends Error {}

/** A set of flags as one command sees them: its own plus the inherited persistent ones. */
export class FlagSet {
  private readonly byName = new Map<string, Flag>();
  private readonly byShort = new Map<string, Flag>();
  /** After parse(): how many positionals came before `--` (-1 when there was none), like cobra's ArgsLenAtDash. */
  argsLenAtDash = -1;

  constructor(flags: Iterable<Flag>) {
    for (const f of flags) {
      if (this.byName.has(f.spec.name)) throw new Error(`flag redefined: ${f.spec.name}`);
      this.byName.set(f.spec.name, f);
      if (f.spec.short !== undefined) this.byShort.set(f.spec.short, f);
    }
  }

  get(name: string): Flag {
    const f = this.byName.get(name);
    if (f === undefined) throw new Error(`flag accessed but not defined: ${name}`);
    return f;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  isBool(name: string): boolean {
    return this.byName.get(name)?.spec.kind === 'bool';
  }

  isShortBool(short: string): boolean {
    return this.byShort.get(short)?.spec.kind === 'bool';
  }

  bool(name: string): boolean {
    return this.get(name).value as boolean;
  }
  string(name: string): string {
    return this.get(name).value as string;
  }
  int(name: string): bigint {
    return this.get(name).value as bigint;
  }
  duration(name: string): number {
    return this.get(name).value as number;
  }
  strings(name: string): string[] {
    return this.get(name).value as string[];
  }
  changed(name: string): boolean {
    return this.get(name).changed;
  }

  /** Sets a flag by name (used for environment variables); throws the raw parse error. */
  setByName(name: string, text: string): void {
    this.get(name).set(text);
  }

  /**
   * Parses args the way pflag does with interspersed positionals: flags may
   * come anywhere, `--` ends them. Returns the positional arguments.
   */
  parse(args: readonly string[]): string[] {
    const positional: string[] = [];
    let i = 0;
    while (i < args.length) {
      const a = args[i] as string;
      i++;
      if (a === '--') {
        this.argsLenAtDash = positional.length;
        positional.push(...args.slice(i));
        break;
      }
      if (a.length < 2 || a[0] !== '-') {
        positional.push(a);
      } else if (a.startsWith('--')) {
        i = this.parseLong(a, args, i);
      } else {
        i = this.parseShorts(a, args, i);
      }
    }
    return positional;
  }

  private parseLong(a: string, args: readonly string[], i: number): number {
    const body = a.slice(2);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (name === '' || name.startsWith('-') || name.startsWith('='))
      throw new FlagError(`bad flag syntax: ${a}`);
    const flag = this.byName.get(name);
    if (flag === undefined) throw new FlagError(`unknown flag: --${name}`);
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (flag.spec.kind === 'bool') value = 'true';
    else if (i < args.length) value = args[i++] as string;
    else throw new FlagError(`flag needs an argument: ${a}`);
    setOrFail(flag, value);
    return i;
  }

  private parseShorts(a: string, args: readonly string[], i: number): number {
    let rest = a.slice(1);
    while (rest.length > 0) {
      const c = rest[0] as string;
      const flag = this.byShort.get(c);
      if (flag === undefined) throw new FlagError(`unknown shorthand flag: '${c}' in -${rest}`);
      rest = rest.slice(1);
      let value: string;
      if (rest.startsWith('=')) {
        value = rest.slice(1);
        rest = '';
      } else if (flag.spec.kind === 'bool') value = 'true';
      else if (rest !== '') {
        value = rest;
        rest = '';
      } else if (i < args.length) value = args[i++] as string;
      else throw new FlagError(`flag needs an argument: '${c}' in -${c}`);
      setOrFail(flag, value);
    }
    return i;
  }

  /** Flags in name order, as pflag's VisitAll walks them. */
  sorted(): Flag[] {
    return [...this.byName.values()].sort((x, y) =>
      x.spec.name < y.spec.name ? -1 : x.spec.name > y.spec.name ? 1 : 0,
    );
  }
}

function setOrFail(flag: Flag, value: string): void {
  try {
    flag.set(value);
  } catch (e) {
    const spec = flag.spec;
    const shown = spec.short !== undefined ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
    throw new FlagError(
      `invalid argument ${JSON.stringify(value)} for "${shown}" flag: ${(e as Error).message}`,
    );
  }
}
