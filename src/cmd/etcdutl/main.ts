// Entry point of etcdutl: runs the command tree with the process's arguments and exits with
// its status once output is flushed. etcdctl's ETCDCTL_API switch does not apply here.
import { processIo } from '../etcdctl/io.js';
import { runCli } from '../etcdctl/run.js';
import { etcdutlRoot } from './root.js';

async function main(): Promise<void> {
  const io = processIo();
  const { ETCDCTL_API: _ignored, ...env } = io.env;
  let code: number;
  try {
    code = await runCli(etcdutlRoot, process.argv.slice(2), { ...io, env });
  } catch (e) {
    io.err(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    code = 1;
  }
  process.exit(code);
}

void main();
