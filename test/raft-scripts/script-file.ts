// The on-disk form of a scenario: commands (lines starting with "> ") each followed by the
// transcript they produced, with "#" comment lines in between. One file is both the input and
// the golden output, so rewriting it is just serializing the items with fresh outputs.

export interface ScriptItem {
  /** Comment lines ("# ...") written just above the command. */
  comments: string[];
  /** The command line without its "> " marker. */
  command: string;
  /** 1-based line number of the command in the file, for error messages. */
  line: number;
  /** The output block found in the file (the golden transcript of this command). */
  expected: string[];
}

export const COMMAND_MARKER = '> ';

export function parseScript(text: string): ScriptItem[] {
  const items: ScriptItem[] = [];
  let comments: string[] = [];
  let current: ScriptItem | undefined;
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trimEnd();
    if (line.startsWith('#')) {
      current = undefined;
      comments.push(line);
    } else if (line.startsWith(COMMAND_MARKER.trimEnd())) {
      current = { comments, command: line.slice(1).trim(), line: i + 1, expected: [] };
      comments = [];
      items.push(current);
    } else if (current !== undefined) {
      current.expected.push(line);
    } else if (line !== '') {
      throw new Error(`line ${i + 1}: text outside of a command's output block: ${line}`);
    }
  });
  if (comments.length > 0) throw new Error('comments after the last command');
  for (const it of items) {
    while (it.expected.length > 0 && it.expected[it.expected.length - 1] === '') it.expected.pop();
  }
  return items;
}

/** The canonical file text: comments, command, output, one blank line between commands. */
export function renderScript(
  items: readonly { comments: string[]; command: string; output: string[] }[],
): string {
  const out: string[] = [];
  for (const it of items) {
    out.push(...it.comments, `${COMMAND_MARKER}${it.command}`, ...it.output, '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** Outputs are written back verbatim, so a line that looks like a marker would corrupt the file. */
export function assertOutputLineSafe(line: string): void {
  if (line.trim() === '' || line.startsWith('#') || line.startsWith('>'))
    throw new Error(`transcript line would be misread as script syntax: ${JSON.stringify(line)}`);
}
