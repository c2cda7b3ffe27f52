// etcd's peer prober (rafthttp with xiang90/probing): every 4 s a GET of
// <peer URL>/raft/probing; the round trip feeds a smoothed estimate
// (SRTT = 7/8 SRTT + 1/8 RTT, failures leave it alone), reported 5 s after the
// peer is added, then every 30 s while healthy and every 5 s while not. etcd runs
// two probers per peer (one per round tripper) reporting into the same histogram;
// the transport does the same, so the counts match etcd's.
import type http from 'node:http';
import { CONN_READ_TIMEOUT_MS, hexId } from './constants.js';
import { request, type TransportContext } from './context.js';
import { readSmall } from './http-util.js';
import type { UrlPicker } from './url-picker.js';

const PROBE_INTERVAL_MS = CONN_READ_TIMEOUT_MS - 1000;
const REPORT_INTERVAL_MS = 30_000;
const REPORT_UNHEALTHY_MS = 5_000;
const WEIGHT = 0.125;

export class PeerProber {
  private srttMs = 0;
  private healthy = false;
  private pinned = 0;
  private readonly probeTimer: NodeJS.Timeout;
  private reportTimer: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly ctx: TransportContext,
    private readonly peerId: bigint,
    private readonly urls: UrlPicker,
    private readonly report: (seconds: number) => void,
  ) {
    this.probeTimer = setInterval(() => this.probe(), PROBE_INTERVAL_MS);
    this.probeTimer.unref();
    this.reportTimer = this.scheduleReport(REPORT_UNHEALTHY_MS);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.probeTimer);
    clearTimeout(this.reportTimer);
  }

  private scheduleReport(ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      if (this.stopped) return;
      if (!this.healthy) {
        this.ctx.log.debug('prober detected unhealthy status', { 'remote-peer-id': hexId(this.peerId) });
      }
      this.report(this.srttMs / 1000);
      this.reportTimer = this.scheduleReport(this.healthy ? REPORT_INTERVAL_MS : REPORT_UNHEALTHY_MS);
    }, ms);
    t.unref();
    return t;
  }

  private probe(): void {
    const all = this.urls.all();
    if (all.length === 0) return;
    const base = all[this.pinned % all.length]!;
    const started = performance.now();
    let settled = false;
    const done = (ok: boolean) => {
      if (settled || this.stopped) return;
      settled = true;
      if (ok) {
        this.healthy = true;
        this.srttMs = (1 - WEIGHT) * this.srttMs + WEIGHT * (performance.now() - started);
      } else {
        this.healthy = false;
        this.pinned++;
      }
    };
    const url = new URL('/raft/probing', base);
    const req = request(
      this.ctx,
      { url, agent: false },
      { method: 'GET', timeout: PROBE_INTERVAL_MS },
      (res: http.IncomingMessage) => {
        void readSmall(res).then((text) => {
          let ok = false;
          try {
            ok = res.statusCode === 200 && (JSON.parse(text) as { OK?: unknown }).OK === true;
          } catch {
            ok = false;
          }
          done(ok);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('i/o timeout')));
    req.on('error', () => done(false));
    req.end();
  }
}
