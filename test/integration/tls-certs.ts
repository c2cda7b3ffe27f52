// Certificates made the way etcd's TLS tutorial makes them: cfssl with a CA
// from ca-csr.json, a ca-config.json with server/client/peer profiles, and
// one CSR per certificate (hosts become SANs). Used by the TLS integration tests.
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CA_CONFIG = {
  signing: {
    default: { expiry: '43800h' },
    profiles: {
      server: { expiry: '43800h', usages: ['signing', 'key encipherment', 'server auth'] },
      client: { expiry: '43800h', usages: ['signing', 'key encipherment', 'client auth'] },
      peer: { expiry: '43800h', usages: ['signing', 'key encipherment', 'server auth', 'client auth'] },
    },
  },
};

export type KeyAlgo = 'rsa' | 'ecdsa';

function keySpec(algo: KeyAlgo): { algo: KeyAlgo; size: number } {
  return algo === 'rsa' ? { algo, size: 2048 } : { algo, size: 256 };
}

/** Why cfssl cannot be used here, or undefined when it can. */
export function cfsslMissing(): string | undefined {
  for (const tool of ['cfssl', 'cfssljson']) {
    const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    if (r.status !== 0) return `${tool} is not installed (apt-get install golang-cfssl)`;
  }
  return undefined;
}

export interface CertFiles {
  cert: string;
  key: string;
}

export class CfsslCa {
  readonly ca: string;

  /** Runs `cfssl gencert -initca ca-csr.json | cfssljson -bare <name>` in `dir`. */
  constructor(
    private readonly dir: string,
    readonly name = 'ca',
    algo: KeyAlgo = 'rsa',
  ) {
    writeFileSync(join(dir, 'ca-config.json'), JSON.stringify(CA_CONFIG, null, 2));
    const csr = {
      CN: `${name} authority`,
      key: keySpec(algo),
      names: [{ C: 'US', L: 'CA', O: 'My Company Name', ST: 'San Francisco', OU: 'Org Unit 1' }],
    };
    writeFileSync(join(dir, `${name}-csr.json`), JSON.stringify(csr));
    this.pipe(['gencert', '-initca', `${name}-csr.json`], name);
    this.ca = join(dir, `${name}.pem`);
  }

  /**
   * `cfssl gencert -ca=... -config=ca-config.json -profile=<profile> <csr> |
   * cfssljson -bare <name>`: returns the <name>.pem / <name>-key.pem paths.
   */
  issue(
    name: string,
    profile: 'server' | 'client' | 'peer',
    cn: string,
    hosts: string[],
    algo: KeyAlgo,
  ): CertFiles {
    const csr = { CN: cn, hosts, key: keySpec(algo), names: [{ C: 'US', L: 'CA', ST: 'San Francisco' }] };
    writeFileSync(join(this.dir, `${name}-csr.json`), JSON.stringify(csr));
    this.pipe(
      [
        'gencert',
        `-ca=${this.name}.pem`,
        `-ca-key=${this.name}-key.pem`,
        '-config=ca-config.json',
        `-profile=${profile}`,
        `${name}-csr.json`,
      ],
      name,
    );
    return { cert: join(this.dir, `${name}.pem`), key: join(this.dir, `${name}-key.pem`) };
  }

  private pipe(cfsslArgs: string[], bare: string): void {
    const json = execFileSync('cfssl', cfsslArgs, { cwd: this.dir, stdio: ['ignore', 'pipe', 'ignore'] });
    execFileSync('cfssljson', ['-bare', bare], {
      cwd: this.dir,
      input: json,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
  }
}

export function serialOf(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).serialNumber;
}
