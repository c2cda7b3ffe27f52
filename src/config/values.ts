// Parsers for flag values with Go's rules (strconv.ParseBool, ParseUint/ParseInt
// with base 0, time.ParseDuration), so the same strings are accepted and rejected
// as by etcd. Each throws ValueError whose message is the part Go's flag package
// prints after "invalid value ... for flag -name: ".

import { formatDuration, parseDuration } from '../util/go-duration.js';

export class ValueError extends Error {}

const TRUE_WORDS: ReadonlySet<string> = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

export function parseGoBool(text: string): boolean {
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  throw new ValueError('parse error');
}

/**
 * Go integer literal with base prefix (0x, 0o, 0b, leading 0 = octal) and
 * underscores between digits. Returns a bigint so 64-bit limits can be checked.
 */
function parseGoIntegerLiteral(text: string): bigint {
  let body = text;
  let negative = false;
  if (body.startsWith('-') || body.startsWith('+')) {
    negative = body.startsWith('-');
    body = body.slice(1);
  }
  const lower = body.toLowerCase();
  let digits = body;
  let radixPrefix = '';
  if (lower.startsWith('0x') || lower.startsWith('0o') || lower.startsWith('0b')) {
    radixPrefix = lower.slice(0, 2);
    digits = body.slice(2);
  } else if (body.length > 1 && body.startsWith('0')) {
    radixPrefix = '0o';
    digits = body.slice(1);
  }
  if (!/^_?[0-9a-fA-F]+(_[0-9a-fA-F]+)*$/.test(digits) || (radixPrefix === '' && digits.startsWith('_'))) {
    throw new ValueError('parse error');
  }
  const clean = digits.replaceAll('_', '');
  const valid = { '': /^[0-9]+$/, '0x': /^[0-9a-fA-F]+$/, '0o': /^[0-7]+$/, '0b': /^[01]+$/ }[radixPrefix];
  if (valid === undefined || !valid.test(clean)) throw new ValueError('parse error');
  const value = BigInt(radixPrefix === '' ? clean : `${radixPrefix}${clean}`);
  return negative ? -value : value;
}

/** Unsigned integer of `bits` bits; also rejects values a JS number cannot hold exactly. */
export function parseGoUint(text: string, bits: 32 | 64): number {
  if (text.startsWith('-') || text.startsWith('+')) throw new ValueError('parse error');
  const value = parseGoIntegerLiteral(text);
  const max = bits === 32 ? 0xffffffffn : BigInt(Number.MAX_SAFE_INTEGER);
  if (value > max) throw new ValueError('value out of range');
  return Number(value);
}

export function parseGoInt(text: string): number {
  const value = parseGoIntegerLiteral(text);
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  if (value > limit || value < -limit) throw new ValueError('value out of range');
  return Number(value);
}

/** Go's time.ParseDuration, returning nanoseconds; etcd reports any failure as a parse error. */
export function parseGoDurationNs(text: string): number {
  try {
    return parseDuration(text);
  } catch {
    throw new ValueError('parse error');
  }
}

/** Formats nanoseconds the way Go's Duration.String() does ("100ms", "1s", "2h0m0s"). */
export const formatGoDuration = formatDuration;
