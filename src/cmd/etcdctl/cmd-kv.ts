import type { DeleteRangeRequest, PutRequest, RangeRequest } from '../../pb/etcdserverpb/rpc.js';
import type { Command, CommandContext } from './command.js';
import { commandDeadline, display, rpc, withClient } from './global.js';
import { Exit, fail } from './io.js';
import { bytes, FROM_KEY_END, prefixRangeEnd } from './keys.js';
import { SimplePrinter } from './printer/index.js';

const SORT_ORDERS: Record<string, number> = { '': 0, ASCEND: 1, DESCEND: 2 };
const SORT_TARGETS: Record<string, number> = { '': 0, KEY: 0, VERSION: 1, CREATE: 2, MODIFY: 3, VALUE: 4 };

/** Builds the RangeRequest for `get` arguments and flags (also used inside txn). */
export function getRequest(ctx: CommandContext): RangeRequest {
  const f = ctx.flags;
  const args = ctx.args;
  if (args.length === 0) {
    fail(Exit.badArgs, 'get command needs one argument as key and an optional argument as range_end');
  }
  const prefix = f.bool('prefix');
  const fromKey = f.bool('from-key');
  if (prefix && fromKey)
    fail(Exit.badArgs, '`--prefix` and `--from-key` cannot be set at the same time, choose one');
  const consistency = f.string('consistency');
  if (consistency !== 's' && consistency !== 'l') {
    fail(Exit.badFeature, `unknown consistency flag ${JSON.stringify(consistency)}`);
  }
  let key: Buffer = bytes(args[0] as string);
  let rangeEnd: Buffer = Buffer.alloc(0);
  if (args.length > 1) {
    if (prefix || fromKey) {
      fail(
        Exit.badArgs,
        'too many arguments, only accept one argument when `--prefix` or `--from-key` is set',
      );
    }
    rangeEnd = bytes(args[1] as string);
  }
  const order = SORT_ORDERS[f.string('order').toUpperCase()];
  if (order === undefined) fail(Exit.badFeature, `bad sort order ${f.string('order')}`);
  const target = SORT_TARGETS[f.string('sort-by').toUpperCase()];
  if (target === undefined) fail(Exit.badFeature, `bad sort target ${f.string('sort-by')}`);
  // Ascending by key is the server's natural order, so the client leaves the order unset.
  const sortOrder = target === 0 && order === 1 ? 0 : order;
  if (prefix) {
    if (key.length === 0) {
      key = Buffer.from([0]);
      rangeEnd = FROM_KEY_END;
    } else rangeEnd = prefixRangeEnd(key);
  }
  if (fromKey) {
    if (key.length === 0) key = Buffer.from([0]);
    rangeEnd = FROM_KEY_END;
  }
  const rev = Number(f.int('rev'));
  return {
    key,
    rangeEnd,
    limit: Number(f.int('limit')),
    revision: Math.max(rev, 0),
    sortOrder,
    sortTarget: target,
    serializable: consistency === 's',
    keysOnly: f.bool('keys-only'),
    countOnly: false,
    minModRevision: 0,
    maxModRevision: 0,
    minCreateRevision: 0,
    maxCreateRevision: 0,
  };
}

/** Builds the PutRequest for `put` (value from stdin when not given). */
export async function putRequest(ctx: CommandContext, allowStdin: boolean): Promise<PutRequest> {
  const f = ctx.flags;
  const args = ctx.args;
  const usage = 'put command needs 1 argument and input from stdin or 2 arguments';
  if (args.length === 0) fail(Exit.badArgs, usage);
  const ignoreValue = f.bool('ignore-value');
  if (ignoreValue && args.length > 1)
    fail(Exit.badArgs, "put command needs only 1 argument when 'ignore-value' is set");
  let value: Buffer = Buffer.alloc(0);
  if (!ignoreValue) {
    if (args.length > 1) value = bytes(args[1] as string);
    else {
      const stdin = allowStdin ? await ctx.io.readStdin() : Buffer.alloc(0);
      if (stdin.length === 0) fail(Exit.badArgs, usage);
      value = stdin;
    }
  }
  let lease: bigint;
  try {
    lease = parseHexInt64(f.string('lease'));
  } catch (e) {
    return fail(Exit.badArgs, `bad lease ID (${(e as Error).message}), expecting ID in Hex`);
  }
  return {
    key: bytes(args[0] as string),
    value,
    lease,
    prevKv: f.bool('prev-kv'),
    ignoreValue,
    ignoreLease: f.bool('ignore-lease'),
  };
}

/** strconv.ParseInt(s, 16, 64). */
export function parseHexInt64(s: string): bigint {
  const m = /^([+-]?)([0-9a-fA-F_]+)$/.exec(s);
  if (m === null || (m[2] as string).includes('_')) {
    throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  }
  let v = BigInt(`0x${m[2]}`);
  if (m[1] === '-') v = -v;
  if (v > (1n << 63n) - 1n || v < -(1n << 63n)) {
    throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  }
  return v;
}

