import type { CliIo } from '../../src/cmd/etcdctl/io.js';

export interface CapturedIo extends CliIo {
  stdout(): string;
  stderr(): string;
}

/** A CliIo that records output and serves a fixed stdin and environment. */
export function captureIo(env: Record<string, string> = {}, stdin = ''): CapturedIo {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const toBuf = (d: string | Uint8Array) => (typeof d === 'string' ? Buffer.from(d) : Buffer.from(d));
  return {
    out: (d) => out.push(toBuf(d)),
    err: (d) => err.push(toBuf(d)),
    readStdin: async () => Buffer.from(stdin),
    stdin: async function* () {
      yield Buffer.from(stdin);
    },
    env,
    envOrder: Object.keys(env),
    stdout: () => Buffer.concat(out).toString(),
    stderr: () => Buffer.concat(err).toString(),
  };
}
