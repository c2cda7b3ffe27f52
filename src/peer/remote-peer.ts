// Everything we keep per remote member: its URLs, the two streams it reads
// from us (writers), the two streams we read from it (readers), the POST
// pipeline, and whether it has been reachable lately. Message routing is
// etcd's: MsgApp on the msgapp stream, the rest on the message stream, either
// falling back to the pipeline when its stream is not attached.
import { type Message, MessageType } from '../raft/types.js';
import { STREAM_TYPES } from './constants.js';
import type { TransportContext } from './context.js';
import { Pipeline } from './pipeline.js';
import { PeerProber } from './prober.js';
import { StreamReader } from './stream-reader.js';
import { StreamWriter } from './stream-writer.js';
import { UrlPicker } from './url-picker.js';

export class RemotePeer {
  readonly urls: UrlPicker;
  readonly messageWriter: StreamWriter;
  readonly msgappWriter: StreamWriter;
  private readonly readers: StreamReader[] = [];
  private readonly pipeline: Pipeline;
  private links = 0;
  private lastPipelineOk = 0;
  private activeFrom: number | undefined;
  /** etcd's peerStatus, for the observer: up on any success, down on any failure. */
  private active = false;
  private stopping = false;
  private probers: PeerProber[] = [];

  /**
   * `remoteOnly`: a sender we heard of before our membership knew it (etcd's
   * "remote"): we answer it over the pipeline but dial no streams.
   */
  constructor(
    private readonly ctx: TransportContext,
    readonly id: bigint,
    urls: readonly string[],
    readonly remoteOnly = false,
  ) {
    this.urls = new UrlPicker(urls);
    const onLink = (up: boolean) => this.linkChanged(up);
    const onWrite = (bytes: number, failed: boolean) => {
      if (failed) this.ctx.observer?.sendFailed?.(id);
      else this.ctx.observer?.sent?.(id, bytes);
    };
    this.messageWriter = new StreamWriter('message', onLink, onWrite);
    this.msgappWriter = new StreamWriter('msgapp', onLink, onWrite);
    this.pipeline = new Pipeline(ctx, id, this.urls, (ok) => {
      if (ok) {
        this.lastPipelineOk = Date.now();
        this.activeFrom ??= this.lastPipelineOk;
      }
      this.reportStatus(ok);
    });
    if (!remoteOnly) {
      for (const t of STREAM_TYPES) this.readers.push(new StreamReader(ctx, t, id, this.urls, onLink));
    }
  }

  start(): void {
    for (const r of this.readers) r.start();
    const observer = this.ctx.observer;
    if (observer?.roundTrip !== undefined) {
      // Two probers, as etcd has (one per round tripper), both reporting.
      const report = (seconds: number) => observer.roundTrip?.(this.id, seconds);
      this.probers = [0, 1].map(() => new PeerProber(this.ctx, this.id, this.urls, report));
    }
  }

  stop(): void {
    this.stopping = true;
    for (const p of this.probers) p.stop();
    this.reportStatus(false);
    for (const r of this.readers) r.stop();
    this.messageWriter.detach();
    this.msgappWriter.detach();
    this.pipeline.stop();
  }

  updateUrls(urls: readonly string[]): void {
    this.urls.update(urls);
    for (const r of this.readers) r.reset();
  }

  writer(type: 'message' | 'msgapp'): StreamWriter {
    return type === 'msgapp' ? this.msgappWriter : this.messageWriter;
  }

  /** Sends one message; false when it had to be dropped (every path full or down). */
  send(m: Message): boolean {
    if (m.type === MessageType.App && this.msgappWriter.send(m)) return true;
    if (this.messageWriter.send(m)) return true;
    return this.pipeline.send(m);
  }

  /** Since when the peer has been continuously reachable (undefined: not now). */
  activeSince(): number | undefined {
    if (this.links === 0 && Date.now() - this.lastPipelineOk > 5000) this.activeFrom = undefined;
    return this.activeFrom;
  }

  isActive(): boolean {
    return this.activeSince() !== undefined;
  }

  /** A snapshot POST's outcome (etcd's sender activates or deactivates the peer on it). */
  snapshotResult(ok: boolean): void {
    this.reportStatus(ok);
  }

  private reportStatus(ok: boolean): void {
    if (ok === this.active || (ok && this.stopping)) return;
    this.active = ok;
    if (ok) this.ctx.observer?.peerActive?.(this.id);
    else this.ctx.observer?.peerInactive?.(this.id, !this.stopping);
  }

  private linkChanged(up: boolean): void {
    this.reportStatus(up);
    this.links += up ? 1 : -1;
    if (up && this.activeFrom === undefined) {
      this.activeFrom = Date.now();
      this.ctx.log.info('peer became active', { 'peer-id': this.id.toString(16) });
    }
    if (!up && this.links === 0 && Date.now() - this.lastPipelineOk > 5000) {
      if (this.activeFrom !== undefined) {
        this.ctx.log.warn('peer became inactive (message send to peer failed)', {
          'peer-id': this.id.toString(16),
        });
      }
      this.activeFrom = undefined;
    }
  }
}
