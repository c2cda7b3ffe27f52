import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createLogger } from './logger.js';
import { memorySink } from './sinks.js';

// 2026-11-23T06:50:00.123456Z
const FIXED_MS = Date.UTC(2026, 10, 23, 6, 50, 0, 123) + 0.456;
const clock = () => FIXED_MS;

describe('zap JSON format', () => {
  test('one object per line, keys in zap order, fields after msg', () => {
    const sink = memorySink();
    const log = createLogger({ format: 'json', level: 'info', sinks: [sink], clock });
    log.info('starting an etcd server', {
      name: 'n1',
      'snapshot-count': 5,
      urls: ['http://a:1'],
      id: 18446744073709551615n,
    });
    assert.equal(sink.lines.length, 1);
    const line = sink.lines[0] as string;
    assert.match(
      line,
      /^\{"level":"info","ts":"2026-11-23T06:50:00\.123Z","caller":"log\/logger\.test\.js:\d+","msg":"starting an etcd server","name":"n1","snapshot-count":5,"urls":\["http:\/\/a:1"\],"id":18446744073709551615\}\n$/,
    );
    const parsed = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), [
      'level',
      'ts',
      'caller',
      'msg',
      'name',
      'snapshot-count',
      'urls',
      'id',
    ]);
  });
  test('levels below the threshold are dropped; enabled() agrees', () => {
    const sink = memorySink();
    const log = createLogger({ format: 'json', level: 'warn', sinks: [sink], clock });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    log.fatal('f');
    assert.deepEqual(
      sink.lines.map((l) => (JSON.parse(l) as { level: string }).level),
      ['warn', 'error', 'fatal'],
    );
    assert.equal(log.enabled('info'), false);
    assert.equal(log.enabled('error'), true);
  });
  test('with() binds fields before the call fields; errors become messages', () => {
    const sink = memorySink();
    const log = createLogger({ format: 'json', level: 'debug', sinks: [sink], clock, caller: false });
    log
      .with({ 'local-member-id': 'abc' })
      .debug('x', { error: new Error('boom'), n: Number.NaN, u: undefined });
    assert.equal(
      sink.lines[0],
      '{"level":"debug","ts":"2026-11-23T06:50:00.123Z","caller":"etcd","msg":"x","local-member-id":"abc","error":"boom","n":"NaN","u":null}\n',
    );
  });
  test('a disabled call is cheap (no encoding, no clock read)', () => {
    let clockReads = 0;
    const log = createLogger({
      format: 'json',
      level: 'info',
      sinks: [memorySink()],
      clock: () => {
        clockReads++;
        return FIXED_MS;
      },
    });
    const start = process.hrtime.bigint();
    for (let i = 0; i < 1_000_000; i++) log.debug('never written', { i });
    const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
    assert.equal(clockReads, 0);
    assert.ok(elapsedMs < 1000, `1M disabled calls took ${elapsedMs} ms`);
  });
});

describe('capnslog text format', () => {
  test('date, microseconds, level letter, package, message, fields', () => {
    const sink = memorySink();
    const log = createLogger({ format: 'capnslog', level: 'info', sinks: [sink], clock });
    log.warn('unrecognized environment variable ETCD_X=1', { key: 'a b' });
    assert.match(
      sink.lines[0] as string,
      /^2026-11-23 06:50:00\.123456 W \| log: unrecognized environment variable ETCD_X=1 key="a b"\n$/,
    );
  });
});

describe('outputs', () => {
  test('file paths are appended to', () => {
    const dir = mkdtempSync(join(tmpdir(), 'etcd-ts-log-'));
    try {
      const path = join(dir, 'etcd.log');
      const a = createLogger({ format: 'json', level: 'info', outputs: [path], clock });
      a.info('one');
      a.close();
      const b = createLogger({ format: 'json', level: 'info', outputs: [path, path], clock });
      b.info('two');
      b.close();
      const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
      assert.deepEqual(
        lines.map((l) => (JSON.parse(l) as { msg: string }).msg),
        ['one', 'two'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test('unknown level is refused', () => {
    assert.throws(
      () => createLogger({ format: 'json', level: 'loud' as 'info', sinks: [] }),
      /unknown level/,
    );
  });
});
