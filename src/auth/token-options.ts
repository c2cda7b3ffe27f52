// --auth-token: "simple", "jwt,pub-key=...,priv-key=...,sign-method=...,ttl=..."
// or "" (no tokens at all), parsed as etcd 3.4 does (auth.decomposeOpts).
import { parseDuration } from '../util/go-duration.js';
import { authError } from './errors.js';

export type TokenType = 'simple' | 'jwt' | 'none';

export interface TokenOptions {
  type: TokenType;
  /** Options after the type (jwt's), in the order given. */
  options: Map<string, string>;
}

export function parseAuthTokenOption(text: string): TokenOptions {
  const [type = '', ...rest] = text.split(',');
  const options = new Map<string, string>();
  for (const pair of rest) {
    const kv = pair.split('=');
    if (kv.length !== 2) throw authError('invalidAuthOpts');
    const [k, v] = kv as [string, string];
    if (options.has(k)) throw authError('invalidAuthOpts');
    options.set(k, v);
  }
  switch (type) {
    case 'simple':
      return { type: 'simple', options };
    case 'jwt':
      return { type: 'jwt', options };
    case '':
      return { type: 'none', options };
    default:
      throw authError('invalidAuthOpts');
  }
}

export const JWT_DEFAULT_TTL_MS = 5 * 60_000;

/** Signature methods as golang-jwt names them; EdDSA parses there but etcd 3.4 cannot load its key. */
const SIGN_METHODS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'HS256',
  'HS384',
  'HS512',
] as const;
export type JwtSignMethod = (typeof SIGN_METHODS)[number];

export interface JwtOptions {
  signMethod: JwtSignMethod;
  publicKeyFile: string;
  privateKeyFile: string;
  ttlMs: number;
  /** Options etcd does not know (it warns about them and goes on). */
  unknown: string[];
}

const KNOWN = new Set(['sign-method', 'pub-key', 'priv-key', 'ttl']);

/** jwt's options, checked as etcd 3.4 checks them before loading the keys. */
export function parseJwtOptions(options: Map<string, string>): JwtOptions {
  const ttlText = options.get('ttl') ?? '';
  let ttlMs = JWT_DEFAULT_TTL_MS;
  // etcd reports every parse failure of these options as "invalid auth options".
  if (ttlText !== '') {
    try {
      ttlMs = parseDuration(ttlText) / 1e6;
    } catch {
      throw authError('invalidAuthOpts');
    }
  }
  const method = options.get('sign-method') ?? '';
  if (method === 'EdDSA') throw new Error('unsupported signing method: *jwt.SigningMethodEd25519');
  if (method === 'none') throw new Error('unsupported signing method: *jwt.signingMethodNone');
  if (!(SIGN_METHODS as readonly string[]).includes(method)) throw authError('invalidAuthOpts');
  return {
    signMethod: method as JwtSignMethod,
    publicKeyFile: options.get('pub-key') ?? '',
    privateKeyFile: options.get('priv-key') ?? '',
    ttlMs,
    unknown: [...options.keys()].filter((k) => !KNOWN.has(k)),
  };
}
