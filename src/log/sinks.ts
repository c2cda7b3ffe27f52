// Where log lines go: "stderr" (also etcd's "default" outside systemd), "stdout",
// or file paths (appended). Writes are synchronous: on Linux, Node's stdout/stderr
// are synchronous for files and pipes already, and a fatal line must reach the
// file before the process exits.

import { closeSync, openSync, writeSync } from 'node:fs';

export interface Sink {
  write(line: string): void;
  close(): void;
}

const stderrSink: Sink = { write: (line) => void process.stderr.write(line), close: () => {} };
const stdoutSink: Sink = { write: (line) => void process.stdout.write(line), close: () => {} };

function fileSink(path: string): Sink {
  let fd: number | undefined = openSync(path, 'a', 0o644);
  return {
    write(line) {
      if (fd !== undefined) writeSync(fd, line);
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/** One sink per distinct output; throws if a file cannot be opened (etcd refuses to start then too). */
export function openSinks(outputs: readonly string[]): Sink[] {
  const names = [...new Set(outputs.map((o) => (o === 'default' ? 'stderr' : o)))];
  if (names.length === 0) throw new Error('no log outputs');
  return names.map((name) => {
    if (name === 'stderr') return stderrSink;
    if (name === 'stdout') return stdoutSink;
    return fileSink(name);
  });
}

/** A sink that keeps lines in memory (tests). Bounded: keeps the last `max` lines. */
export function memorySink(max = 10000): Sink & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    write(line) {
      lines.push(line);
      if (lines.length > max) lines.shift();
    },
    close() {},
  };
}
