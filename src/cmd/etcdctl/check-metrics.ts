// The server's resident memory as `check datascale` reads it: GET <endpoint>/metrics and the
// value of the first line starting with process_resident_memory_bytes. Like etcdctl, every
// failure is printed (on standard output) and reported as 0, which the caller turns into FAIL.
import http from 'node:http';
import https from 'node:https';
import { readTlsFile } from '../../tls/pem.js';

const METRIC = 'process_resident_memory_bytes';
const FETCH_TIMEOUT_MS = 30_000;

export interface MetricsTls {
  cert: string;
  key: string;
  insecureSkipVerify: boolean;
}

/** Resident bytes of the server behind `endpoint`, or 0 after printing why it is unknown. */
export async function residentMemoryBytes(
  endpoint: string,
  tls: MetricsTls,
  print: (line: string) => void,
): Promise<number> {
  const base = /^https?:\/\//.test(endpoint) ? endpoint : `http://${endpoint}`;
  const url = `${base}/metrics`;
  let body: string;
  try {
    body = await fetchText(url, base.startsWith('https://') ? clientCertificate(tls) : undefined);
  } catch (e) {
    if (e instanceof CertificateError) print(`client certificate error: ${e.message}`);
    else print(`fetch error: Get ${JSON.stringify(url)}: ${goNetError(e, url)}`);
    return 0;
  }
  const line = body.split('\n').find((l) => l.startsWith(METRIC));
  const text = line?.slice(METRIC.length).trim() ?? '';
  if (text === '') {
    print(`could not find: ${METRIC}`);
    return 0;
  }
  const value = goParseFloat(text);
  if (value === undefined) {
    print(`parse error: strconv.ParseFloat: parsing ${JSON.stringify(text)}: invalid syntax`);
    return 0;
  }
  return value;
}

class CertificateError extends Error {}

function clientCertificate(tls: MetricsTls): https.RequestOptions {
  try {
    return {
      cert: readTlsFile(tls.cert),
      key: readTlsFile(tls.key),
      // As etcdctl: the server is verified against the system's roots unless told not to.
      rejectUnauthorized: !tls.insecureSkipVerify,
    };
  } catch (e) {
    throw new CertificateError((e as Error).message);
  }
}

function fetchText(url: string, tlsOptions: https.RequestOptions | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    };
    const req = tlsOptions === undefined ? http.get(url, onResponse) : https.get(url, tlsOptions, onResponse);
    req.setTimeout(FETCH_TIMEOUT_MS, () => req.destroy(new Error('timeout awaiting response headers')));
    req.on('error', reject);
  });
}

/** The dial failure in Go's net error words where we know them, node's message otherwise. */
function goNetError(e: unknown, url: string): string {
  const err = e as NodeJS.ErrnoException;
  const host = new URL(url).host;
  if (err.code === 'ECONNREFUSED') return `dial tcp ${host}: connect: connection refused`;
  return err.message;
}

/** strconv.ParseFloat for the forms Prometheus writes: decimals, exponents, NaN, ±Inf. */
function goParseFloat(text: string): number | undefined {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return Number(text);
  if (/^[+-]?(inf|infinity)$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return Number.NaN;
  return undefined;
}
