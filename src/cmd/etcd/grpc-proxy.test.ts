import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkResolverArgs, GrpcProxyUsageError, parseGrpcProxyArgs } from './grpc-proxy.js';

test('grpc-proxy flags: etcd defaults, pflag forms, resolver checks', () => {
  const d = parseGrpcProxyArgs([]);
  assert.equal(d.listenAddr, '127.0.0.1:23790');
  assert.deepEqual(d.endpoints, ['127.0.0.1:2379']);
  assert.equal(d.advertiseClientUrl, '127.0.0.1:23790');
  assert.equal(d.maxSendBytes, 1572864);
  const f = parseGrpcProxyArgs([
    '--endpoints=http://a:1,http://b:2',
    '--namespace',
    '/ns/',
    '--insecure-skip-tls-verify',
    '--enable-pprof=false',
    '--auto-tls',
    '--max-recv-bytes=1024',
  ]);
  assert.deepEqual(f.endpoints, ['http://a:1', 'http://b:2']);
  assert.equal(f.namespace, '/ns/');
  assert.equal(f.insecureSkipTlsVerify, true);
  assert.equal(f.enablePprof, false);
  assert.equal(f.maxRecvBytes, 1024);
  assert.throws(() => parseGrpcProxyArgs(['--nope']), GrpcProxyUsageError);
  assert.throws(() => parseGrpcProxyArgs(['--resolver-ttl=x']), /invalid argument "x"/);
  assert.equal(checkResolverArgs(parseGrpcProxyArgs(['--resolver-prefix=p'])), 'invalid resolver-ttl 0');
  assert.equal(checkResolverArgs(parseGrpcProxyArgs(['--resolver-ttl=5'])), 'invalid resolver-prefix ""');
  assert.equal(checkResolverArgs(parseGrpcProxyArgs(['--resolver-prefix=p', '--resolver-ttl=5'])), undefined);
});
