// --peer-cert-allowed-cn and --client-cert-allowed-hostname /
// --peer-cert-allowed-hostname. etcd checks them in the TLS handshake, on the
// verified leaf certificate, only when certificates are verified at all (client
// cert auth on the server side; always on a verifying client). A certificate
// that fails is refused with "client certificate authentication failed".
import type { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { TlsSetupError } from './errors.js';

export interface AllowedRules {
  /** Exact Subject CN ("" = no rule). */
  allowedCn: string;
  /** A DNS name or IP the certificate must be valid for, as Go's VerifyHostname decides ("" = no rule). */
  allowedHostname: string;
}

export const NOT_ALLOWED = 'client certificate authentication failed';

/** etcd refuses the two rules together when it builds the TLS config. */
export function checkAllowedRules(rules: AllowedRules): void {
  if (rules.allowedCn !== '' && rules.allowedHostname !== '')
    throw new TlsSetupError(
      `AllowedCN and AllowedHostname are mutually exclusive (cn=${JSON.stringify(rules.allowedCn)}, hostname=${JSON.stringify(rules.allowedHostname)})`,
    );
}

export function hasAllowedRules(rules: AllowedRules): boolean {
  return rules.allowedCn !== '' || rules.allowedHostname !== '';
}

/**
 * undefined when the certificate passes the rules (or there are none); etcd's
 * failure text otherwise. `cert` is the peer's verified leaf, or undefined
 * when none was presented/verified (which fails any rule, as in etcd).
 */
export function verifyAllowed(cert: X509Certificate | undefined, rules: AllowedRules): string | undefined {
  if (!hasAllowedRules(rules)) return undefined;
  if (cert === undefined) return NOT_ALLOWED;
  // As in etcd, the hostname rule replaces the CN rule when both reach here.
  if (rules.allowedHostname !== '')
    return certificateValidForHost(cert, rules.allowedHostname) ? undefined : NOT_ALLOWED;
  return commonName(cert) === rules.allowedCn ? undefined : NOT_ALLOWED;
}

/**
 * Subject CN; with several, the last one (as Go's pkix.Name keeps it). Node
 * prints one RDN a line, the parts of a multi-valued RDN joined by " + ".
 */
export function commonName(cert: X509Certificate): string {
  let cn = '';
  for (const line of cert.subject.split('\n')) {
    for (const part of line.split(' + ')) {
      if (part.startsWith('CN=')) cn = unquote(part.slice(3));
    }
  }
  return cn;
}

/**
 * Go's x509.Certificate.VerifyHostname (1.15+): an IP is matched against the
 * IP SANs only; a name against the DNS SANs, case-insensitively, a leading
 * "*" label matching exactly one label; the CN is never consulted.
 */
export function certificateValidForHost(cert: X509Certificate, host: string): boolean {
  const candidateIp =
    host.length >= 3 && host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(candidateIp) !== 0) return cert.checkIP(candidateIp) !== undefined;
  const name = host.toLowerCase();
  const validName = validHostname(name, false);
  return subjectAltNames(cert).dns.some((pattern) =>
    validName && validHostname(pattern, true)
      ? matchHostnames(pattern.toLowerCase(), name)
      : matchExactly(pattern, name),
  );
}

export interface SubjectAltNames {
  dns: string[];
  ips: string[];
}

/** The DNS and IP entries of the certificate's subjectAltName extension. */
export function subjectAltNames(cert: X509Certificate): SubjectAltNames {
  const out: SubjectAltNames = { dns: [], ips: [] };
  for (const entry of splitSan(cert.subjectAltName ?? '')) {
    const colon = entry.indexOf(':');
    if (colon < 0) continue;
    const kind = entry.slice(0, colon);
    const value = unquote(entry.slice(colon + 1));
    if (kind === 'DNS') out.dns.push(value);
    else if (kind === 'IP Address') out.ips.push(value);
  }
  return out;
}

/** Node lists SANs as "DNS:a, IP Address:1.2.3.4", quoting values that contain separators. */
function splitSan(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted && ch === '\\') {
      cur += ch + (text[i + 1] ?? '');
      i++;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === ',' && text[i + 1] === ' ') {
      out.push(cur);
      cur = '';
      i++;
      continue;
    }
    cur += ch;
  }
  if (cur !== '') out.push(cur);
  return out;
}

function unquote(v: string): string {
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) {
    try {
      return JSON.parse(v) as string;
    } catch {
      return v.slice(1, -1);
    }
  }
  return v;
}

/** Go's validHostname: labels of letters, digits, '_' and (not first) '-'; a leading "*" label in patterns. */
function validHostname(host: string, isPattern: boolean): boolean {
  if (!isPattern) host = host.replace(/\.$/, '');
  if (host.length === 0) return false;
  return host.split('.').every((label, i) => {
    if (label === '') return false;
    if (isPattern && i === 0 && label === '*') return true;
    return /^[A-Za-z0-9_][A-Za-z0-9_-]*$/.test(label);
  });
}

/** Go's matchHostnames: same number of labels, a "*" first label matching any one label. */
function matchHostnames(pattern: string, host: string): boolean {
  host = host.replace(/\.$/, '');
  if (pattern === '' || host === '') return false;
  const p = pattern.split('.');
  const h = host.split('.');
  if (p.length !== h.length) return false;
  return p.every((part, i) => (i === 0 && part === '*') || part === h[i]);
}

function matchExactly(a: string, b: string): boolean {
  if (a === '' || a === '.' || b === '' || b === '.') return false;
  return a.toLowerCase() === b.toLowerCase();
}
