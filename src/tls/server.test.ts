import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import type { TlsConfig } from '../config/types.js';
import type { LogFields, Logger } from '../log/types.js';
import { NOT_ALLOWED } from './allowed.js';
import { createClientTls } from './client.js';
import { TlsSetupError } from './errors.js';
import { generateSelfSigned } from './self-signed.js';
import { createServerTls, type ServerTls } from './server.js';

interface Line {
  level: string;
  msg: string;
  fields: LogFields;
}

function captureLogger(lines: Line[]): Logger {
  const at =
    (level: string) =>
    (msg: string, fields: LogFields = {}): void => {
      lines.push({ level, msg, fields });
    };
  const log: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    enabled: () => true,
    with: () => log,
    flush: () => {},
  };
  return log;
}

function tlsConfig(over: Partial<TlsConfig>): TlsConfig {
  return {
    certFile: '',
    keyFile: '',
    trustedCaFile: '',
    clientCertAuth: false,
    crlFile: '',
    autoTls: false,
    allowedHostname: '',
    allowedCn: '',
    skipClientSanVerify: false,
    ...over,
  };
}

interface Pair {
  cert: string;
  key: string;
  serial: string;
}

async function pair(
  hosts: string[],
  opts: { clientAuth?: boolean; commonName?: string } = {},
): Promise<Pair> {
  const { certPem, keyPem } = await generateSelfSigned(hosts, opts);
  return { cert: certPem, key: keyPem, serial: new X509Certificate(certPem).serialNumber };
}

/** A TLS server answering each admitted connection with its own certificate's serial. */
async function serve(secure: ServerTls): Promise<{ port: number; close(): Promise<void> }> {
  const server = tls.createServer(secure.options(), (socket) => {
    if (!secure.admit(socket)) return;
    socket.end('hello');
  });
  secure.attach(server);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

interface Outcome {
  ok: boolean;
  /** Serial of the certificate the server presented. */
  serial: string | undefined;
  data: string;
}

function dial(port: number, options: tls.ConnectionOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    let serial: string | undefined;
    let data = '';
    const socket = tls.connect({ host: '127.0.0.1', port, ...options }, () => {
      serial = socket.getPeerX509Certificate()?.serialNumber;
    });
    socket.on('data', (b: Buffer) => {
      data += b.toString();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ ok: data === 'hello', serial, data }));
  });
}

