import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bindCommand, resolveCommand } from '../../src/cmd/etcdctl/command.js';
import { Flag, FlagError, FlagSet } from '../../src/cmd/etcdctl/flags.js';
import { GLOBAL_FLAGS } from '../../src/cmd/etcdctl/global.js';
import { rootCommand } from '../../src/cmd/etcdctl/root.js';
import { runCli } from '../../src/cmd/etcdctl/run.js';
import { captureIo } from './capture-io.js';

function bind(args: string[]) {
  return bindCommand(resolveCommand(rootCommand, args), captureIo());
}

describe('flag parsing (pflag rules)', () => {
  test('long flags with = or a separate value, bool flags, shorthand forms', () => {
    const ctx = bind(['get', '--prefix', '/k', '--limit', '3', '--rev=7', '-wjson', '--hex=true']);
    assert.deepEqual(ctx.path, ['etcdctl', 'get']);
    assert.deepEqual(ctx.args, ['/k']);
    assert.equal(ctx.flags.bool('prefix'), true);
    assert.equal(ctx.flags.int('limit'), 3n);
    assert.equal(ctx.flags.int('rev'), 7n);
    assert.equal(ctx.flags.string('write-out'), 'json');
    assert.equal(ctx.flags.bool('hex'), true);
    assert.equal(bind(['get', 'k', '-w', 'table']).flags.string('write-out'), 'table');
    assert.equal(bind(['get', 'k', '-w=fields']).flags.string('write-out'), 'fields');
  });

  test('flags after positionals, global flags before the command, and -- ending flags', () => {
    const ctx = bind(['--endpoints=a:1,b:2', 'put', 'k', '--prev-kv', '--', '-v-']);
    assert.deepEqual(ctx.path, ['etcdctl', 'put']);
    assert.deepEqual(ctx.args, ['k', '-v-']);
    assert.deepEqual(ctx.flags.strings('endpoints'), ['a:1', 'b:2']);
    assert.equal(ctx.flags.bool('prev-kv'), true);
    assert.equal(ctx.flags.argsLenAtDash, 1);
  });

  test('a bool flag does not swallow the next word; --prefix=false works', () => {
    const ctx = bind(['del', '--prefix', 'true', '/a']);
    assert.deepEqual(ctx.args, ['true', '/a']);
    assert.equal(bind(['del', '--prefix=false', '/a']).flags.bool('prefix'), false);
  });

  test('global flag values are skipped while finding the command; prefixes select commands', () => {
    assert.deepEqual(bind(['--command-timeout', '3s', 'member', 'list']).path, ['etcdctl', 'member', 'list']);
    assert.deepEqual(bind(['compact', '5']).path, ['etcdctl', 'compaction']);
    assert.equal(bind(['--dial-timeout=1m30s', 'get', 'x']).flags.duration('dial-timeout'), 90e9);
  });

  test('errors use pflag wording', () => {
    assert.throws(() => bind(['get', 'k', '--bogus']), new FlagError('unknown flag: --bogus'));
    assert.throws(() => bind(['get', 'k', '--limit']), new FlagError('flag needs an argument: --limit'));
    assert.throws(
      () => bind(['get', 'k', '--limit=x']),
      new FlagError('invalid argument "x" for "--limit" flag: strconv.ParseInt: parsing "x": invalid syntax'),
    );
    assert.throws(
      () => bind(['--dial-timeout=zz', 'get', 'k']),
      new FlagError('invalid argument "zz" for "--dial-timeout" flag: time: invalid duration "zz"'),
    );
    assert.throws(() => bind(['get', 'k', '-x']), new FlagError("unknown shorthand flag: 'x' in -x"));
  });

  test('flag values print as pflag prints them', () => {
    const set = new FlagSet(GLOBAL_FLAGS.map((s) => new Flag(s)));
    assert.equal(set.get('endpoints').toString(), '[127.0.0.1:2379]');
    assert.equal(set.get('command-timeout').toString(), '5s');
    assert.equal(set.get('insecure-transport').toString(), 'true');
  });
});

describe('environment and --debug', () => {
  const run = async (args: string[], env: Record<string, string>) => {
    const io = captureIo(env);
    // Port 1 refuses connections at once, so runs end quickly with a timeout error.
    const code = await runCli(rootCommand, ['--command-timeout=300ms', ...args], io);
    return { code, out: io.stdout(), err: io.stderr() };
  };

  test('--debug lists the 18 settings in etcdctl order', async () => {
    const r = await run(['get', 'k', '--debug'], {
      ETCDCTL_ENDPOINTS: '127.0.0.1:1',
      ETCDCTL_DIAL_TIMEOUT: '3s',
    });
    const lines = r.err.split('\n').filter((l) => l.startsWith('ETCDCTL_'));
    assert.equal(lines.length, 18);
    assert.equal(lines[0], 'ETCDCTL_CACERT=');
    assert.equal(lines[2], 'ETCDCTL_COMMAND_TIMEOUT=300ms');
    assert.equal(lines[4], 'ETCDCTL_DIAL_TIMEOUT=3s');
    assert.equal(lines[7], 'ETCDCTL_ENDPOINTS=[127.0.0.1:1]');
    assert.equal(lines[17], 'ETCDCTL_WRITE_OUT=simple');
    assert.match(r.err, /Error: context deadline exceeded\n$/);
    assert.equal(r.code, 1);
  });

  test('a variable shadowed by its flag is fatal; unknown ETCDCTL_ variables only warn', async () => {
    const shadowed = await run(['--endpoints=127.0.0.1:1', 'get', 'k'], { ETCDCTL_ENDPOINTS: '127.0.0.1:1' });
    assert.equal(shadowed.code, 1);
    assert.match(
      shadowed.err,
      / C \| pkg\/flags: conflicting environment variable "ETCDCTL_ENDPOINTS" is shadowed by corresponding command-line flag \(either unset environment variable or disable flag\)\n$/,
    );
    const unknown = await run(['get', 'k'], { ETCDCTL_NO_SUCH: '1', ETCDCTL_ENDPOINTS: '127.0.0.1:1' });
    assert.match(unknown.err, / W \| pkg\/flags: unrecognized environment variable ETCDCTL_NO_SUCH=1\n/);
    assert.match(unknown.err, /Error: context deadline exceeded/);
  });

  test('argument errors exit 128 before any connection', async () => {
    const r = await run(['get'], {});
    assert.equal(r.code, 128);
    assert.equal(
      r.err,
      'Error: get command needs one argument as key and an optional argument as range_end\n',
    );
    const w = await run(['get', 'k', '-w', 'xml'], { ETCDCTL_ENDPOINTS: '127.0.0.1:1' });
    assert.equal(w.code, 4);
    assert.equal(w.err, 'Error: unsupported output format\n');
  });

  test('version', async () => {
    const r = await run(['version'], {});
    assert.equal(r.out, 'etcdctl version: 3.4.23\nAPI version: 3.4\n');
  });
});
