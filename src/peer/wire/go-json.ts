// JSON as Go's encoding/json writes and reads it, for the membership formats etcd puts in
// raft entries, v2-store snapshots and peer HTTP bodies:
// - numbers are kept as their text, so uint64 ids survive (JSON.parse would round them);
// - strings are escaped like Go's json.Marshal (HTML-safe: < > & as \u003c \u003e \u0026,
//   U+2028/U+2029 escaped, control characters as \u00XX except \n \r \t);
// - object keys match struct fields the way Go's Unmarshal does: exactly or ignoring ASCII
//   case, the last matching key winning.
import { WireError } from './gogo-wire.js';

export class JsonNumber {
  constructor(readonly text: string) {}
}

export class JsonObject {
  constructor(readonly entries: Array<[string, JsonValue]>) {}

  /** The value Go's Unmarshal would store in the struct field tagged `name` (undefined if no key matches). */
  field(name: string): JsonValue | undefined {
    const folded = name.toLowerCase();
    let found: JsonValue | undefined;
    for (const [key, value] of this.entries) {
      if (key === name || asciiLower(key) === folded) found = value;
    }
    return found;
  }
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

// ---------------------------------------------------------------- encoding

const HEX = '0123456789abcdef';

/** A JSON string literal exactly as Go's json.Marshal writes s. */
export function goJsonString(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = '\\\\';
    else if (c === 0x0a) esc = '\\n';
    else if (c === 0x0d) esc = '\\r';
    else if (c === 0x09) esc = '\\t';
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26) esc = `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    else if (c === 0x2028 || c === 0x2029) esc = `\\u${c.toString(16)}`;
    if (esc !== undefined) {
      out += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return `${out + s.slice(start)}"`;
}

/** A []string the way Go writes it: null for nil (our empty list), else the array. */
export function goJsonStrings(list: readonly string[] | undefined): string {
  if (list === undefined || list.length === 0) return 'null';
  return `[${list.map(goJsonString).join(',')}]`;
}

// ---------------------------------------------------------------- decoding

const utf8 = new TextDecoder();

/** Parses one JSON document (surrounding whitespace allowed), keeping numbers as text. */
export function parseGoJson(input: string | Uint8Array, what: string): JsonValue {
  const text = typeof input === 'string' ? input : utf8.decode(input);
  const p = new Parser(text, what);
  p.ws();
  const v = p.value(0);
  p.ws();
  if (p.pos !== text.length) p.fail('unexpected data after the JSON value');
  return v;
}

const MAX_DEPTH = 10000;

class Parser {
  pos = 0;

  constructor(
    private readonly s: string,
    private readonly what: string,
  ) {}

  fail(why: string): never {
    throw new WireError(`${this.what}: invalid JSON at offset ${this.pos}: ${why}`);
  }

  ws(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.pos++;
    }
  }

  value(depth: number): JsonValue {
    if (depth > MAX_DEPTH) this.fail('nested too deeply');
    const c = this.s[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    if (this.s.startsWith('true', this.pos)) return this.literal(4, true);
    if (this.s.startsWith('false', this.pos)) return this.literal(5, false);
    if (this.s.startsWith('null', this.pos)) return this.literal(4, null);
    return this.fail('expected a value');
  }

  private literal<T>(len: number, v: T): T {
    this.pos += len;
    return v;
  }

  private object(depth: number): JsonObject {
    this.pos++;
    const entries: Array<[string, JsonValue]> = [];
    this.ws();
    if (this.s[this.pos] === '}') {
      this.pos++;
      return new JsonObject(entries);
    }
    for (;;) {
      this.ws();
      if (this.s[this.pos] !== '"') this.fail('expected an object key');
      const key = this.string();
      this.ws();
      if (this.s[this.pos] !== ':') this.fail("expected ':'");
      this.pos++;
      this.ws();
      entries.push([key, this.value(depth + 1)]);
      this.ws();
      const c = this.s[this.pos++];
      if (c === '}') return new JsonObject(entries);
      if (c !== ',') this.fail("expected ',' or '}'");
    }
  }

  private array(depth: number): JsonValue[] {
    this.pos++;
    const items: JsonValue[] = [];
    this.ws();
    if (this.s[this.pos] === ']') {
      this.pos++;
      return items;
    }
    for (;;) {
      this.ws();
      items.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.pos++];
      if (c === ']') return items;
      if (c !== ',') this.fail("expected ',' or ']'");
    }
  }

  private number(): JsonNumber {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.s.slice(this.pos, this.pos + 400));
    if (m === null) this.fail('malformed number');
    this.pos += m[0].length;
    return new JsonNumber(m[0]);
  }

  private string(): string {
    const s = this.s;
    this.pos++;
    let out = '';
    let start = this.pos;
    for (;;) {
      if (this.pos >= s.length) this.fail('unterminated string');
      const c = s.charCodeAt(this.pos);
      if (c === 0x22) {
        out += s.slice(start, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) this.fail('control character in string');
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += s.slice(start, this.pos);
      const e = s[this.pos + 1];
      this.pos += 2;
      if (e === 'u') {
        const hex = s.slice(this.pos, this.pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
        out += String.fromCharCode(Number.parseInt(hex, 16));
        this.pos += 4;
      } else {
        const simple = ESCAPES[e ?? ''];
        if (simple === undefined) this.fail(`bad escape \\${e}`);
        out += simple;
      }
      start = this.pos;
    }
  }
}

const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

// ---------------------------------------------------------------- typed reads (Go's Unmarshal rules)

const U64_MAX = (1n << 64n) - 1n;

/** A Go uint64 field: an integer literal in range; null leaves the field unchanged (undefined here). */
export function jsonU64(v: JsonValue | undefined, what: string): bigint | undefined {
  if (v === undefined || v === null) return undefined;
  if (!(v instanceof JsonNumber) || !/^(0|[1-9][0-9]*)$/.test(v.text)) {
    throw new WireError(`${what}: expected an unsigned integer`);
  }
  const n = BigInt(v.text);
  if (n > U64_MAX) throw new WireError(`${what}: ${v.text} overflows uint64`);
  return n;
}

/** A Go string field; null leaves it unchanged (undefined here). */
export function jsonString(v: JsonValue | undefined, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new WireError(`${what}: expected a string`);
  return v;
}

export function jsonBool(v: JsonValue | undefined, what: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new WireError(`${what}: expected a boolean`);
  return v;
}

/** A Go []string field: null is nil (our empty list); a null element is "". */
export function jsonStrings(v: JsonValue | undefined, what: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (v === null) return [];
  if (!Array.isArray(v)) throw new WireError(`${what}: expected an array of strings`);
  return v.map((item) => {
    if (item === null) return '';
    if (typeof item !== 'string') throw new WireError(`${what}: expected an array of strings`);
    return item;
  });
}

export function jsonObject(v: JsonValue | undefined, what: string): JsonObject {
  if (!(v instanceof JsonObject)) throw new WireError(`${what}: expected a JSON object`);
  return v;
}
