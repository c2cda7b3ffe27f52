/** The WAL holds damage that is not a torn tail; opening would lose acknowledged data, so we refuse. */
export class WalCorruptError extends Error {
  readonly file: string;
  readonly offset: number;

  constructor(file: string, offset: number, reason: string) {
    super(`wal: corrupt data in ${file} at byte offset ${offset}: ${reason}`);
    this.name = 'WalCorruptError';
    this.file = file;
    this.offset = offset;
  }
}

export type WalLogger = (
  level: 'info' | 'warn' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
) => void;

export const silentLogger: WalLogger = () => {};
