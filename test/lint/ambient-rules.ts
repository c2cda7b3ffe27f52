// The rules of test/lint/ambient-nondeterminism.test.ts: what counts as an
// ambient source of time, randomness or disk access, and the allow-list of
// files that are the real implementations behind the injected interfaces.
// (Imported by the test; does nothing on its own.)

/** The folders whose modules run inside a member under the simulator. */
export const SCANNED_DIRS = ['src/server', 'src/wal', 'src/snap', 'src/peer', 'src/lease', 'src/watch'];

export interface Allowed {
  /** Path from the repository root. */
  file: string;
  /** A kind reported by findAmbient, or '*' for a whole file that never runs in a member (test support). */
  what: string;
  /**
   * How many uses of that kind the file may have; omitted for a file that is wholly a real
   * implementation the simulator replaces (the peer transport), where any number may be.
   */
  count?: number;
  why: string;
}

/**
 * Real implementations and code that never runs inside a simulated member.
 * The simulator replaces each at an interface: the peer transport
 * (src/peer/*) at NetworkFactory/MemberTransport, the disk at
 * StorageIo/FileSystem, time at Clock.
 */
export const ALLOWED: readonly Allowed[] = [
  // The real StorageIo: Node's disk and Math.random; the simulator passes its own StorageIo.
  {
    file: 'src/server/bootstrap.ts',
    what: 'node:fs',
    count: 1,
    why: 'realStorageIo.storeExists (existsSync)',
  },
  { file: 'src/server/bootstrap.ts', what: 'Math.random', count: 1, why: 'realStorageIo.random' },
  // The data-dir lock is taken by embed (a real process), never by a simulated member.
  {
    file: 'src/server/data-dir-lock.ts',
    what: 'node:fs',
    count: 1,
    why: 'flock-style lock of a real data dir',
  },
  {
    file: 'src/server/data-dir-lock.ts',
    what: 'setTimeout',
    count: 1,
    why: 'waits for a real holder process',
  },
  // --auth-token jwt key files are read once at start-up; the simulator runs without auth.
  {
    file: 'src/server/member-auth.ts',
    what: 'node:fs',
    count: 1,
    why: 'JWT key files named by --auth-token',
  },
  {
    file: 'src/server/member-auth.ts',
    what: 'crypto random',
    count: 1,
    why: 'default random source of simple tokens (MemberAuthDeps.randomBytes overrides it)',
  },
  // etcd's peer protocol over HTTP: the real network the simulator replaces at NetworkFactory.
  { file: 'src/peer/stream-reader.ts', what: 'Date.now', why: 'redial back-off of a real stream' },
  { file: 'src/peer/stream-reader.ts', what: 'setTimeout', why: 'redial timer of a real stream' },
  { file: 'src/peer/snapshot-sender.ts', what: 'Date.now', why: 'log field: how long a real send took' },
  { file: 'src/peer/snapshot-sender.ts', what: 'setTimeout', why: 'response deadline of a real POST' },
  { file: 'src/peer/raft-handler.ts', what: 'new Date()', why: "/raft/probing answers the host's time" },
  { file: 'src/peer/raft-handler.ts', what: 'Date.now', why: 'how long a real snapshot POST took (metrics)' },
  { file: 'src/peer/stream-writer.ts', what: 'setInterval', why: 'heartbeats on a real stream' },
  { file: 'src/peer/lease-forwarder.ts', what: 'Date.now', why: 'deadline of a real HTTP retry loop' },
  { file: 'src/peer/lease-forwarder.ts', what: 'setTimeout', why: 'pause between real HTTP retries' },
  { file: 'src/peer/remote-peer.ts', what: 'Date.now', why: 'activity of a real connection' },
  { file: 'src/peer/prober.ts', what: 'setInterval', why: 'GET /raft/probing every 4 s on a real peer' },
  { file: 'src/peer/prober.ts', what: 'setTimeout', why: 'first report of a real prober' },
  { file: 'src/peer/prober.ts', what: 'performance.now', why: 'round-trip time of a real probe' },
  // Test support: never loaded by a member.
  { file: 'src/wal/testkit.ts', what: '*', why: 'temporary directories for WAL tests' },
  { file: 'src/peer/wire/testkit.ts', what: '*', why: 'golden files and seeded codec fuzzing' },
];

