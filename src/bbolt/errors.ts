// One error type for every malformed, truncated or unsupported file, so callers (and the fuzz
// test) can tell "bad input" from a bug.

export class BoltFormatError extends Error {
  override readonly name = 'BoltFormatError';
  constructor(message: string) {
    super(`bbolt: ${message}`);
  }
}

/** Misuse of the writer (keys out of order, unbalanced buckets, oversized keys...). */
export class BoltWriteError extends Error {
  override readonly name = 'BoltWriteError';
  constructor(message: string) {
    super(`bbolt writer: ${message}`);
  }
}
