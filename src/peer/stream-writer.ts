// The sending half of one stream to one peer. The peer dialled us (etcd's
// streams are opened by the receiver); its GET's response is our outgoing
// connection, and we write framed messages into that chunked body for as long
// as it stays open. A newer GET from the same peer replaces the older one.
// Link heartbeats keep the peer's 5 s read deadline from firing on a quiet link.
import type { ServerResponse } from 'node:http';
import type { Message } from '../raft/types.js';
import { LINK_HEARTBEAT_INTERVAL_MS, STREAM_BUFFER_MESSAGES, type StreamType } from './constants.js';
import { encodeMessageFrame, LINK_HEARTBEAT_FRAME } from './wire/message-stream.js';
import { MsgAppV2Encoder } from './wire/msgappv2.js';

interface FrameEncoder {
  encode(m: Message): Uint8Array;
  heartbeat(): Uint8Array;
}

function newEncoder(type: StreamType): FrameEncoder {
  if (type === 'msgapp') return new MsgAppV2Encoder();
  return { encode: encodeMessageFrame, heartbeat: () => LINK_HEARTBEAT_FRAME };
}

/** Bytes buffered in Node for a stream before we call it full (a peer that stopped reading). */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

export class StreamWriter {
  private res: ServerResponse | undefined;
  private encoder: FrameEncoder | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Frames written since the last uncork, counted to bound what one peer can make us hold. */
  private pending = 0;
  private corked = false;

  constructor(
    readonly type: StreamType,
    private readonly onAttached: (attached: boolean) => void,
    /** Bytes written (`failed` when a write threw and the stream was dropped). */
    private readonly onWrite?: (bytes: number, failed: boolean) => void,
  ) {}

  get attached(): boolean {
    return this.res !== undefined;
  }

  /** Takes over a peer's stream GET (headers already sent); resolves when it closes. */
  attach(res: ServerResponse): Promise<void> {
    this.detach();
    this.res = res;
    this.encoder = newEncoder(this.type);
    res.socket?.setNoDelay(true);
    this.heartbeat = setInterval(
      () => this.writeFrame(this.encoder?.heartbeat()),
      LINK_HEARTBEAT_INTERVAL_MS,
    );
    this.heartbeat.unref();
    this.onAttached(true);
    return new Promise((resolve) => {
      res.on('close', () => {
        if (this.res === res) this.detach();
        resolve();
      });
    });
  }

  /** False when the stream cannot take the message now (not attached, or the peer is not reading). */
  send(m: Message): boolean {
    const res = this.res;
    if (res === undefined || this.encoder === undefined) return false;
    if (this.pending >= STREAM_BUFFER_MESSAGES || res.writableLength > MAX_BUFFERED_BYTES) return false;
    if (!this.corked) {
      // Everything sent in this turn of the event loop goes out in one write.
      this.corked = true;
      res.cork();
      process.nextTick(() => this.uncork());
    }
    this.pending++;
    this.writeFrame(this.encoder.encode(m));
    return true;
  }

  private uncork(): void {
    this.corked = false;
    this.pending = 0;
    this.res?.uncork();
  }

  private writeFrame(frame: Uint8Array | undefined): void {
    if (frame === undefined || this.res === undefined) return;
    try {
      this.res.write(frame);
      this.onWrite?.(frame.length, false);
    } catch {
      this.onWrite?.(0, true);
      this.detach();
    }
  }

  detach(): void {
    const res = this.res;
    if (res === undefined) return;
    this.res = undefined;
    this.encoder = undefined;
    clearInterval(this.heartbeat);
    if (this.corked) {
      this.corked = false;
      res.uncork();
    }
    res.end();
    this.onAttached(false);
  }
}
