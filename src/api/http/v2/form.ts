// Request parameters as Go's net/http reads them for etcd's v2 handlers:
// r.ParseForm() (a url-encoded body of POST/PUT/PATCH first, then the query;
// the first value of a key wins), url.ParseQuery's escapes and errors,
// strconv.ParseBool and ParseUint.

/** Go's defaultMaxMemory-free limit for url-encoded bodies (10 MB). */
export const MAX_FORM_BYTES = 10 << 20;

export class FormError extends Error {}

/** Go's url.Values: every value of every key, in order. */
export type FormValues = Map<string, string[]>;

const utf8 = new TextDecoder();

function unhex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** Go's url.QueryUnescape (plus = space), or PathUnescape when `query` is false. */
export function urlUnescape(s: string, query: boolean): string {
  if (!s.includes('%') && !(query && s.includes('+'))) return s;
  const src = Buffer.from(s, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === 0x25) {
      const hi = i + 2 < src.length ? unhex(src[i + 1]!) : -1;
      const lo = i + 2 < src.length ? unhex(src[i + 2]!) : -1;
      if (hi < 0 || lo < 0) {
        throw new FormError(
          `invalid URL escape ${JSON.stringify(src.subarray(i, i + 3).toString('latin1'))}`,
        );
      }
      out.push(hi * 16 + lo);
      i += 2;
    } else if (c === 0x2b && query) {
      out.push(0x20);
    } else {
      out.push(c);
    }
  }
  return utf8.decode(Uint8Array.from(out));
}

/** Go's url.ParseQuery into `into`: keeps what parses, reports the first error. */
export function parseQuery(raw: string, into: FormValues): FormError | undefined {
  let first: FormError | undefined;
  for (const part of raw.split('&')) {
    if (part.includes(';')) {
      first ??= new FormError('invalid semicolon separator in query');
      continue;
    }
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    let key: string;
    let value: string;
    try {
      key = urlUnescape(rawKey, true);
      value = urlUnescape(rawValue, true);
    } catch (err) {
      first ??= err as FormError;
      continue;
    }
    const list = into.get(key);
    if (list === undefined) into.set(key, [value]);
    else list.push(value);
  }
  return first;
}

/** The media type of a Content-Type header, lower-cased (Go's mime.ParseMediaType, leniently). */
export function mediaType(contentType: string | undefined): string {
  const ct = contentType === undefined || contentType === '' ? 'application/octet-stream' : contentType;
  return ct.split(';')[0]!.trim().toLowerCase();
}

/** r.Form after r.ParseForm(): body values (url-encoded POST/PUT/PATCH) first, then the query. */
export function parseForm(
  method: string,
  contentType: string | undefined,
  body: string,
  rawQuery: string,
): { form: FormValues; error?: FormError } {
  const form: FormValues = new Map();
  let error: FormError | undefined;
  const hasBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
  if (hasBody && mediaType(contentType) === 'application/x-www-form-urlencoded') {
    if (Buffer.byteLength(body) > MAX_FORM_BYTES) error = new FormError('http: POST too large');
    else error = parseQuery(body, form);
  }
  const queryError = parseQuery(rawQuery, form);
  error ??= queryError;
  return error === undefined ? { form } : { form, error };
}

export function formValue(form: FormValues, key: string): string {
  return form.get(key)?.[0] ?? '';
}

/** Go's strconv.ParseBool. */
export function parseGoBool(s: string): boolean | undefined {
  switch (s) {
    case '1':
    case 't':
    case 'T':
    case 'TRUE':
    case 'true':
    case 'True':
      return true;
    case '0':
    case 'f':
    case 'F':
    case 'FALSE':
    case 'false':
    case 'False':
      return false;
    default:
      return undefined;
  }
}

/** etcd's getBool: false when absent; undefined when present but not a boolean. */
export function getBool(form: FormValues, key: string): boolean | undefined {
  const v = form.get(key);
  return v === undefined ? false : parseGoBool(v[0]!);
}

/** etcd's getUint64 (strconv.ParseUint base 10): 0 when absent; undefined when not a uint64. */
export function getUint64(form: FormValues, key: string): bigint | undefined {
  const v = form.get(key);
  if (v === undefined) return 0n;
  if (!/^[0-9]+$/.test(v[0]!)) return undefined;
  const n = BigInt(v[0]!);
  return n < 1n << 64n ? n : undefined;
}
