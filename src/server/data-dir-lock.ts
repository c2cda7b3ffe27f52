// One process per data dir. Two members writing the same WAL and backend
// corrupt both, and neither the WAL nor LMDB stops a second process. etcd
// relies on flock(2), which makes a second etcd block; Node has no flock, and
// we prefer failing at once anyway.
//
// The lock is a Linux abstract-namespace UNIX socket named after the data
// dir's identity (device and inode, so every path to the same dir -- symlinks,
// bind mounts, "..", relative paths -- maps to one name). bind(2) on a taken
// name fails with EADDRINUSE, and the kernel frees the name when its holder
// dies, however it dies (SIGKILL included): a lock can never outlive its
// process, and there is no file to go stale or to clean up.
//
// Limits: the name lives in the network namespace, so processes in different
// network namespaces (containers sharing a volume) do not see each other's lock; any local user can bind the name
// first and so keep a member from starting (never from running); a data dir on
// a network file system shared by two hosts is not protected. Older libuv
// releases (Node 20's among them) pad the name with NULs to the full
// sockaddr size while newer ones may not, so processes run by different Node
// releases might not see each other's lock: run one Node on a host.
//
// Other platforms have no abstract namespace: there the lock is not enforced
// and the caller is told so (`enforced: false`), so it can warn.
import { mkdirSync, realpathSync, statSync } from 'node:fs';
import net from 'node:net';

export class DataDirInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly lockName: string,
    readonly holderPid: number | undefined,
  ) {
    const holder = holderPid === undefined ? '' : `pid ${holderPid}, `;
    super(
      `etcd-ts: data dir ${dir} is in use by another etcd-ts process (${holder}lock ${printable(lockName)})`,
    );
    this.name = 'DataDirInUseError';
  }
}

export interface DataDirLock {
  /** The socket name, "@"-prefixed as ss(8) shows abstract sockets; "" when not enforced. */
  readonly name: string;
  /** False on platforms without abstract sockets: nothing stops a second process there. */
  readonly enforced: boolean;
  /** Frees the name; safe to call more than once. */
  release(): Promise<void>;
}

/** How long a refused process waits for the holder to say which pid it is. */
const HOLDER_REPLY_TIMEOUT_MS = 500;
/** The holder's reply is "<pid>\n"; anything longer is not ours. */
const MAX_REPLY_BYTES = 32;

/** The abstract socket name for `dir` (created if missing, symlinks resolved). */
export function lockNameFor(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(realpathSync(dir), { bigint: true });
  if (!st.isDirectory()) throw new Error(`data dir ${dir} is not a directory`);
  return `\0etcd-ts/${st.dev}/${st.ino}`;
}

/**
 * Takes the data dir's lock or throws DataDirInUseError. Must run before
 * anything else in the data dir is opened or created.
 */
export async function acquireDataDirLock(dir: string): Promise<DataDirLock> {
  if (process.platform !== 'linux') {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return { name: '', enforced: false, release: () => Promise.resolve() };
  }
  const name = lockNameFor(dir);
  const server = net.createServer(answerWithPid);
  try {
    await bind(server, name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    throw new DataDirInUseError(dir, name, await askHolderPid(name));
  }
  // The lock must not keep an otherwise finished process alive.
  server.unref();
  let released: Promise<void> | undefined;
  return {
    name: printable(name),
    enforced: true,
    release: () => {
      released ??= new Promise((resolve) => server.close(() => resolve()));
      return released;
    },
  };
}

function bind(server: net.Server, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    // exclusive: a cluster worker must bind itself rather than share the primary's handle.
    server.listen({ path: name, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** The holder tells whoever connects which process it is, for the refusal message. */
function answerWithPid(socket: net.Socket): void {
  socket.on('error', () => socket.destroy());
  socket.end(`${process.pid}\n`);
}

/** The holder's pid, or undefined if it does not answer quickly and sensibly. */
function askHolderPid(name: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = net.connect({ path: name });
    const finish = (pid: number | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(pid);
    };
    const timer = setTimeout(() => finish(undefined), HOLDER_REPLY_TIMEOUT_MS);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.length > MAX_REPLY_BYTES) finish(undefined);
    });
    socket.on('end', () => finish(parsePid(reply)));
    socket.on('error', () => finish(undefined));
  });
}

function parsePid(reply: string): number | undefined {
  const m = /^(\d{1,10})\n$/.exec(reply);
  return m === null ? undefined : Number(m[1]);
}

/** ss(8) and /proc/net/unix show an abstract name with "@" for its leading NUL. */
function printable(name: string): string {
  return name.startsWith('\0') ? `@${name.slice(1)}` : name;
}
