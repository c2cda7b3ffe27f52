import { processIo } from './io.js';
import { rootCommand } from './root.js';
import { runCli } from './run.js';

/** Entry point: etcdctl with process arguments, exit with its status once output is flushed. */
async function main(): Promise<void> {
  const io = processIo();
  let code: number;
  try {
    code = await runCli(rootCommand, process.argv.slice(2), io);
  } catch (e) {
    io.err(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    code = 1;
  }
  process.exit(code);
}

void main();
