import { spawn } from 'node:child_process';
import { Mutex, Session } from '../../client/concurrency.js';
import type { Command } from './command.js';
import { errorText, exitCodeOf } from './errors.js';
import { display, mustClient } from './global.js';
import { Exit, fail } from './io.js';
import { interrupted, unlessInterrupted } from './signals.js';

export const lockCommand: Command = {
  name: 'lock',
  use: 'lock <lockname> [exec-command arg1 arg2 ...]',
  short: 'Acquires a named lock',
  flags: [{ name: 'ttl', kind: 'int', def: '10', usage: 'timeout for session' }],
  run: async (ctx) => {
    if (ctx.args.length === 0) {
      fail(Exit.badArgs, 'lock takes a lock name argument and an optional command to execute');
    }
    const [name, ...command] = ctx.args as [string, ...string[]];
    const stop = interrupted();
    const client = mustClient(ctx);
    const failWith = (e: unknown): never => fail(exitCodeOf(e), errorText(e));
    const session = await Session.create(client, Number(ctx.flags.int('ttl'))).catch(failWith);
    const mutex = new Mutex(session, name);
    const acquired = await unlessInterrupted(
      mutex.lock().then(() => true),
      stop.promise,
    ).catch(failWith);
    if (acquired === undefined) fail(Exit.error, 'context canceled');
    if (command.length > 0) {
      const env = {
        ETCD_LOCK_KEY: mutex.key(),
        ETCD_LOCK_REV: String(mutex.header?.revision ?? 0),
        ...process.env,
      };
      const status = await new Promise<string | undefined>((resolve) => {
        const child = spawn(command[0] as string, command.slice(1), { env, stdio: 'inherit' });
        child.on('error', (e) => resolve(e.message));
        child.on('exit', (code, sig) =>
          resolve(sig !== null ? `signal: ${sig}` : code === 0 ? undefined : `exit status ${code}`),
        );
      });
      await mutex.unlock().catch(failWith);
      if (status !== undefined) fail(Exit.error, status);
      return;
    }
    const resp = await client.range({ key: Buffer.from(mutex.key()) }).catch(failWith);
    if (resp.kvs.length === 0) fail(Exit.error, 'lock lost on init');
    display(ctx).get(resp);
    const outcome = await Promise.race([
      stop.promise.then(() => 'signal'),
      session.done.then(() => 'expired'),
    ]);
    if (outcome === 'expired') fail(Exit.error, 'session expired');
    await mutex.unlock().catch(failWith);
  },
};
