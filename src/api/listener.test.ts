import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpcJs from '@grpc/grpc-js';
import { PutRequest, PutResponse } from '../pb/etcdserverpb/rpc.js';
import { buildServer, type Fixture, MEMBER_ID, startFixture } from './grpc/fixture.js';
import { frameBytes } from './grpc/framing.js';
import { createClientListener, sniffProtocol } from './listener.js';

const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

function grpcPut(client: grpcJs.Client): Promise<PutResponse> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      '/etcdserverpb.KV/Put',
      (m: PutRequest) => Buffer.from(PutRequest.encode(m).finish()),
      (b: Buffer) => PutResponse.decode(b),
      PutRequest.create({ key: Buffer.from('k') }),
      (err, res) => (err ? reject(err) : resolve(res!)),
    ),
  );
}

test('sniffProtocol', () => {
  assert.equal(sniffProtocol(Buffer.from('GET / HTTP/1.1\r\n')), 'http1');
  assert.equal(sniffProtocol(Buffer.from('P')), undefined);
  assert.equal(sniffProtocol(Buffer.from('PRI * HTTP/2')), undefined);
  assert.equal(sniffProtocol(Buffer.from('POST / HTTP/1.1')), 'http1');
  assert.equal(sniffProtocol(Buffer.from(PREFACE)), 'h2');
  assert.equal(sniffProtocol(Buffer.from(`${PREFACE}\x00\x00\x00\x04`)), 'h2');
});

describe('one port for HTTP/2 (gRPC) and HTTP/1.1', () => {
  let fx: Fixture;
  before(async () => {
    fx = await startFixture();
  });
  after(() => fx.listener.close(true));

  test('HTTP/1.1 GET /health and gRPC on the same port, interleaved', async () => {
    const client = new grpcJs.Client(fx.address, grpcJs.credentials.createInsecure());
    try {
      const health = await httpGet(fx.listener.port, '/health');
      assert.deepEqual(health, { status: 200, body: '{"health":"true"}' });
      assert.equal((await grpcPut(client)).header?.memberId, MEMBER_ID);
      const missing = await httpGet(fx.listener.port, '/nope');
      assert.equal(missing.status, 404);
      assert.equal((await grpcPut(client)).header?.memberId, MEMBER_ID);
    } finally {
      client.close();
    }
  });

  test('HTTP/1.1 request arriving one byte at a time', async () => {
    const socket = net.connect(fx.listener.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => {
      reply += c;
    });
    const ended = new Promise((resolve) => socket.once('end', resolve));
    for (const ch of 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n') {
      socket.write(ch);
      await sleep(1);
    }
    await ended;
    assert.match(reply, /^HTTP\/1\.1 200 OK/);
    assert.match(reply, /\{"health":"true"\}$/);
  });

  test('HTTP/2 preface split across packets is still HTTP/2', async () => {
    const socket = net.connect(fx.listener.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const firstFrame = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.write(PREFACE.slice(0, 5));
    await sleep(20);
    socket.write(PREFACE.slice(5));
    socket.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])); // empty SETTINGS
    const frame = await firstFrame;
    assert.equal(frame[3], 4, 'server answered with an HTTP/2 SETTINGS frame');
    socket.destroy();
  });

  test('a raw node:http2 client on the same port', async () => {
    const session = http2.connect(`http://${fx.address}`);
    try {
      const req = session.request({
        ':method': 'POST',
        ':path': '/etcdserverpb.KV/Put',
        'content-type': 'application/grpc',
      });
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => req.once('trailers', resolve));
      req.end(frameBytes(PutRequest.encode(PutRequest.create({ key: Buffer.from('x') })).finish()));
      assert.equal((await trailers)['grpc-status'], '0');
      await new Promise((resolve) => req.once('close', resolve));
      assert.equal(PutResponse.decode(Buffer.concat(chunks).subarray(5)).header?.memberId, MEMBER_ID);
    } finally {
      session.close();
    }
  });
});

describe('TLS: ALPN picks the protocol', () => {
  const dir = mkdtempSync(join(tmpdir(), 'etcd-ts-listener-'));
  let cert: Buffer;
  let key: Buffer;
  before(() => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(join(dir, 'cert.pem'));
    key = readFileSync(join(dir, 'key.pem'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('gRPC over h2 and HTTPS/1.1 on one TLS port', async () => {
    const state = { aborted: [], snapshotWritesBeforeDrain: -1, snapshotSent: 0, lastToken: undefined };
    const listener = await createClientListener({
      host: '127.0.0.1',
      port: 0,
      grpc: buildServer(state),
      http1: (_req, res) => res.end('tls-ok'),
      tls: { cert, key },
    });
    const client = new grpcJs.Client(`127.0.0.1:${listener.port}`, grpcJs.credentials.createSsl(cert), {
      'grpc.ssl_target_name_override': 'localhost',
    });
    try {
      assert.equal((await grpcPut(client)).header?.memberId, MEMBER_ID);
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get(
            { host: '127.0.0.1', port: listener.port, path: '/health', ca: cert, servername: 'localhost' },
            (res) => {
              let text = '';
              res.on('data', (c: Buffer) => {
                text += c.toString();
              });
              res.on('end', () => resolve(text));
            },
          )
          .on('error', reject);
      });
      assert.equal(body, 'tls-ok');
    } finally {
      client.close();
      await listener.close(true);
    }
  });
});
