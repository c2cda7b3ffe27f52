/**
 * JSON text the way Go's encoding/json writes it: keys in struct order
 * (insertion order here), 64-bit integers exact (bigint), []byte as base64,
 * and Go's HTML-safe string escaping. `undefined` members are skipped, which
 * is how callers express `omitempty`.
 */
export type GoJson =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | GoJson[]
  | GoJsonObject
  | undefined;
export interface GoJsonObject {
  [key: string]: GoJson;
}

export function goJson(value: GoJson): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('json: unsupported value');
    return String(value);
  }
  if (typeof value === 'string') return goJsonString(value);
  if (value instanceof Uint8Array) return goJsonString(Buffer.from(value).toString('base64'));
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    parts.push(`${goJsonString(k)}:${goJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

export function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) {
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    } else if (c === 0xfffd) out += '\ufffd';
    else out += ch;
  }
  return `${out}"`;
}

/** omitempty helpers: Go leaves out zero numbers, false, empty strings/bytes/slices and nil pointers. */
export function omitZero(v: number | bigint): number | bigint | undefined {
  return v === 0 || v === 0n ? undefined : v;
}
export function omitFalse(v: boolean): boolean | undefined {
  return v ? true : undefined;
}
export function omitEmpty<T extends { length: number }>(v: T): T | undefined {
  return v.length === 0 ? undefined : v;
}
