// etcd's JWT tokens: {"exp","revision","username"} signed with the configured
// key (RS*/PS*/ES* key pairs, or HS* with the private key file's bytes as the
// secret). Stateless: any member holding the key verifies any member's token,
// and a token names the auth revision it was issued at, so any change of the
// auth store makes it stale ("revision of auth store is old") until the client
// authenticates again. Signing and verifying use the jose library; keys are
// parsed with node:crypto (PKCS#1, PKCS#8, SEC1 and SPKI PEM all load).
// Pure apart from that computation: the caller passes the time.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { CompactSign, compactVerify } from 'jose';
import { authError } from './errors.js';
import type { AuthInfo } from './store.js';
import type { JwtOptions, JwtSignMethod } from './token-options.js';

/** The key files' contents (undefined: not given). */
export interface JwtKeyMaterial {
  publicKeyPem?: Uint8Array;
  privateKeyPem?: Uint8Array;
}

type SigningKey = KeyObject | Uint8Array;

/** Go's encoding/json output for a string: JSON with <, >, & and U+2028/2029 escaped. */
function goJsonString(s: string): string {
  return JSON.stringify(s).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The claims exactly as golang-jwt serializes etcd's MapClaims (keys sorted). */
export function jwtPayload(username: string, revision: number, expSec: number): string {
  return `{"exp":${expSec},"revision":${revision},"username":${goJsonString(username)}}`;
}

function family(method: JwtSignMethod): 'rsa' | 'ec' | 'hmac' {
  if (method.startsWith('HS')) return 'hmac';
  if (method.startsWith('ES')) return 'ec';
  return 'rsa';
}

function loadPrivate(pem: Uint8Array, kind: 'rsa' | 'ec'): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(pem), format: 'pem' });
  } catch {
    throw new Error(
      kind === 'rsa'
        ? 'Invalid Key: Key must be PEM encoded PKCS1 or PKCS8 private key'
        : 'Invalid Key: Key must be PEM encoded PKCS1 or PKCS8 private key',
    );
  }
  if (kind === 'rsa' && key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') {
    throw new Error('key is not a valid RSA private key');
  }
  if (kind === 'ec' && key.asymmetricKeyType !== 'ec')
    throw new Error('key is not a valid ECDSA private key');
  return key;
}

function loadPublic(pem: Uint8Array, kind: 'rsa' | 'ec'): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(pem), format: 'pem' });
  } catch {
    throw new Error('Invalid Key: Key must be PEM encoded PKCS1 or PKCS8 public key');
  }
  if (kind === 'rsa' && key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') {
    throw new Error('key is not a valid RSA public key');
  }
  if (kind === 'ec' && key.asymmetricKeyType !== 'ec') throw new Error('key is not a valid ECDSA public key');
  return key;
}

export class JwtTokens {
  private constructor(
    private readonly method: JwtSignMethod,
    /** Undefined when only a public key was given: such a member verifies but cannot issue. */
    private readonly signKey: SigningKey | undefined,
    private readonly verifyKey: SigningKey,
    readonly ttlMs: number,
  ) {}

  /** Loads the keys as etcd does: the private key wins; a public key alone makes a verify-only member. */
  static create(opts: Pick<JwtOptions, 'signMethod' | 'ttlMs'>, keys: JwtKeyMaterial): JwtTokens {
    const kind = family(opts.signMethod);
    if (kind === 'hmac') {
      const secret = keys.privateKeyPem;
      if (secret === undefined || secret.length === 0) throw authError('missingKey');
      return new JwtTokens(opts.signMethod, secret, secret, opts.ttlMs);
    }
    const priv = keys.privateKeyPem?.length ? loadPrivate(keys.privateKeyPem, kind) : undefined;
    const pub = keys.publicKeyPem?.length ? loadPublic(keys.publicKeyPem, kind) : undefined;
    if (priv === undefined) {
      if (pub === undefined) throw authError('missingKey');
      return new JwtTokens(opts.signMethod, undefined, pub, opts.ttlMs);
    }
    if (
      pub !== undefined &&
      kind === 'ec' &&
      pub.asymmetricKeyDetails?.namedCurve !== priv.asymmetricKeyDetails?.namedCurve
    ) {
      throw authError('keyMismatch');
    }
    // As etcd: with both keys given, tokens are checked with the private key's own public half.
    return new JwtTokens(opts.signMethod, priv, createPublicKey(priv), opts.ttlMs);
  }

  get verifyOnly(): boolean {
    return this.signKey === undefined;
  }

  /** A token for `username` at auth revision `revision`, expiring ttl after `nowMs`. */
  async sign(username: string, revision: number, nowMs: number): Promise<string> {
    if (this.signKey === undefined) throw authError('verifyOnly');
    const exp = Math.floor((nowMs + this.ttlMs) / 1000);
    const payload = Buffer.from(jwtPayload(username, revision, exp));
    return new CompactSign(payload).setProtectedHeader({ alg: this.method, typ: 'JWT' }).sign(this.signKey);
  }

  /**
   * The user and auth revision of a valid token, or undefined: a bad signature,
   * another algorithm, claims of the wrong shape, or exp/nbf/iat that do not
   * hold at `nowMs` (golang-jwt's checks, whole seconds).
   */
  async verify(token: string, nowMs: number): Promise<AuthInfo | undefined> {
    let payload: Uint8Array;
    try {
      ({ payload } = await compactVerify(token, this.verifyKey, { algorithms: [this.method] }));
    } catch {
      return undefined;
    }
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(payload).toString('utf8'));
    } catch {
      return undefined;
    }
    if (typeof claims !== 'object' || claims === null) return undefined;
    const c = claims as Record<string, unknown>;
    const nowSec = Math.floor(nowMs / 1000);
    if (typeof c.exp === 'number' && !(nowSec <= c.exp)) return undefined;
    if (typeof c.iat === 'number' && !(nowSec >= c.iat)) return undefined;
    if (typeof c.nbf === 'number' && !(nowSec >= c.nbf)) return undefined;
    if (typeof c.username !== 'string' || typeof c.revision !== 'number') return undefined;
    if (!Number.isFinite(c.revision) || c.revision < 0) return undefined;
    return { username: c.username, revision: Math.trunc(c.revision) };
  }
}
