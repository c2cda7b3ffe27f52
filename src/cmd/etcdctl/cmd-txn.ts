import {
  type Compare,
  Compare_CompareResult,
  Compare_CompareTarget,
  type RequestOp,
} from '../../pb/etcdserverpb/rpc.js';
import { DEL_FLAGS, delRequest, GET_FLAGS, getRequest, PUT_FLAGS, putRequest } from './cmd-kv.js';
import { bindCommand, type Command, type CommandContext, FlagError, resolveCommand } from './command.js';
import { display, mustClient, rpc } from './global.js';
import { argify, scanGoQuoted } from './go-scan.js';
import { EndOfInput, Exit, ExitError, fail, LineReader } from './io.js';
import { bytes } from './keys.js';

const RESULTS: Record<string, Compare_CompareResult> = {
  '=': Compare_CompareResult.EQUAL,
  '!=': Compare_CompareResult.NOT_EQUAL,
  '>': Compare_CompareResult.GREATER,
  '<': Compare_CompareResult.LESS,
};

/** Parses one comparison line: `target("key") op "value"`. */
export function parseCompare(line: string): Compare {
  const lparen = line.indexOf('(');
  if (lparen < 0) throw new Error(`malformed comparison: ${line}`);
  const target = line.slice(0, lparen);
  const rest = line.slice(lparen + 1);
  const key = scanGoQuoted(rest, 0);
  let op = '';
  let val: string | undefined;
  if (key !== undefined && rest[key.end] === ')') {
    const tail = rest.slice(key.end + 1).replace(/^[ \t]+/, '');
    const m = /^\S+/.exec(tail);
    if (m !== null) {
      op = m[0];
      val = scanGoQuoted(tail, op.length)?.value;
    }
  }
  if (key === undefined || val === undefined) {
    throw new Error(
      `malformed comparison: ${line}; got ${target}("${key?.value ?? ''}") ${op} "${val ?? ''}"`,
    );
  }
  const result = RESULTS[op];
  // etcd's client library panics on an unknown operator.
  if (result === undefined) throw new ExitError(2, 'panic: Unknown result op', '');
  const invalid = () => new Error(`invalid txn compare request: ${line}`);
  const int = () => {
    if (!/^[+-]?[0-9]+$/.test(val)) throw invalid();
    return BigInt(val);
  };
  const cmp = (t: Compare_CompareTarget, union: Compare['targetUnion'], k = key.value): Compare => ({
    result,
    target: t,
    key: bytes(k),
    targetUnion: union,
    rangeEnd: Buffer.alloc(0),
  });
  switch (target) {
    case 'ver':
    case 'version':
      return cmp(Compare_CompareTarget.VERSION, { $case: 'version', version: int() });
    case 'c':
    case 'create':
      return cmp(Compare_CompareTarget.CREATE, { $case: 'createRevision', createRevision: int() });
    case 'm':
    case 'mod':
      return cmp(Compare_CompareTarget.MOD, { $case: 'modRevision', modRevision: int() });
    case 'val':
    case 'value':
      return cmp(Compare_CompareTarget.VALUE, { $case: 'value', value: bytes(val) });
    case 'lease':
      // etcdctl 3.4 drops the key of a lease comparison.
      return cmp(Compare_CompareTarget.LEASE, { $case: 'lease', lease: int() }, '');
    default:
      throw new Error(`malformed comparison: ${line} (unknown target ${target})`);
  }
}

const OP_ROOT: Command = {
  name: 'txn-op',
  use: '',
  short: '',
  subcommands: [
    { name: 'get', use: '', short: '', flags: GET_FLAGS },
    { name: 'put', use: '', short: '', flags: PUT_FLAGS },
    { name: 'del', use: '', short: '', flags: DEL_FLAGS },
  ],
};

/** Parses one request line (`put k v`, `get k --prefix`, `del k`) into a RequestOp. */
export async function parseRequestOp(line: string, ctx: CommandContext): Promise<RequestOp> {
  const args = argify(line);
  const invalid = new Error(`invalid txn request: ${line}`);
  if (args.length < 2) throw new Error(`invalid txn compare request: ${line}`);
  const resolved = resolveCommand(OP_ROOT, args);
  if (resolved.chain.length !== 2) throw invalid;
  let sub: CommandContext;
  try {
    sub = bindCommand(resolved, ctx.io);
  } catch (e) {
    if (e instanceof FlagError) throw invalid;
    throw e;
  }
  switch (resolved.chain[1]?.name) {
    case 'get':
      return { request: { $case: 'requestRange', requestRange: getRequest(sub) } };
    case 'put':
      return { request: { $case: 'requestPut', requestPut: await putRequest(sub, false) } };
    default:
      return { request: { $case: 'requestDeleteRange', requestDeleteRange: delRequest(sub) } };
  }
}

async function readSection<T>(reader: LineReader, parse: (line: string) => Promise<T> | T): Promise<T[]> {
  const out: T[] = [];
  for (;;) {
    let line: string;
    try {
      line = (await reader.readLine()).trim();
    } catch (e) {
      if (e instanceof EndOfInput) fail(Exit.invalidInput, 'EOF');
      throw e;
    }
    if (line.length === 0) return out;
    try {
      out.push(await parse(line));
    } catch (e) {
      if (e instanceof ExitError) throw e;
      fail(Exit.invalidInput, (e as Error).message);
    }
  }
}

export const txnCommand: Command = {
  name: 'txn',
  use: 'txn [options]',
  short: 'Txn processes all the requests in one transaction',
  flags: [
    {
      name: 'interactive',
      short: 'i',
      kind: 'bool',
      def: 'false',
      usage: 'Input transaction in interactive mode',
    },
  ],
  run: async (ctx) => {
    if (ctx.args.length !== 0) fail(Exit.badArgs, 'txn command does not accept argument');
    const interactive = ctx.flags.bool('interactive');
    const prompt = (s: string) => {
      if (interactive) ctx.io.out(`${s}\n`);
    };
    const reader = new LineReader(ctx.io.stdin());
    const client = mustClient(ctx);
    try {
      prompt('compares:');
      const compare = await readSection(reader, parseCompare);
      prompt('success requests (get, put, del):');
      const success = await readSection(reader, (l) => parseRequestOp(l, ctx));
      prompt('failure requests (get, put, del):');
      const failure = await readSection(reader, (l) => parseRequestOp(l, ctx));
      display(ctx).txn(await rpc(client.txn({ compare, success, failure })));
    } finally {
      client.close();
    }
  },
};
