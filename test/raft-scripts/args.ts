// Command-line parsing for script commands: positional words plus key=value options, where a
// value may be a parenthesized id list such as voters=(1,2,3).

export interface ParsedCommand {
  name: string;
  positional: string[];
  options: Map<string, string>;
}

export function parseCommand(line: string): ParsedCommand {
  const words: string[] = line.match(/\S+=\([^)]*\)|\([^)]*\)|"[^"]*"|\S+/g) ?? [];
  if (words.length === 0) throw new Error('empty command');
  const name = words[0];
  const rest = words.slice(1);
  const positional: string[] = [];
  const options = new Map<string, string>();
  for (const w of rest) {
    const eq = w.indexOf('=');
    if (eq > 0 && !w.startsWith('"') && !w.startsWith('(')) options.set(w.slice(0, eq), w.slice(eq + 1));
    else positional.push(w);
  }
  return { name, positional, options };
}

/** Typed, checked access to a command's arguments; every option must be consumed exactly once. */
export class Args {
  private readonly used = new Set<string>();

  constructor(private readonly cmd: ParsedCommand) {}

  get count(): number {
    return this.cmd.positional.length;
  }

  word(i: number, what: string): string {
    const w = this.cmd.positional[i];
    if (w === undefined) throw new Error(`${this.cmd.name}: missing ${what}`);
    return w.startsWith('"') && w.endsWith('"') ? w.slice(1, -1) : w;
  }

  id(i: number, what = 'node id'): bigint {
    return toId(this.word(i, what));
  }

  int(i: number, what: string): number {
    return toInt(this.word(i, what), what);
  }

  /** Positional ids from index i to the end. */
  idsFrom(i: number): bigint[] {
    return this.cmd.positional.slice(i).map(toId);
  }

  option(key: string): string | undefined {
    this.used.add(key);
    return this.cmd.options.get(key);
  }

  intOption(key: string, dflt: number): number {
    const v = this.option(key);
    return v === undefined ? dflt : toInt(v, key);
  }

  boolOption(key: string): boolean {
    const v = this.option(key);
    if (v === undefined || v === 'false') return false;
    if (v === 'true') return true;
    throw new Error(`${key}: expected true or false, got ${v}`);
  }

  idListOption(key: string): bigint[] | undefined {
    const v = this.option(key);
    return v === undefined ? undefined : parseIdList(v);
  }

  /** Throws on options nobody asked for: a typo must not silently change a scenario. */
  done(): void {
    for (const k of this.cmd.options.keys())
      if (!this.used.has(k)) throw new Error(`${this.cmd.name}: unknown option ${k}`);
  }
}

export function parseIdList(s: string): bigint[] {
  const m = /^\(([^)]*)\)$/.exec(s);
  if (!m) throw new Error(`expected an id list like (1,2,3), got ${s}`);
  return m[1].trim() === '' ? [] : m[1].split(',').map((x) => toId(x.trim()));
}

function toId(s: string): bigint {
  if (!/^[1-9][0-9]*$/.test(s)) throw new Error(`bad node id ${s}`);
  return BigInt(s);
}

function toInt(s: string, what: string): number {
  if (!/^[0-9]+$/.test(s)) throw new Error(`${what}: expected a number, got ${s}`);
  return Number(s);
}