/** Builds the DeleteRangeRequest for `del`. */
export function delRequest(ctx: CommandContext): DeleteRangeRequest {
  const f = ctx.flags;
  const args = ctx.args;
  if (args.length === 0 || args.length > 2) {
    fail(Exit.badArgs, 'del command needs one argument as key and an optional argument as range_end');
  }
  const prefix = f.bool('prefix');
  const fromKey = f.bool('from-key');
  if (prefix && fromKey)
    fail(Exit.badArgs, '`--prefix` and `--from-key` cannot be set at the same time, choose one');
  let key: Buffer = bytes(args[0] as string);
  let rangeEnd: Buffer = Buffer.alloc(0);
  if (args.length > 1) {
    if (prefix || fromKey) {
      fail(
        Exit.badArgs,
        'too many arguments, only accept one argument when `--prefix` or `--from-key` is set',
      );
    }
    rangeEnd = bytes(args[1] as string);
  }
  if (prefix) {
    if (key.length === 0) {
      key = Buffer.from([0]);
      rangeEnd = FROM_KEY_END;
    } else rangeEnd = prefixRangeEnd(key);
  }
  if (fromKey) {
    if (key.length === 0) key = Buffer.from([0]);
    rangeEnd = FROM_KEY_END;
  }
  return { key, rangeEnd, prevKv: f.bool('prev-kv') };
}

export const GET_FLAGS = [
  { name: 'consistency', kind: 'string', def: 'l', usage: 'Linearizable(l) or Serializable(s)' },
  {
    name: 'order',
    kind: 'string',
    def: '',
    usage: 'Order of results; ASCEND or DESCEND (ASCEND by default)',
  },
  { name: 'sort-by', kind: 'string', def: '', usage: 'Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION' },
  { name: 'limit', kind: 'int', def: '0', usage: 'Maximum number of results' },
  { name: 'prefix', kind: 'bool', def: 'false', usage: 'Get keys with matching prefix' },
  {
    name: 'from-key',
    kind: 'bool',
    def: 'false',
    usage: 'Get keys that are greater than or equal to the given key using byte compare',
  },
  { name: 'rev', kind: 'int', def: '0', usage: 'Specify the kv revision' },
  { name: 'keys-only', kind: 'bool', def: 'false', usage: 'Get only the keys' },
  {
    name: 'print-value-only',
    kind: 'bool',
    def: 'false',
    usage: 'Only write values when using the "simple" output format',
  },
] as const;

export const PUT_FLAGS = [
  { name: 'lease', kind: 'string', def: '0', usage: 'lease ID (in hexadecimal) to attach to the key' },
  {
    name: 'prev-kv',
    kind: 'bool',
    def: 'false',
    usage: 'return the previous key-value pair before modification',
  },
  { name: 'ignore-value', kind: 'bool', def: 'false', usage: 'updates the key using its current value' },
  { name: 'ignore-lease', kind: 'bool', def: 'false', usage: 'updates the key using its current lease' },
] as const;

export const DEL_FLAGS = [
  { name: 'prefix', kind: 'bool', def: 'false', usage: 'delete keys with matching prefix' },
  { name: 'prev-kv', kind: 'bool', def: 'false', usage: 'return deleted key-value pairs' },
  {
    name: 'from-key',
    kind: 'bool',
    def: 'false',
    usage: 'delete keys that are greater than or equal to the given key using byte compare',
  },
] as const;

export const getCommand: Command = {
  name: 'get',
  use: 'get [options] <key> [range_end]',
  short: 'Gets the key or a range of keys',
  flags: GET_FLAGS,
  run: async (ctx) => {
    const req = getRequest(ctx);
    await withClient(ctx, async (client) => {
      const resp = await rpc(client.range(req, { deadline: commandDeadline(ctx) }));
      const printer = display(ctx);
      if (ctx.flags.bool('print-value-only')) {
        if (!(printer instanceof SimplePrinter)) {
          fail(Exit.badArgs, 'print-value-only is only for `--write-out=simple`');
        }
        printer.valueOnly = true;
      }
      printer.get(resp);
    });
  },
};

export const putCommand: Command = {
  name: 'put',
  use: 'put [options] <key> <value> (<value> can also be given from stdin)',
  short: 'Puts the given key into the store',
  flags: PUT_FLAGS,
  run: async (ctx) => {
    const req = await putRequest(ctx, true);
    await withClient(ctx, async (client) => {
      display(ctx).put(await rpc(client.put(req, { deadline: commandDeadline(ctx) })));
    });
  },
};

export const delCommand: Command = {
  name: 'del',
  use: 'del [options] <key> [range_end]',
  short: 'Removes the specified key or range of keys [key, range_end)',
  flags: DEL_FLAGS,
  run: async (ctx) => {
    const req = delRequest(ctx);
    await withClient(ctx, async (client) => {
      display(ctx).del(await rpc(client.deleteRange(req, { deadline: commandDeadline(ctx) })));
    });
  },
};