describe('server TLS from the flags', () => {
  let dir: string;
  let server: Pair;
  let client: Pair;
  let stranger: Pair;
  const files = (name: string): { certFile: string; keyFile: string } => ({
    certFile: join(dir, `${name}.pem`),
    keyFile: join(dir, `${name}-key.pem`),
  });
  const write = (name: string, p: Pair): void => {
    writeFileSync(files(name).certFile, p.cert);
    writeFileSync(files(name).keyFile, p.key);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'etcd-ts-tls-unit-'));
    server = await pair(['127.0.0.1:2379', 'localhost:2379']);
    client = await pair(['client1.example.com'], { clientAuth: true, commonName: 'client1' });
    stranger = await pair(['stranger.example.com'], { clientAuth: true });
    write('server', server);
    write('client', client);
    write('stranger', stranger);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  test('client cert auth: the trusted client passes; none or an untrusted one is refused and logged', async () => {
    const lines: Line[] = [];
    const secure = await createServerTls({
      side: 'client',
      tls: tlsConfig({ ...files('server'), trustedCaFile: files('client').certFile, clientCertAuth: true }),
      cipherSuites: [],
      log: captureLogger(lines),
    });
    const s = await serve(secure);
    try {
      const ca = server.cert;
      const good = await dial(s.port, { ca, cert: client.cert, key: client.key });
      assert.equal(good.ok, true);
      assert.equal(good.serial, server.serial);
      assert.equal((await dial(s.port, { ca })).ok, false);
      assert.equal((await dial(s.port, { ca, cert: stranger.cert, key: stranger.key })).ok, false);
      const rejected = lines.filter((l) => l.msg === 'rejected connection').map((l) => l.fields.error);
      assert.deepEqual(rejected, [
        "tls: client didn't provide a certificate",
        'tls: failed to verify client certificate: x509: certificate signed by unknown authority',
      ]);
      assert.equal(
        (await dial(s.port, { ca, cert: client.cert, key: client.key })).ok,
        true,
        'still serving',
      );
    } finally {
      await s.close();
      secure.close();
    }
  });

  test('a trusted CA alone already requires client certificates (as etcd)', async () => {
    const secure = await createServerTls({
      side: 'client',
      tls: tlsConfig({ ...files('server'), trustedCaFile: files('client').certFile }),
      cipherSuites: [],
      log: captureLogger([]),
    });
    assert.equal(secure.info.clientCertAuth, true);
    const s = await serve(secure);
    try {
      assert.equal((await dial(s.port, { ca: server.cert })).ok, false);
    } finally {
      await s.close();
    }
  });

  test('allowed hostname: checked on the client certificate', async () => {
    for (const [allowedHostname, expected] of [
      ['client1.example.com', true],
      ['other.example.com', false],
    ] as const) {
      const lines: Line[] = [];
      const secure = await createServerTls({
        side: 'client',
        tls: tlsConfig({
          ...files('server'),
          trustedCaFile: files('client').certFile,
          clientCertAuth: true,
          allowedHostname,
        }),
        cipherSuites: [],
        log: captureLogger(lines),
      });
      const s = await serve(secure);
      try {
        const r = await dial(s.port, { ca: server.cert, cert: client.cert, key: client.key });
        assert.equal(r.ok, expected, allowedHostname);
        if (!expected) {
          const line = lines.find((l) => l.msg === 'rejected connection');
          assert.equal(line?.fields.error, NOT_ALLOWED);
          assert.deepEqual(line?.fields['dns-names'], ['client1.example.com']);
        }
      } finally {
        await s.close();
      }
    }
  });

  test('files replaced on disk serve the next connection; a half-written pair keeps the old one', async () => {
    write('live', server);
    const lines: Line[] = [];
    const secure = await createServerTls({
      side: 'client',
      tls: tlsConfig(files('live')),
      cipherSuites: [],
      log: captureLogger(lines),
    });
    const s = await serve(secure);
    try {
      const opts = { rejectUnauthorized: false };
      assert.equal((await dial(s.port, opts)).serial, server.serial);
      const next = await pair(['127.0.0.1:2379']);
      writeFileSync(files('live').certFile, next.cert); // key not written yet: mismatch
      const during = await dial(s.port, opts);
      assert.equal(during.ok, true, 'the port keeps serving');
      assert.equal(during.serial, server.serial);
      const warn = lines.find((l) => l.level === 'warn' && l.msg.startsWith('failed to reload'));
      assert.equal(warn?.fields.error, 'tls: private key does not match public key');
      writeFileSync(files('live').keyFile, next.key);
      assert.equal((await dial(s.port, opts)).serial, next.serial);
      writeFileSync(files('live').certFile, '-----BEGIN CERTIFICATE-----\nMIIB'); // truncated
      assert.equal((await dial(s.port, opts)).serial, next.serial);
    } finally {
      await s.close();
    }
  });

  test('auto-tls writes a reusable pair and drops client cert auth, as etcd', async () => {
    const autoDir = join(dir, 'fixtures', 'client');
    const settings = {
      side: 'client' as const,
      tls: tlsConfig({ autoTls: true, clientCertAuth: true, trustedCaFile: files('client').certFile }),
      cipherSuites: [],
      log: captureLogger([]),
      autoTls: { dir: autoDir, hosts: ['127.0.0.1:2379', 'node1:2379'] },
    };
    const first = await createServerTls(settings);
    assert.equal(first.info.selfSigned, true);
    assert.equal(first.info.clientCertAuth, false);
    assert.equal(first.info.certFile, join(autoDir, 'cert.pem'));
    const second = await createServerTls(settings);
    const s1 = await serve(first);
    const s2 = await serve(second);
    try {
      const a = await dial(s1.port, { rejectUnauthorized: false });
      const b = await dial(s2.port, { rejectUnauthorized: false });
      assert.equal(a.ok, true);
      assert.equal(a.serial, b.serial, 'the second start reuses the files');
      assert.equal((await dial(s1.port, {})).ok, false, 'a verifying client refuses it');
    } finally {
      await s1.close();
      await s2.close();
    }
  });

  test('bad settings fail with etcd text', async () => {
    const base = { side: 'peer' as const, cipherSuites: [], log: captureLogger([]) };
    await assert.rejects(
      createServerTls({ ...base, tls: tlsConfig({ certFile: files('server').certFile }) }),
      (e: unknown) =>
        e instanceof TlsSetupError &&
        e.message === `KeyFile and CertFile must both be present[key: , cert: ${files('server').certFile}]`,
    );
    await assert.rejects(
      createServerTls({
        ...base,
        tls: tlsConfig({ certFile: join(dir, 'nope.pem'), keyFile: files('server').keyFile }),
      }),
      { message: `open ${join(dir, 'nope.pem')}: no such file or directory` },
    );
    await assert.rejects(
      createServerTls({
        ...base,
        tls: tlsConfig({ certFile: files('server').certFile, keyFile: files('client').keyFile }),
      }),
      { message: 'tls: private key does not match public key' },
    );
    await assert.rejects(
      createServerTls({ ...base, tls: tlsConfig(files('server')), cipherSuites: ['NOPE'] }),
      { message: 'unexpected TLS cipher suite "NOPE"' },
    );
  });

  test('peer port: admitted() adds the client SAN check unless skipped', async () => {
    const wrongIp = await pair(['127.0.0.2'], { clientAuth: true, commonName: 'wrong' });
    const rightIp = await pair(['127.0.0.1'], { clientAuth: true, commonName: 'right' });
    write('wrong-ip', wrongIp);
    write('right-ip', rightIp);
    writeFileSync(join(dir, 'peer-ca.pem'), wrongIp.cert + rightIp.cert);
    for (const skipClientSanVerify of [false, true]) {
      const lines: Line[] = [];
      const secure = await createServerTls({
        side: 'peer',
        tls: tlsConfig({
          ...files('server'),
          trustedCaFile: join(dir, 'peer-ca.pem'),
          clientCertAuth: true,
          skipClientSanVerify,
        }),
        cipherSuites: [],
        log: captureLogger(lines),
      });
      const peerPort = https.createServer(secure.options(), async (req, res) => {
        if (!(await secure.admitted(req.socket as tls.TLSSocket))) return;
        res.end('hello');
      });
      secure.attach(peerPort);
      await new Promise<void>((resolve) => peerPort.listen(0, '127.0.0.1', resolve));
      const port = (peerPort.address() as net.AddressInfo).port;
      const get = (p: Pair) =>
        new Promise<string>((resolve) => {
          const req = https.get(
            { host: '127.0.0.1', port, ca: server.cert, cert: p.cert, key: p.key, agent: false },
            (res) => {
              let body = '';
              res.on('data', (b: Buffer) => {
                body += b.toString();
              });
              res.on('end', () => resolve(body));
            },
          );
          req.on('error', () => resolve('refused'));
        });
      try {
        assert.equal(await get(rightIp), 'hello');
        assert.equal(await get(wrongIp), skipClientSanVerify ? 'hello' : 'refused');
        if (!skipClientSanVerify)
          assert.equal(
            lines.find((l) => l.msg === 'rejected connection')?.fields.error,
            'x509: certificate is valid for 127.0.0.2, not 127.0.0.1',
          );
      } finally {
        peerPort.closeAllConnections();
        await new Promise((resolve) => peerPort.close(resolve));
      }
    }
  });

  test('peer client options: present the pair, verify the server against the CA and the allowed CN', async () => {
    const secure = await createServerTls({
      side: 'peer',
      tls: tlsConfig({ ...files('server'), trustedCaFile: files('client').certFile, clientCertAuth: true }),
      cipherSuites: [],
      log: captureLogger([]),
    });
    const s = await serve(secure);
    try {
      const info = {
        certFile: files('client').certFile,
        keyFile: files('client').keyFile,
        trustedCaFile: files('server').certFile,
        clientCertAuth: true,
        crlFile: '',
        selfSigned: false,
        rules: { allowedCn: '', allowedHostname: '' },
        skipClientSanVerify: false,
        ciphers: undefined,
      };
      const dialWith = async (over: Partial<typeof info>) =>
        (await dial(s.port, createClientTls({ ...info, ...over }, captureLogger([])).options('127.0.0.1')))
          .ok;
      assert.equal(await dialWith({}), true);
      assert.equal(await dialWith({ rules: { allowedCn: '', allowedHostname: '127.0.0.1' } }), true);
      assert.equal(await dialWith({ rules: { allowedCn: 'someone', allowedHostname: '' } }), false);
      assert.equal(await dialWith({ trustedCaFile: files('stranger').certFile }), false);
      assert.equal(
        await dialWith({ trustedCaFile: files('stranger').certFile, selfSigned: true }),
        true,
        'auto-tls peers skip verification',
      );
    } finally {
      await s.close();
    }
  });
});
