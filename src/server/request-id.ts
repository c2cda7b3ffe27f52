// Request ids unique across members and restarts, shaped like etcd's idutil:
// the low 16 bits of the member id, then 40 bits of milliseconds at start-up
// and an 8-bit counter that carries into the timestamp. Restarting later than
// the previous run's last id means ids never repeat in the log.

const SUFFIX_BITS = 48n;
const SUFFIX_MASK = (1n << SUFFIX_BITS) - 1n;
const TS_MASK = (1n << 40n) - 1n;

export class RequestIdGenerator {
  private readonly prefix: bigint;
  private suffix: bigint;

  constructor(memberId: bigint, nowMs: number) {
    this.prefix = (memberId & 0xffffn) << SUFFIX_BITS;
    this.suffix = (BigInt(nowMs) & TS_MASK) << 8n;
  }

  next(): bigint {
    this.suffix = (this.suffix + 1n) & SUFFIX_MASK;
    return this.prefix | this.suffix;
  }
}
