import { processSecretInput, type SecretInput } from './password-prompt.js';

/** Where a command writes; a seam so tests can capture output. */
export interface CliIo {
  out(data: string | Uint8Array): void;
  err(data: string | Uint8Array): void;
  /** Reads all of standard input. */
  readStdin(): Promise<Buffer>;
  /** Standard input as a stream of chunks (read once, shared with readStdin). */
  stdin(): AsyncIterable<Buffer>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Environment variables in their original order, as Go's os.Environ() lists them. */
  readonly envOrder: readonly string[];
  /** Where password prompts read (password-prompt.ts); without it, they read readStdin's bytes. */
  readonly secretInput?: SecretInput;
}

/** Ends the command with an exit status; `message` (if any) is printed as `Error: message`. */
export class ExitError extends Error {
  constructor(
    readonly code: number,
    readonly text: string | undefined,
    /** What precedes the text on stderr; a Go panic has no "Error: ". */
    readonly prefix = 'Error: ',
  ) {
    super(text ?? `exit ${code}`);
  }
}

/** etcdctl's exit statuses. */
export const Exit = {
  success: 0,
  error: 1,
  badConnection: 2,
  invalidInput: 3,
  badFeature: 4,
  interrupted: 5,
  io: 6,
  badArgs: 128,
} as const;

export function fail(code: number, message: string): never {
  throw new ExitError(code, message);
}

/** Exit status a shell reports for a process killed by SIGPIPE, which is how Go's etcdctl ends. */
const SIGPIPE_STATUS = 141;

export function processIo(): CliIo {
  const envOrder = Object.keys(process.env);
  // A reader that went away (e.g. `| head`) ends the program quietly, as SIGPIPE ends Go's.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(SIGPIPE_STATUS);
      throw e;
    });
  }
  return {
    out: (d) => {
      process.stdout.write(d);
    },
    err: (d) => {
      process.stderr.write(d);
    },
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
    stdin: () => process.stdin as AsyncIterable<Buffer>,
    env: process.env,
    envOrder,
    secretInput: processSecretInput(),
  };
}

/** Thrown by LineReader when input ends before a newline, like Go's io.EOF from ReadString. */
export class EndOfInput extends Error {
  constructor() {
    super('EOF');
  }
}

/** Reads newline-terminated lines from a chunk stream, keeping the newline. */
export class LineReader {
  private buffer = Buffer.alloc(0);
  private readonly chunks: AsyncIterator<Buffer>;
  private ended = false;

  constructor(source: AsyncIterable<Buffer>) {
    this.chunks = source[Symbol.asyncIterator]();
  }

  /** The next line including its newline; throws EndOfInput when no complete line remains. */
  async readLine(): Promise<string> {
    for (;;) {
      const nl = this.buffer.indexOf(0x0a);
      if (nl >= 0) {
        const line = this.buffer.subarray(0, nl + 1).toString('utf8');
        this.buffer = this.buffer.subarray(nl + 1);
        return line;
      }
      if (this.ended) throw new EndOfInput();
      const next = await this.chunks.next();
      if (next.done === true) this.ended = true;
      else this.buffer = Buffer.concat([this.buffer, next.value]);
    }
  }
}
