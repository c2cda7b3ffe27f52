// etcd's "simple" tokens: "<16 random letters>.<raft index>", handed out when
// an Authenticate entry is applied. Every member applies that entry, so every
// member learns the token (the index lets a member that has not applied it yet
// wait for it). Tokens live only in memory: a restart forgets them, disabling
// auth forgets them all, deleting a user or changing its password forgets
// that user's. A token unused for the TTL expires; each use restarts its TTL.
//
// Pure: the caller passes the time and the random source.

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const SIMPLE_TOKEN_PREFIX_LENGTH = 16;
export const DEFAULT_SIMPLE_TOKEN_TTL_MS = 300_000;

/** Random bytes, e.g. node:crypto's randomFillSync, or a seeded source in tests. */
export type RandomBytes = (n: number) => Uint8Array;

/** 16 letters drawn uniformly (bytes that would bias the draw are thrown away). */
export function simpleTokenPrefix(random: RandomBytes): string {
  const limit = 256 - (256 % LETTERS.length);
  let out = '';
  while (out.length < SIMPLE_TOKEN_PREFIX_LENGTH) {
    for (const b of random(SIMPLE_TOKEN_PREFIX_LENGTH * 2)) {
      if (b >= limit) continue;
      out += LETTERS[b % LETTERS.length];
      if (out.length === SIMPLE_TOKEN_PREFIX_LENGTH) break;
    }
  }
  return out;
}

/** The raft index a simple token was issued at, or undefined if it is not shaped like one. */
export function simpleTokenIndex(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 2) return undefined;
  const digits = parts[1] as string;
  if (!/^[+-]?\d+$/.test(digits)) return undefined;
  const index = Number(digits);
  return Number.isSafeInteger(index) ? index : undefined;
}

interface Issued {
  username: string;
  expiresAtMs: number;
}

export class SimpleTokens {
  private readonly tokens = new Map<string, Issued>();
  private active = false;

  constructor(private readonly ttlMs: number = DEFAULT_SIMPLE_TOKEN_TTL_MS) {
    if (!(ttlMs > 0)) this.ttlMs = DEFAULT_SIMPLE_TOKEN_TTL_MS;
  }

  /** Tokens are kept only while auth is enabled. */
  enable(): void {
    this.active = true;
  }

  disable(): void {
    this.active = false;
    this.tokens.clear();
  }

  get size(): number {
    return this.tokens.size;
  }

  /** Records the token an applied Authenticate entry issued; ignored while disabled. */
  assign(prefix: string, index: number, username: string, nowMs: number): string {
    const token = `${prefix}.${index}`;
    if (this.active) this.tokens.set(token, { username, expiresAtMs: nowMs + this.ttlMs });
    return token;
  }

  /** The user of a live token (restarting its TTL), or undefined. */
  info(token: string, nowMs: number): string | undefined {
    const t = this.tokens.get(token);
    if (t === undefined) return undefined;
    if (nowMs > t.expiresAtMs) {
      this.tokens.delete(token);
      return undefined;
    }
    t.expiresAtMs = nowMs + this.ttlMs;
    return t.username;
  }

  invalidateUser(username: string): void {
    for (const [token, t] of this.tokens) if (t.username === username) this.tokens.delete(token);
  }

  /** Forgets expired tokens (etcd sweeps once a second); returns how many. */
  sweep(nowMs: number): number {
    let n = 0;
    for (const [token, t] of this.tokens) {
      if (nowMs > t.expiresAtMs) {
        this.tokens.delete(token);
        n++;
      }
    }
    return n;
  }
}
