// "caller" for a log record: the file and line that called the logger, as
// "dir/file.js:line" like zap's short caller ("embed/etcd.go:117"). Capturing a
// stack costs a few microseconds, so it happens only for records that are written.

const FRAME = /\(?((?:file:\/\/)?[^():\s]+):(\d+):\d+\)?$/;

/** `skipFrames` = frames of the logger itself between the caller and this function. */
export function callerOf(skipFrames: number): string {
  const holder: { stack?: string } = {};
  const savedLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = skipFrames + 2;
  Error.captureStackTrace(holder, callerOf);
  Error.stackTraceLimit = savedLimit;
  const lines = (holder.stack ?? '').split('\n');
  const frame = lines[skipFrames + 1];
  if (frame === undefined) return 'unknown';
  const m = FRAME.exec(frame.trim());
  if (m === null) return 'unknown';
  const parts = (m[1] as string).split('/');
  return `${parts.slice(-2).join('/')}:${m[2]}`;
}
