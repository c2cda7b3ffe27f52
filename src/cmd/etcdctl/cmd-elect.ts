import { Election, Session } from '../../client/concurrency.js';
import type { Command } from './command.js';
import { errorText, exitCodeOf } from './errors.js';
import { display, mustClient } from './global.js';
import { Exit, fail } from './io.js';
import { interrupted, unlessInterrupted } from './signals.js';

export const electCommand: Command = {
  name: 'elect',
  use: 'elect <election-name> [proposal]',
  short: 'Observes and participates in leader election',
  flags: [{ name: 'listen', short: 'l', kind: 'bool', def: 'false', usage: 'observation mode' }],
  run: async (ctx) => {
    const args = ctx.args;
    if (args.length !== 1 && args.length !== 2) {
      fail(Exit.badArgs, 'elect takes one election name argument and an optional proposal argument');
    }
    const listen = ctx.flags.bool('listen');
    if (args.length === 1 && !listen) fail(Exit.badArgs, 'no proposal argument but -l not set');
    if (args.length === 2 && listen) fail(Exit.badArgs, 'proposal given but -l is set');
    const stop = interrupted();
    const client = mustClient(ctx);
    const failWith = (e: unknown): never => fail(exitCodeOf(e), errorText(e));
    const session = await Session.create(client).catch(failWith);
    const election = new Election(session, args[0] as string);
    if (args.length === 1) {
      const observing = (async () => {
        for await (const { header, kv } of election.observe()) {
          display(ctx).get({ header, kvs: [kv], more: false, count: 0 });
        }
      })();
      const done = await unlessInterrupted(
        observing.then(() => true),
        stop.promise,
      ).catch(failWith);
      if (done !== undefined) fail(Exit.error, 'elect: observer lost');
      return;
    }
    const won = await unlessInterrupted(
      election.campaign(args[1] as string).then(() => true),
      stop.promise,
    ).catch(failWith);
    if (won === undefined) fail(Exit.error, 'context canceled');
    const resp = await client.range({ key: Buffer.from(election.key()) }).catch(failWith);
    display(ctx).get(resp);
    const outcome = await Promise.race([
      stop.promise.then(() => 'signal'),
      session.done.then(() => 'expired'),
    ]);
    if (outcome === 'expired') fail(Exit.error, 'elect: session expired');
    await election.resign().catch(failWith);
  },
};
