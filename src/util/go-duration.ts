/** Go's time.Duration text form: parsing and formatting, in nanoseconds (exact below 2^53 ns ≈ 104 days). Shared by the server's flags and etcdctl. */

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

export const NS_PER_MS = 1e6;

/** Parses "300ms", "-1.5h", "2h45m", "0" like Go's time.ParseDuration; throws Go's message on error. */
export function parseDuration(text: string): number {
  const invalid = () => new Error(`time: invalid duration ${JSON.stringify(text)}`);
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let total = 0;
  const part = /^([0-9]*(?:\.[0-9]*)?)([a-zµμ]+)/;
  while (s !== '') {
    const m = part.exec(s);
    if (m === null || m[1] === '' || m[1] === '.') throw invalid();
    const unit = UNIT_NS[m[2] as string];
    if (unit === undefined) {
      throw new Error(`time: unknown unit ${JSON.stringify(m[2])} in duration ${JSON.stringify(text)}`);
    }
    total += Number(m[1]) * unit;
    s = s.slice(m[0].length);
  }
  return sign * Math.round(total);
}

/** Formats like Go's Duration.String(): "1.5s", "2m0s", "1h0m0s", "1.706ms", "0s". */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let v = Math.abs(Math.round(ns));
  let out: string;
  if (v < 1e9) {
    if (v < 1e3) out = `${v}ns`;
    else if (v < 1e6) out = `${fraction(v, 3)}µs`;
    else out = `${fraction(v, 6)}ms`;
  } else {
    const secondsPart = `${fraction(v % 60e9, 9)}s`;
    v = Math.floor(v / 60e9);
    if (v === 0) out = secondsPart;
    else {
      const minutes = v % 60;
      const hours = Math.floor(v / 60);
      out = hours > 0 ? `${hours}h${minutes}m${secondsPart}` : `${minutes}m${secondsPart}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** value / 10^digits with trailing zeros (and a bare point) removed. */
function fraction(value: number, digits: number): string {
  const scale = 10 ** digits;
  const whole = Math.floor(value / scale);
  const rest = value % scale;
  if (rest === 0) return String(whole);
  return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
}
