// The machine's "default host": the first IPv4 address of the interface that
// holds the default route. etcd uses it in one case only: when a member listens
// on 0.0.0.0 and still advertises the built-in localhost URL, it advertises this
// address instead (embed.Config.UpdateDefaultClusterFromName).

import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

/** Interface of the lowest-metric default route in /proc/net/route text, if any. */
export function defaultRouteInterface(procNetRoute: string): string | undefined {
  let best: { iface: string; metric: number } | undefined;
  for (const line of procNetRoute.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    const [iface, destination, , , , , metricText, mask] = cols;
    if (iface === undefined || destination !== '00000000' || mask !== '00000000') continue;
    const metric = Number(metricText);
    if (best === undefined || metric < best.metric) best = { iface, metric };
  }
  return best?.iface;
}

/** Linux only; undefined when it cannot be determined (etcd then keeps localhost). */
export function detectDefaultHost(): string | undefined {
  let routes: string;
  try {
    routes = readFileSync('/proc/net/route', 'utf8');
  } catch {
    return undefined;
  }
  const iface = defaultRouteInterface(routes);
  if (iface === undefined) return undefined;
  const addrs = networkInterfaces()[iface] ?? [];
  return addrs.find((a) => a.family === 'IPv4')?.address;
}
