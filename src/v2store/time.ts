// Times as the v2 store keeps them: bigint Unix nanoseconds, `undefined` for
// Go's zero time (v2store.Permanent). In JSON they are Go's time.Time
// (RFC 3339 with up to nine fraction digits, trailing zeros dropped).

export const NS_PER_SECOND = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;

/** Go's zero time.Time, the "never expires" of the v2 store, as written in JSON. */
export const ZERO_TIME_JSON = '0001-01-01T00:00:00Z';

const zeroDate = new Date(0);
zeroDate.setUTCFullYear(1, 0, 1);
zeroDate.setUTCHours(0, 0, 0, 0);
/** Go's zero time in Unix nanoseconds. */
export const ZERO_TIME_NS = BigInt(zeroDate.getTime()) * NS_PER_MS;

/** 2000-01-01T00:00:00Z: v2store treats earlier expire times given to create/set as "permanent". */
export const MIN_EXPIRE_TIME_NS = BigInt(Date.UTC(2000, 0, 1)) * NS_PER_MS;

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** RFC 3339 in UTC with Go's RFC3339Nano fraction (trailing zeros and a bare dot dropped). */
export function formatGoTime(ns: bigint | undefined): string {
  if (ns === undefined) return ZERO_TIME_JSON;
  const ms = floorDiv(ns, NS_PER_MS);
  const frac = ns - floorDiv(ns, NS_PER_SECOND) * NS_PER_SECOND;
  const iso = new Date(Number(ms)).toISOString();
  const base = iso.startsWith('+') || iso.startsWith('-') ? iso.slice(0, 22) : iso.slice(0, 19);
  let digits = frac.toString().padStart(9, '0').replace(/0+$/, '');
  if (digits !== '') digits = `.${digits}`;
  return `${base}${digits}Z`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|z|[+-]\d{2}:\d{2})$/;

/** Parses Go's time.Time JSON; undefined for the zero time. Throws on anything else. */
export function parseGoTime(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (m === null) throw new Error(`bad time ${JSON.stringify(text)}`);
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), 0);
  let ns = BigInt(d.getTime()) * NS_PER_MS;
  const frac = m[7];
  if (frac !== undefined) ns += BigInt(frac.slice(1, 10).padEnd(9, '0'));
  const zone = m[8]!;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1n : 1n;
    const minutes = BigInt(Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
    ns -= sign * minutes * 60n * NS_PER_SECOND;
  }
  return ns === ZERO_TIME_NS ? undefined : ns;
}

/** Unix nanoseconds of a millisecond clock reading (Date.now()). */
export function nsFromMs(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * NS_PER_MS;
}
