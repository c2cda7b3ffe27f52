// Password prompts as etcdctl 3.4 shows them (github.com/bgentry/speakeasy):
// the prompt on stdout, terminal echo off (speakeasy runs `stty -echo`, so a
// stdin that is not a terminal only gets stty's complaint on stderr), the
// answer read one byte at a time up to a newline or the end of input (so
// nothing after it is consumed), a trailing "\r" dropped, spaces trimmed, and
// a newline printed after. Synchronous, like Go's: the prompt for --user can
// happen wherever a client is made.
import { execFileSync } from 'node:child_process';
import { readSync } from 'node:fs';
import type { CliIo } from './io.js';

/** Where a prompted secret comes from; processIo reads fd 0, tests give bytes. */
export interface SecretInput {
  /** The next byte of stdin, or undefined at its end. */
  readByte(): number | undefined;
  /** Turns terminal echo off and on (no-ops where there is no terminal). */
  echo(on: boolean): void;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** stdin read from file descriptor 0 directly, byte by byte, as speakeasy does. */
export function processSecretInput(): SecretInput {
  const one = Buffer.alloc(1);
  return {
    readByte: () => {
      for (;;) {
        try {
          return readSync(0, one, 0, 1, null) === 0 ? undefined : one[0];
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'EAGAIN') {
            sleepMs(5);
            continue;
          }
          if (code === 'EOF') return undefined;
          throw e;
        }
      }
    },
    echo: (on) => {
      try {
        execFileSync('stty', [on ? 'echo' : '-echo'], { stdio: ['inherit', 'inherit', 'inherit'] });
      } catch {
        // Not a terminal: stty said so on stderr, as it does for etcdctl.
      }
    },
  };
}

/** speakeasy.Ask: prints `prompt`, reads one line without echo, prints a newline. */
export function askSecret(io: CliIo, input: SecretInput, prompt: string): string {
  io.out(prompt);
  input.echo(false);
  const bytes: number[] = [];
  try {
    for (;;) {
      const b = input.readByte();
      if (b === undefined || b === 0x0a) break;
      bytes.push(b);
    }
  } finally {
    input.echo(true);
  }
  io.out('\n');
  let line = Buffer.from(bytes).toString('utf8');
  if (line.endsWith('\r')) line = line.slice(0, -1);
  return line.trim();
}

/** The io's secret input, or one reading nothing (io seams without a stdin). */
export function secretInputOf(io: CliIo): SecretInput {
  return io.secretInput ?? { readByte: () => undefined, echo: () => undefined };
}
