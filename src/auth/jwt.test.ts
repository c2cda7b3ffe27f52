import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, test } from 'node:test';
import { AuthError } from './errors.js';
import { JwtTokens, jwtPayload } from './jwt.js';
import { parseAuthTokenOption, parseJwtOptions } from './token-options.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (k: { export(o: object): string | Buffer }, type: 'pkcs8' | 'spki') =>
  Buffer.from(k.export({ format: 'pem', type }));

const T0 = Date.UTC(2030, 0, 1);

describe('JWT tokens', () => {
  test("claims in golang-jwt's byte order, with Go's HTML escaping", () => {
    assert.equal(jwtPayload('root', 5, 100), '{"exp":100,"revision":5,"username":"root"}');
    assert.equal(jwtPayload('a<b>&', 1, 1), '{"exp":1,"revision":1,"username":"a\\u003cb\\u003e\\u0026"}');
  });

  test('RS256: signed, verifiable by anyone with the public key, expiring after the TTL', async () => {
    const t = JwtTokens.create(
      { signMethod: 'RS256', ttlMs: 60_000 },
      { privateKeyPem: pem(rsa.privateKey, 'pkcs8'), publicKeyPem: pem(rsa.publicKey, 'spki') },
    );
    const token = await t.sign('alice', 7, T0);
    const [h, p, sig] = token.split('.') as [string, string, string];
    assert.equal(Buffer.from(h, 'base64url').toString(), '{"alg":"RS256","typ":"JWT"}');
    assert.equal(Buffer.from(p, 'base64url').toString(), jwtPayload('alice', 7, T0 / 1000 + 60));
    // Checked independently of jose: node:crypto over the JWS signing input.
    assert.equal(
      verify('sha256', Buffer.from(`${h}.${p}`), rsa.publicKey, Buffer.from(sig, 'base64url')),
      true,
    );
    assert.deepEqual(await t.verify(token, T0 + 59_000), { username: 'alice', revision: 7 });
    assert.deepEqual(
      await t.verify(token, T0 + 60_999),
      { username: 'alice', revision: 7 },
      'valid through its exp second',
    );
    assert.equal(await t.verify(token, T0 + 61_000), undefined, 'expired');
    assert.equal(await t.verify(`${h}.${p}x.${sig}`, T0), undefined, 'tampered');
  });

  test('a verify-only member checks tokens but cannot issue them', async () => {
    const signer = JwtTokens.create(
      { signMethod: 'ES256', ttlMs: 60_000 },
      { privateKeyPem: pem(ec.privateKey, 'pkcs8') },
    );
    const verifier = JwtTokens.create(
      { signMethod: 'ES256', ttlMs: 60_000 },
      { publicKeyPem: pem(ec.publicKey, 'spki') },
    );
    assert.equal(verifier.verifyOnly, true);
    const token = await signer.sign('bob', 3, T0);
    assert.deepEqual(await verifier.verify(token, T0), { username: 'bob', revision: 3 });
    await assert.rejects(
      verifier.sign('bob', 3, T0),
      (e: unknown) => e instanceof AuthError && e.kind === 'verifyOnly',
    );
  });

  test('another algorithm or another key is refused', async () => {
    const rs = JwtTokens.create(
      { signMethod: 'RS256', ttlMs: 60_000 },
      { privateKeyPem: pem(rsa.privateKey, 'pkcs8') },
    );
    const rs512 = JwtTokens.create(
      { signMethod: 'RS512', ttlMs: 60_000 },
      { privateKeyPem: pem(rsa.privateKey, 'pkcs8') },
    );
    const hs = JwtTokens.create(
      { signMethod: 'HS256', ttlMs: 60_000 },
      { privateKeyPem: Buffer.from('secret') },
    );
    assert.equal(await rs.verify(await rs512.sign('a', 1, T0), T0), undefined);
    assert.equal(await rs.verify(await hs.sign('a', 1, T0), T0), undefined);
    assert.deepEqual(await hs.verify(await hs.sign('a', 1, T0), T0), { username: 'a', revision: 1 });
  });

  test('keys missing or of the wrong kind fail at start-up, as etcd does', () => {
    assert.throws(
      () => JwtTokens.create({ signMethod: 'RS256', ttlMs: 1 }, {}),
      (e: unknown) => e instanceof AuthError && e.kind === 'missingKey',
    );
    assert.throws(
      () =>
        JwtTokens.create({ signMethod: 'ES256', ttlMs: 1 }, { privateKeyPem: pem(rsa.privateKey, 'pkcs8') }),
      /key is not a valid ECDSA private key/,
    );
  });
});

describe('--auth-token', () => {
  test('simple, jwt with options, none', () => {
    assert.equal(parseAuthTokenOption('simple').type, 'simple');
    assert.equal(parseAuthTokenOption('').type, 'none');
    const j = parseAuthTokenOption('jwt,pub-key=a.pub,priv-key=a.pem,sign-method=ES384,ttl=30s,extra=1');
    assert.equal(j.type, 'jwt');
    const o = parseJwtOptions(j.options);
    assert.deepEqual(o, {
      signMethod: 'ES384',
      publicKeyFile: 'a.pub',
      privateKeyFile: 'a.pem',
      ttlMs: 30_000,
      unknown: ['extra'],
    });
    assert.equal(parseJwtOptions(new Map([['sign-method', 'RS256']])).ttlMs, 300_000);
  });

  test("malformed options are etcd's invalid auth options", () => {
    const invalid = (e: unknown) => e instanceof AuthError && e.kind === 'invalidAuthOpts';
    assert.throws(() => parseAuthTokenOption('bogus'), invalid);
    assert.throws(() => parseAuthTokenOption('jwt,sign-method'), invalid);
    assert.throws(() => parseAuthTokenOption('jwt,ttl=1s,ttl=2s'), invalid);
    assert.throws(() => parseJwtOptions(new Map([['sign-method', 'XX']])), invalid);
    assert.throws(
      () =>
        parseJwtOptions(
          new Map([
            ['sign-method', 'RS256'],
            ['ttl', 'zz'],
          ]),
        ),
      invalid,
    );
  });
});
