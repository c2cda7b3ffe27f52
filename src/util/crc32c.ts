// CRC-32C (Castagnoli), as etcd's WAL, snapshot and hash formats use it, from the native
// @node-rs/crc32 addon, loaded on first use. Loading the addon (dlopen plus its CommonJS
// wrapper) cost every etcdctl command ~20–40 ms at start, and most commands never checksum
// anything; the server pays the load once, at its first WAL record.
import { createRequire } from 'node:module';

type Crc32cFn = (input: Uint8Array, initialState?: number) => number;

let impl: Crc32cFn | undefined;

/** CRC-32C of `input`, continuing from `initialState` (a previous result) when given. */
export function crc32c(input: Uint8Array, initialState?: number): number {
  impl ??= (createRequire(import.meta.url)('@node-rs/crc32') as { crc32c: Crc32cFn }).crc32c;
  return impl(input, initialState);
}
