// JWT tokens with each of the six sign methods etcd 3.4 takes for
// --auth-token=jwt (RS256/384/512, ES256/384/512): etcd-ts and the real etcd
// 3.4 run as twins with the same key pair; a token etcd-ts signs is verified
// with the public key alone by an independent implementation (PyJWT, when
// python3-jwt is installed; openssl otherwise for the RSA ones), and the real
// etcd accepts it as the user's, as etcd-ts accepts the real etcd's.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AuthScript, type Step } from './auth-script.js';
import { REAL_ETCD, runCommand, startTwins, type Twins } from './twins.js';

const skip = existsSync(REAL_ETCD) ? false : 'real etcd 3.4 (/usr/bin/etcd) is not installed';
const PYTHON = '/usr/bin/python3';

type Method = 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512';
const CURVE: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };
const SHA = (m: Method): string => `sha${m.slice(2)}`;

/** PyJWT checks the signature with the public key and prints the header and the claims. */
const PYJWT_CHECK = `
import json, sys, jwt
token, pub, alg = sys.argv[1:4]
claims = jwt.decode(token, open(pub).read(), algorithms=[alg])
print(json.dumps({"header": jwt.get_unverified_header(token), "claims": claims}))
`;

function keyPair(m: Method): { privatePem: string; publicPem: string } {
  const pair: { privateKey: KeyObject; publicKey: KeyObject } = m.startsWith('RS')
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: CURVE[m] as string });
  return {
    // etcd reads PKCS#8 RSA keys and SEC1 EC keys (the forms openssl genrsa / ecparam write).
    privatePem: pair.privateKey
      .export({ format: 'pem', type: m.startsWith('RS') ? 'pkcs8' : 'sec1' })
      .toString(),
    publicPem: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

const SETUP: Step[] = [
  { call: 'Auth.userAdd', req: { name: 'root', password: 'rootpw' } },
  { call: 'Auth.userGrantRole', req: { user: 'root', role: 'root' } },
  { call: 'Auth.authEnable' },
  { login: 'root', password: 'rootpw' },
];

let pyjwt: boolean | undefined;
async function havePyJwt(): Promise<boolean> {
  pyjwt ??= (await runCommand(PYTHON, ['-c', 'import jwt, cryptography'])).code === 0;
  return pyjwt;
}

describe('JWT with every sign method: etcd-ts signs, others verify', { skip, timeout: 180_000 }, () => {
  for (const method of ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'] as const) {
    describe(method, () => {
      let twins: Twins | undefined;
      let dir = '';
      before(async () => {
        dir = mkdtempSync(join(tmpdir(), `etcd-ts-jwt-${method}-`));
        const { privatePem, publicPem } = keyPair(method);
        writeFileSync(join(dir, 'key.pem'), privatePem);
        writeFileSync(join(dir, 'key.pub'), publicPem);
        twins = await startTwins([
          '--bcrypt-cost=4',
          `--auth-token=jwt,pub-key=${dir}/key.pub,priv-key=${dir}/key.pem,sign-method=${method},ttl=10m`,
        ]);
      });
      after(async () => {
        await twins?.stop();
        rmSync(dir, { recursive: true, force: true });
      });

      test(`${method}: verified independently; each server accepts the other's tokens`, async () => {
        const t = twins as Twins;
        const ours = new AuthScript(t.oursEndpoint);
        const real = new AuthScript(t.realEndpoint);
        try {
          const [o, r] = await Promise.all([ours.run(SETUP), real.run(SETUP)]);
          assert.deepEqual(o, r);
          assert.equal(o.at(-1), 'login root OK');
          const token = ours.token('root');
          const [h, p, sig] = token.split('.') as [string, string, string];
          assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), { alg: method, typ: 'JWT' });
          const issuedBy = Date.now() / 1000;

          if (await havePyJwt()) {
            const v = await runCommand(PYTHON, ['-c', PYJWT_CHECK, token, join(dir, 'key.pub'), method]);
            assert.equal(v.code, 0, v.stderr);
            const out = JSON.parse(v.stdout) as { header: { alg: string }; claims: Record<string, unknown> };
            assert.equal(out.header.alg, method);
            assert.equal(out.claims.username, 'root');
            assert.equal(typeof out.claims.revision, 'number');
            const exp = out.claims.exp as number;
            assert.ok(exp > issuedBy + 590 && exp < issuedBy + 610, `exp ${exp} is about 10 minutes ahead`);
          } else if (method.startsWith('RS')) {
            writeFileSync(join(dir, 'input'), `${h}.${p}`);
            writeFileSync(join(dir, 'sig'), Buffer.from(sig, 'base64url'));
            const v = await runCommand('openssl', [
              'dgst',
              `-${SHA(method)}`,
              '-verify',
              join(dir, 'key.pub'),
              '-signature',
              join(dir, 'sig'),
              join(dir, 'input'),
            ]);
            assert.equal(v.stdout.trim(), 'Verified OK', v.stderr);
          }

          // The servers hold the same key pair and the same auth revision: each takes the other's token.
          real.useToken('root', token);
          ours.useToken('root', real.token('root'));
          const check: Step[] = [{ call: 'Auth.userList', as: 'root' }];
          const [o2, r2] = await Promise.all([ours.run(check), real.run(check)]);
          assert.match(r2.at(-1) ?? '', /^Auth\.userList root OK .*"users":\["root"\]/);
          assert.match(o2.at(-1) ?? '', /^Auth\.userList root OK .*"users":\["root"\]/);
          // A token with its signature altered is refused by both.
          const forged = `${h}.${p}.${sig.slice(0, -4)}${sig.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
          ours.useToken('root', forged);
          real.useToken('root', forged);
          const [o3, r3] = await Promise.all([ours.run(check), real.run(check)]);
          assert.equal(o3.at(-1), 'Auth.userList root ERR 16 etcdserver: invalid auth token');
          assert.equal(r3.at(-1), o3.at(-1));
        } finally {
          ours.close();
          real.close();
        }
      });
    });
  }
});
