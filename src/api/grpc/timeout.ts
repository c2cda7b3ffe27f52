/**
 * grpc-timeout header: 1-8 ASCII digits followed by a unit
 * (H hours, M minutes, S seconds, m millis, u micros, n nanos).
 */
const UNIT_MS: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000001,
};

/** Longest timer Node supports; longer deadlines are treated as none. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Returns the timeout in whole milliseconds (rounded up, so a 1 µs timeout
 * still expires), undefined when absent or beyond what a timer can express.
 * Throws on a malformed value.
 */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const unit = UNIT_MS[text.charAt(text.length - 1)];
  const digits = text.slice(0, -1);
  if (unit === undefined || !/^[0-9]{1,8}$/.test(digits)) {
    throw new Error(`malformed grpc-timeout ${JSON.stringify(text)}`);
  }
  const ms = Math.ceil(Number(digits) * unit);
  return ms > MAX_TIMER_MS ? undefined : ms;
}