export interface Finding {
  what: string;
  index: number;
}

/** Replaces comments by spaces and string literals by `"S<n>"`; returns the code and the strings. */
function blankCommentsAndStrings(src: string): { code: string; strings: string[] } {
  const strings: string[] = [];
  let out = '';
  let i = 0;
  /** Open template literals: brace depth of the `${` expression each is in. */
  const templates: number[] = [];
  const readString = (quote: string): void => {
    let s = '';
    i++;
    while (i < src.length && src[i] !== quote) {
      if (src[i] === '\\') {
        s += src[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (quote === '`' && src[i] === '$' && src[i + 1] === '{') {
        templates.push(0);
        i += 2;
        out += `"S${strings.push(s) - 1}"+(`;
        return;
      }
      s += src[i];
      i++;
    }
    i++;
    out += `"S${strings.push(s) - 1}"`;
  };
  while (i < src.length) {
    const c = src[i]!;
    const next = src[i + 1];
    if (c === '/' && next === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 2;
      out += ' ';
    } else if (c === "'" || c === '"' || c === '`') {
      readString(c);
    } else if (templates.length > 0 && c === '{') {
      templates[templates.length - 1]!++;
      out += c;
      i++;
    } else if (templates.length > 0 && c === '}') {
      if (templates[templates.length - 1] === 0) {
        // The end of a `${...}`: the template literal goes on.
        templates.pop();
        out += ')+';
        i--;
        readString('`');
      } else {
        templates[templates.length - 1]!--;
        out += c;
        i++;
      }
    } else {
      out += c;
      i++;
    }
  }
  return { code: out, strings };
}

const CALLS: readonly [string, RegExp][] = [
  ['Date.now', /\bDate\s*\.\s*now\b/g],
  ['new Date()', /\bnew\s+Date\s*\(\s*\)/g],
  ['setTimeout', /(?<![\w$.])setTimeout\s*\(|\bglobalThis\s*\.\s*setTimeout\b/g],
  ['setInterval', /(?<![\w$.])setInterval\s*\(|\bglobalThis\s*\.\s*setInterval\b/g],
  ['setImmediate', /(?<![\w$.])setImmediate\s*\(|\bglobalThis\s*\.\s*setImmediate\b/g],
  ['performance.now', /\bperformance\s*\.\s*now\b/g],
  ['process.hrtime', /\bprocess\s*\.\s*hrtime\b/g],
  ['Math.random', /\bMath\s*\.\s*random\b/g],
  [
    'crypto random',
    /(?<![\w$.])(?:randomBytes|randomFillSync|randomFill|randomUUID|randomInt|getRandomValues)\s*\(|\bcrypto\s*\.\s*(?:randomBytes|randomFillSync|randomUUID|randomInt|getRandomValues)\b/g,
  ],
];

const MODULES: readonly [string, RegExp][] = [
  ['node:fs', /^(?:node:)?fs(?:\/promises)?$/],
  ['node:timers', /^(?:node:)?timers(?:\/promises)?$/],
];

/** Every ambient use of time, randomness or the disk in a TypeScript source. */
export function findAmbient(src: string): Finding[] {
  const { code, strings } = blankCommentsAndStrings(src);
  const found: Finding[] = [];
  for (const [what, re] of CALLS) {
    for (const m of code.matchAll(re)) found.push({ what, index: m.index ?? 0 });
  }
  for (const m of code.matchAll(/\b(?:from|import|require)\s*\(?\s*"S(\d+)"/g)) {
    const spec = strings[Number(m[1])] ?? '';
    for (const [what, re] of MODULES) if (re.test(spec)) found.push({ what, index: m.index ?? 0 });
  }
  return found.sort((a, b) => a.index - b.index);
}
