import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../config/types.js';
import { describeConfigError } from './report.js';

const NOW = new Date(Date.UTC(2026, 10, 23, 6, 21, 29, 420));

test('a flag syntax error prints the Go message then the usage, exit 2', () => {
  const r = describeConfigError(
    new ConfigError('flag provided but not defined: -no-such-flag', 'usage'),
    NOW,
  );
  assert.equal(r.exitCode, 2);
  assert.match(r.stderr, /^flag provided but not defined: -no-such-flag\nUsage:\n/);
});

test('a verification error is a capnslog error line, exit 1', () => {
  const r = describeConfigError(new ConfigError("'extra' is not a valid flag", 'verify'), NOW);
  assert.equal(r.exitCode, 1);
  assert.equal(
    r.stderr,
    "2026-11-23 06:21:29.420000 E | etcdmain: error verifying flags, 'extra' is not a valid flag. See 'etcd --help'.\n",
  );
});

test('missing advertise URLs get etcd extra explanation', () => {
  const r = describeConfigError(
    new ConfigError(
      '--advertise-client-urls is required when --listen-client-urls is set explicitly',
      'verify',
    ),
    NOW,
  );
  assert.equal(r.stderr.split('\n').length, 3);
  assert.match(r.stderr, /must advertise accessible url\(s\) to each connected client\.\n$/);
});

test('fatal and plain errors', () => {
  assert.match(
    describeConfigError(new ConfigError('conflicting x', 'fatal'), NOW).stderr,
    / C \| pkg\/flags: conflicting x\n$/,
  );
  assert.equal(
    describeConfigError(new ConfigError('unexpected error setting up x', 'plain'), NOW).stderr,
    'unexpected error setting up x\n',
  );
});
