// One face for the three token kinds of --auth-token: simple (per-member
// memory, see simple-tokens.ts), jwt (signed, stateless, see jwt.ts) and none
// ("" : no token is ever issued or accepted). Pure: time is passed in.
import { authError } from './errors.js';
import type { JwtTokens } from './jwt.js';
import { type RandomBytes, type SimpleTokens, simpleTokenIndex, simpleTokenPrefix } from './simple-tokens.js';
import type { AuthInfo } from './store.js';

/**
 * The time, both ways: simple-token lifetimes run on monotonic time (immune to
 * clock steps), JWT expiry is wall-clock seconds since the epoch.
 */
export interface Now {
  wallMs: number;
  monoMs: number;
}

export class TokenProvider {
  private constructor(
    private readonly simple: SimpleTokens | undefined,
    private readonly jwt: JwtTokens | undefined,
  ) {}

  static simple(tokens: SimpleTokens): TokenProvider {
    return new TokenProvider(tokens, undefined);
  }

  static jwt(tokens: JwtTokens): TokenProvider {
    return new TokenProvider(undefined, tokens);
  }

  static none(): TokenProvider {
    return new TokenProvider(undefined, undefined);
  }

  get kind(): 'simple' | 'jwt' | 'none' {
    return this.simple !== undefined ? 'simple' : this.jwt !== undefined ? 'jwt' : 'none';
  }

  /** The random part of the next simple token, chosen by the proposing member ("" otherwise). */
  prefix(random: RandomBytes): string {
    return this.simple === undefined ? '' : simpleTokenPrefix(random);
  }

  /**
   * Applying an Authenticate entry (every member does): a simple token is
   * recorded now; the returned function hands out the token, signing a JWT only
   * when called (by the member that answers the client).
   */
  assign(
    prefix: string,
    index: number,
    username: string,
    revision: number,
    now: () => Now,
  ): () => Promise<string> {
    if (this.simple !== undefined) {
      const token = this.simple.assign(prefix, index, username, now().monoMs);
      return () => Promise.resolve(token);
    }
    const jwt = this.jwt;
    if (jwt !== undefined) return () => jwt.sign(username, revision, now().wallMs);
    return () => Promise.reject(authError('authFailed'));
  }

  /**
   * Who a token stands for. Simple tokens answer with the store's current
   * revision (they are invalidated instead of going stale); JWTs with the
   * revision they were issued at.
   */
  async info(token: string, now: Now, currentRevision: number): Promise<AuthInfo | undefined> {
    if (this.simple !== undefined) {
      const username = this.simple.info(token, now.monoMs);
      return username === undefined ? undefined : { username, revision: currentRevision };
    }
    if (this.jwt !== undefined) return this.jwt.verify(token, now.wallMs);
    return undefined;
  }

  /** The raft index a simple token must have been applied at before it can be valid here. */
  indexOf(token: string): number | undefined {
    return this.simple === undefined ? undefined : simpleTokenIndex(token);
  }

  enable(): void {
    this.simple?.enable();
  }

  disable(): void {
    this.simple?.disable();
  }

  invalidateUser(username: string): void {
    this.simple?.invalidateUser(username);
  }

  sweep(monoMs: number): void {
    this.simple?.sweep(monoMs);
  }
}
