// Lease ids are chosen by the server, so two servers that behave the same
// still print different ids. A LeaseNames (one per server) gives every id a
// name in the order the ids first appear -- LEASE1, LEASE2, ... -- so the
// masked outputs of two servers compare equal exactly when the same leases
// appear in the same places. It knows the places etcdctl 3.4 prints a lease:
//   - `%016x` in the lease commands' simple output ("lease 694d... granted"),
//   - `%x` after a lock or election name ("mylock/694d..."; the key
//     concurrency.Mutex and Election make of the session lease),
//   - decimal in JSON ("ID":n, "id":n, "lease":n) and fields ("ID" : n, "Lease" : n).
// Nothing else is touched (0 is "no lease" and stays 0), so a revision or a
// member id is never mistaken for a lease.

const HEX16 = String.raw`\b([0-9a-f]{16})\b`;
const JSON_ID = String.raw`"(?:ID|id|lease)":(\d+)`;
const FIELDS_ID = String.raw`"(?:ID|Lease)" : (\d+)`;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class LeaseNames {
  private readonly byId = new Map<bigint, string>();
  private readonly byName = new Map<string, bigint>();
  private readonly pattern: RegExp;

  /** `keyPrefixes`: lock and election names whose keys end in a lease id (`NAME/` + hex). */
  constructor(keyPrefixes: string[] = []) {
    // The keyed form comes first, so that it wins where a name is itself made of hex digits.
    const keyed =
      keyPrefixes.length === 0
        ? '(?!)()'
        : String.raw`(?<![\w/-])(?:${keyPrefixes.map(escapeRegExp).join('|')})\/([0-9a-f]{1,16})\b`;
    this.pattern = new RegExp([keyed, HEX16, JSON_ID, FIELDS_ID].join('|'), 'g');
  }

  /** The name of an id (assigning the next free one on first sight). */
  nameOf(id: bigint): string {
    let name = this.byId.get(id);
    if (name === undefined) {
      name = `LEASE${this.byId.size + 1}`;
      this.byId.set(id, name);
      this.byName.set(name, id);
    }
    return name;
  }

  /** The id behind a name as etcdctl takes it on the command line (hex). */
  hexOf(name: string): string {
    const id = this.byName.get(name);
    if (id === undefined)
      throw new Error(`no lease has been named ${name} yet (known: ${[...this.byName.keys()]})`);
    return id.toString(16);
  }

  /** Replaces every LEASE<n> in command arguments by this server's id in hex. */
  args(args: string[]): string[] {
    return args.map((a) => a.replace(/LEASE\d+/g, (name) => this.hexOf(name)));
  }

  /** Replaces every lease id in `text` by its name. */
  mask(text: string): string {
    return text.replace(this.pattern, (whole: string, ...groups: unknown[]) => {
      const [keyHex, hex, jsonDec, fieldsDec] = groups as (string | undefined)[];
      let id: bigint;
      if (hex !== undefined) id = BigInt(`0x${hex}`);
      else if (jsonDec !== undefined) id = BigInt(jsonDec);
      else if (fieldsDec !== undefined) id = BigInt(fieldsDec);
      else if (keyHex !== undefined) id = BigInt(`0x${keyHex}`);
      else return whole;
      if (id === 0n) return whole;
      const name = this.nameOf(id);
      const digits = hex ?? jsonDec ?? fieldsDec ?? keyHex ?? '';
      const at = whole.lastIndexOf(digits);
      return `${whole.slice(0, at)}${name}${whole.slice(at + digits.length)}`;
    });
  }
}

/** Regression checks of the masking itself (cheap; run by the test that uses it). */
export function selfCheckLeaseNames(): void {
  const n = new LeaseNames(['lock-a', 'el-a', 'abc']);
  const out = n.mask(
    'lease 390da24e0ca7c806 granted\n{"ID":4111120490962601990,"lease":0,"revision":12}\n' +
      'lock-a/390da24e0ca7c806\nel-a/1f\n"Lease" : 31\nmember 8e9e05c52164694d\nmylock-a/12\nabc/abc\n',
  );
  const want =
    'lease LEASE1 granted\n{"ID":LEASE1,"lease":0,"revision":12}\n' +
    'lock-a/LEASE1\nel-a/LEASE2\n"Lease" : LEASE2\nmember LEASE3\nmylock-a/12\nabc/LEASE4\n';
  if (out !== want) throw new Error(`LeaseNames self-check failed:\n${out}\n!==\n${want}`);
  if (n.hexOf('LEASE2') !== '1f') throw new Error('LeaseNames.hexOf self-check failed');
}
