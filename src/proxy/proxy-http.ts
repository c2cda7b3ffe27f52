// HTTP/1 on the proxy's port (and on --metrics-addr): /health answers whether
// the cluster serves a read through the proxy's client (etcd's proxy health:
// a Get of "a" within a second; permission denied still counts as healthy);
// /metrics is the first endpoint's /metrics with the proxy's own figures in
// place of the cluster's etcd_grpc_proxy_* families; anything else is 404.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { EtcdClient, TlsOptions } from '../client/index.js';
import { GrpcError } from '../client/index.js';
import { PROXY_FAMILY, type ProxyMetrics } from './proxy-metrics.js';

const HEALTH_TIMEOUT_MS = 1000;

export interface ProxyHttpDeps {
  client: EtcdClient;
  metrics: ProxyMetrics;
  /** Where the cluster's /metrics is fetched from (scheme://host:port). */
  metricsUpstream: string;
  clientTls?: TlsOptions;
}

export function proxyHttpHandler(deps: ProxyHttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') return void health(deps, req, res);
    if (path === '/metrics') return void metrics(deps, res);
    notFound(res);
  };
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end('404 page not found\n');
}

async function clusterServesReads(client: EtcdClient): Promise<boolean> {
  try {
    await client.kv.range({ key: Buffer.from('a') }, { deadline: Date.now() + HEALTH_TIMEOUT_MS });
    return true;
  } catch (err) {
    return err instanceof GrpcError && err.details === 'etcdserver: permission denied';
  }
}

async function health(deps: ProxyHttpDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET') {
    res.writeHead(405, { Allow: 'GET', 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Method Not Allowed\n');
    return;
  }
  const ok = await clusterServesReads(deps.client);
  const body = JSON.stringify({ health: ok ? 'true' : 'false' });
  if (ok) {
    res.writeHead(200);
    res.end(body);
  } else {
    // Go's http.Error: plain text with a newline.
    res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end(`${body}\n`);
  }
}

function fetchText(url: string, tls: TlsOptions | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const secure = url.startsWith('https:');
    const options = secure
      ? {
          ...(tls?.ca === undefined ? {} : { ca: tls.ca }),
          ...(tls?.cert === undefined ? {} : { cert: tls.cert }),
          ...(tls?.key === undefined ? {} : { key: tls.key }),
          rejectUnauthorized: tls?.insecureSkipVerify !== true,
        }
      : {};
    const req = (secure ? https : http).get(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      res.on('error', reject);
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function metrics(deps: ProxyHttpDeps, res: ServerResponse): Promise<void> {
  let upstreamText: string;
  try {
    upstreamText = await fetchText(`${deps.metricsUpstream}/metrics`, deps.clientTls);
  } catch {
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end('Internal server error\n');
    return;
  }
  const kept = upstreamText
    .split('\n')
    .filter((line) => line !== '' && !PROXY_FAMILY.test(line))
    .join('\n');
  res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
  res.end(`${kept}\n${deps.metrics.text()}`);
}
