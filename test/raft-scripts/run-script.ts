// Runs one scenario file: every command through a fresh Interpreter, giving the file as it
// should read (same commands and comments, actual transcripts).
import { Interpreter } from './interpreter.js';
import { parseScript, renderScript } from './script-file.js';

export function runScript(text: string): string {
  const interp = new Interpreter();
  const items = parseScript(text).map((it) => ({ ...it, output: interp.run(it.command) }));
  return renderScript(items);
}
