// A JSON reader that fails the way Go's encoding/json does, because etcd's
// gateway returns Go's error text to the client: "invalid character 'x'
// looking for beginning of value", "unexpected EOF", ... It works on bytes
// (as Go does) and keeps number literals as text, so 64-bit integers never
// pass through a float.

/** A parsed JSON value; strings are decoded, numbers kept as written. */
export type GoJson =
  | { readonly t: 'object'; readonly entries: readonly (readonly [string, GoJson])[] }
  | { readonly t: 'array'; readonly items: readonly GoJson[] }
  | { readonly t: 'string'; readonly value: string; readonly raw: Uint8Array }
  | { readonly t: 'number'; readonly text: string }
  | { readonly t: 'bool'; readonly value: boolean }
  | { readonly t: 'null' };

/** Go's *json.SyntaxError (and io.ErrUnexpectedEOF): the message is Go's. */
export class GoJsonError extends Error {
  override readonly name = 'GoJsonError';
}

/** Go's nesting limit (encoding/json maxNestingDepth). */
const MAX_DEPTH = 10000;

/** Go's quoteChar: how a syntax error names the offending byte. */
export function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return `'"'`;
  const q = goQuote(String.fromCharCode(c));
  return `'${q.slice(1, -1)}'`;
}

/** Go's strconv.Quote for a string of code points (printable ones kept as they are). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    switch (cp) {
      case 0x07:
        out += '\\a';
        continue;
      case 0x08:
        out += '\\b';
        continue;
      case 0x0c:
        out += '\\f';
        continue;
      case 0x0a:
        out += '\\n';
        continue;
      case 0x0d:
        out += '\\r';
        continue;
      case 0x09:
        out += '\\t';
        continue;
      case 0x0b:
        out += '\\v';
        continue;
      case 0x5c:
        out += '\\\\';
        continue;
      case 0x22:
        out += '\\"';
        continue;
    }
    if (isGoPrintable(cp)) out += ch;
    else if (cp < 0x80) out += `\\x${hex2(cp)}`;
    else if (cp === 0xfffd) out += '\\ufffd';
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** Go's %q of raw bytes: valid UTF-8 as text, each invalid byte as \xNN. */
export function goQuoteBytes(b: Uint8Array): string {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    return goQuote(decoder.decode(b));
  } catch {
    // Rare (invalid UTF-8 in an enum name): quote byte by byte.
    let out = '"';
    for (const c of b) out += c < 0x80 ? goQuote(String.fromCharCode(c)).slice(1, -1) : `\\x${hex2(c)}`;
    return `${out}"`;
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/**
 * Close to Go's unicode.IsPrint for the characters that matter here: ASCII
 * graphics and space, and non-control, non-format characters beyond.
 */
function isGoPrintable(cp: number): boolean {
  if (cp < 0x20 || cp === 0x7f) return false;
  if (cp < 0x7f) return true;
  if (cp >= 0x80 && cp <= 0xa0) return false;
  if (cp === 0xad) return false;
  if (cp === 0xfffd) return true;
  return /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(String.fromCodePoint(cp));
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** Outcome of reading one value from a stream of bytes. */
export type ReadResult =
  | { readonly kind: 'value'; readonly value: GoJson; readonly end: number }
  /** Only whitespace was left (Go's io.EOF). */
  | { readonly kind: 'eof' }
  /** The value is not complete yet (more bytes may complete it). */
  | { readonly kind: 'more' };

/** Thrown inside the parser when the input ends in the middle of a value. */
class EndOfInput extends Error {}

const utf8 = new TextDecoder('utf-8');

/**
 * Reads the JSON value starting at `pos` (after whitespace) as Go's
 * json.Decoder does: syntax errors are thrown as GoJsonError; running out of
 * bytes gives 'more', unless `final`, where it is "unexpected EOF" (or 'eof'
 * when nothing but whitespace was left).
 */
export function readValue(buf: Uint8Array, pos: number, final: boolean): ReadResult {
  let i = pos;
  while (i < buf.length && WS.has(buf[i] as number)) i++;
  if (i >= buf.length) return final ? { kind: 'eof' } : { kind: 'more' };
  const parser = new Parser(buf, i, final);
  try {
    const value = parser.value();
    return { kind: 'value', value, end: parser.pos };
  } catch (err) {
    if (!(err instanceof EndOfInput)) throw err;
    if (!final) return { kind: 'more' };
    throw new GoJsonError('unexpected EOF');
  }
}

/**
 * json.Unmarshal's view of a complete buffer: exactly one value and
 * whitespace, with its wording for the errors ("unexpected end of JSON input",
 * "invalid character 'x' after top-level value").
 */
export function parseWhole(buf: Uint8Array): GoJson {
  let i = 0;
  while (i < buf.length && WS.has(buf[i] as number)) i++;
  if (i >= buf.length) throw new GoJsonError('unexpected end of JSON input');
  const parser = new Parser(buf, i, true);
  let value: GoJson;
  try {
    value = parser.value();
  } catch (err) {
    if (!(err instanceof EndOfInput)) throw err;
    // Go's scanner ends the input by stepping over one more space: inside a
    // number or a literal that space is the error ("invalid character ' ' in
    // numeric literal"); anywhere else the input is merely cut short.
    const spaced = new Uint8Array(buf.length + 1);
    spaced.set(buf);
    spaced[buf.length] = 0x20;
    try {
      new Parser(spaced, i, true).value();
    } catch (again) {
      if (again instanceof GoJsonError) throw again;
    }
    throw new GoJsonError('unexpected end of JSON input');
  }
  let j = parser.pos;
  while (j < buf.length && WS.has(buf[j] as number)) j++;
  if (j < buf.length) {
    throw new GoJsonError(`invalid character ${quoteChar(buf[j] as number)} after top-level value`);
  }
  return value;
}

class Parser {
  pos: number;

  constructor(
    private readonly buf: Uint8Array,
    start: number,
    /** Whether the bytes end here for good (a number may end at the end of input). */
    private readonly final: boolean,
  ) {
    this.pos = start;
  }

  private peek(): number {
    if (this.pos >= this.buf.length) throw new EndOfInput();
    return this.buf[this.pos] as number;
  }

  private skipWs(): number {
    for (;;) {
      const c = this.peek();
      if (!WS.has(c)) return c;
      this.pos++;
    }
  }

  private fail(c: number, context: string): never {
    throw new GoJsonError(`invalid character ${quoteChar(c)} ${context}`);
  }

  /**
   * One value, iteratively (deep nesting must not exhaust the JS stack).
   * Containers under construction live on `stack`.
   */
  value(): GoJson {
    type Frame =
      | { kind: 'object'; entries: [string, GoJson][]; key: string | undefined }
      | { kind: 'array'; items: GoJson[] };
    const stack: Frame[] = [];
    let c = this.skipWs();
    for (;;) {
      // Parse a value starting at c (whitespace already skipped).
      let done: GoJson | undefined;
      if (c === 0x7b /* { */) {
        if (stack.length >= MAX_DEPTH) this.fail(c, 'exceeded max depth');
        this.pos++;
        c = this.skipWs();
        if (c === 0x7d /* } */) {
          this.pos++;
          done = { t: 'object', entries: [] };
        } else {
          if (c !== 0x22) this.fail(c, 'looking for beginning of object key string');
          const key = this.string().value;
          c = this.skipWs();
          if (c !== 0x3a /* : */) this.fail(c, 'after object key');
          this.pos++;
          stack.push({ kind: 'object', entries: [], key });
          c = this.skipWs();
          continue;
        }
      } else if (c === 0x5b /* [ */) {
        if (stack.length >= MAX_DEPTH) this.fail(c, 'exceeded max depth');
        this.pos++;
        c = this.skipWs();
        if (c === 0x5d /* ] */) {
          this.pos++;
          done = { t: 'array', items: [] };
        } else {
          stack.push({ kind: 'array', items: [] });
          continue;
        }
      } else {
        done = this.scalar(c);
      }
      // Attach the finished value to its container, closing containers as they end.
      for (;;) {
        const top = stack[stack.length - 1];
        if (top === undefined) return done;
        if (top.kind === 'object') {
          top.entries.push([top.key as string, done]);
          c = this.skipWs();
          if (c === 0x2c /* , */) {
            this.pos++;
            c = this.skipWs();
            if (c !== 0x22) this.fail(c, 'looking for beginning of object key string');
            top.key = this.string().value;
            c = this.skipWs();
            if (c !== 0x3a) this.fail(c, 'after object key');
            this.pos++;
            c = this.skipWs();
            break;
          }
          if (c !== 0x7d) this.fail(c, 'after object key:value pair');
          this.pos++;
          stack.pop();
          done = { t: 'object', entries: top.entries };
        } else {
          top.items.push(done);
          c = this.skipWs();
          if (c === 0x2c) {
            this.pos++;
            c = this.skipWs();
            break;
          }
          if (c !== 0x5d) this.fail(c, 'after array element');
          this.pos++;
          stack.pop();
          done = { t: 'array', items: top.items };
        }
      }
    }
  }

  private scalar(c: number): GoJson {
    if (c === 0x22) return this.string();
    if (c === 0x2d || isDigit(c)) return this.number();
    if (c === 0x74) {
      this.literal('true');
      return { t: 'bool', value: true };
    }
    if (c === 0x66) {
      this.literal('false');
      return { t: 'bool', value: false };
    }
    if (c === 0x6e) {
      this.literal('null');
      return { t: 'null' };
    }
    this.fail(c, 'looking for beginning of value');
  }

  private literal(word: string): void {
    this.pos++;
    for (let k = 1; k < word.length; k++) {
      const c = this.peek();
      if (c !== word.charCodeAt(k)) this.fail(c, `in literal ${word} (expecting '${word[k]}')`);
      this.pos++;
    }
  }

  private number(): GoJson {
    const start = this.pos;
    let c = this.buf[this.pos] as number;
    if (c === 0x2d) {
      this.pos++;
      c = this.peek();
      if (!isDigit(c)) this.fail(c, 'in numeric literal');
    }
    this.pos++;
    if (c !== 0x30) while (this.digitNext()) this.pos++;
    if (this.atNumberEnd()) return this.numberFrom(start);
    c = this.buf[this.pos] as number;
    if (c === 0x2e /* . */) {
      this.pos++;
      c = this.peek();
      if (!isDigit(c)) this.fail(c, 'after decimal point in numeric literal');
      this.pos++;
      while (this.digitNext()) this.pos++;
      if (this.atNumberEnd()) return this.numberFrom(start);
      c = this.buf[this.pos] as number;
    }
    if (c === 0x65 || c === 0x45 /* e E */) {
      this.pos++;
      c = this.peek();
      if (c === 0x2b || c === 0x2d) {
        this.pos++;
        c = this.peek();
      }
      if (!isDigit(c)) this.fail(c, 'in exponent of numeric literal');
      this.pos++;
      while (this.digitNext()) this.pos++;
    }
    return this.numberFrom(start);
  }

  /** A number can only end where a non-number byte follows, or at the final end. */
  private atNumberEnd(): boolean {
    if (this.pos < this.buf.length) return false;
    if (this.final) return true;
    throw new EndOfInput();
  }

  private digitNext(): boolean {
    if (this.pos >= this.buf.length) {
      if (this.final) return false;
      throw new EndOfInput();
    }
    return isDigit(this.buf[this.pos] as number);
  }

  private numberFrom(start: number): GoJson {
    return { t: 'number', text: utf8.decode(this.buf.subarray(start, this.pos)) };
  }

  private string(): { t: 'string'; value: string; raw: Uint8Array } {
    const start = this.pos;
    this.pos++;
    let simple = true;
    for (;;) {
      const c = this.peek();
      if (c === 0x22) {
        this.pos++;
        break;
      }
      if (c < 0x20) this.fail(c, 'in string literal');
      if (c === 0x5c /* \ */) {
        simple = false;
        this.pos++;
        const e = this.peek();
        if (e === 0x75 /* u */) {
          this.pos++;
          for (let k = 0; k < 4; k++) {
            const h = this.peek();
            if (!isHex(h)) this.fail(h, 'in \\u hexadecimal character escape');
            this.pos++;
          }
          continue;
        }
        if (!'bfnrt\\/"'.includes(String.fromCharCode(e))) this.fail(e, 'in string escape code');
      } else if (c >= 0x80) {
        simple = false;
      }
      this.pos++;
    }
    const raw = this.buf.subarray(start, this.pos);
    const inner = raw.subarray(1, raw.length - 1);
    return { t: 'string', value: simple ? utf8.decode(inner) : unquoteGo(inner), raw };
  }
}

/** The text of a valid JSON string body, decoded as Go's unquote does (bad UTF-8 and lone surrogates become U+FFFD). */
function unquoteGo(inner: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < inner.length) {
    const c = inner[i] as number;
    if (c !== 0x5c) {
      let j = i;
      while (j < inner.length && inner[j] !== 0x5c) j++;
      out += utf8.decode(inner.subarray(i, j));
      i = j;
      continue;
    }
    const e = inner[i + 1] as number;
    i += 2;
    switch (e) {
      case 0x62:
        out += '\b';
        break;
      case 0x66:
        out += '\f';
        break;
      case 0x6e:
        out += '\n';
        break;
      case 0x72:
        out += '\r';
        break;
      case 0x74:
        out += '\t';
        break;
      case 0x75: {
        const u = Number.parseInt(utf8.decode(inner.subarray(i, i + 4)), 16);
        i += 4;
        if (u >= 0xd800 && u < 0xdc00) {
          // A high surrogate pairs only with an escaped low one that follows.
          if (inner[i] === 0x5c && inner[i + 1] === 0x75) {
            const lo = Number.parseInt(utf8.decode(inner.subarray(i + 2, i + 6)), 16);
            if (lo >= 0xdc00 && lo < 0xe000) {
              out += String.fromCharCode(u, lo);
              i += 6;
              break;
            }
          }
          out += '\ufffd';
        } else if (u >= 0xdc00 && u < 0xe000) {
          out += '\ufffd';
        } else {
          out += String.fromCharCode(u);
        }
        break;
      }
      default:
        out += String.fromCharCode(e);
    }
  }
  return out;
}

/** The Go type-error kind name of a value ("string", "number", "object", ...). */
export function goKindOf(v: GoJson): string {
  switch (v.t) {
    case 'bool':
      return 'bool';
    case 'null':
      return 'null';
    default:
      return v.t;
  }
}
