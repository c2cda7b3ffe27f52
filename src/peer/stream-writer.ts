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
  /**
   * Frames sent in this turn of the event loop: they leave together, as one chunk of the
   * response body, when the turn ends. One res.write per frame cost a chunk header, four
   * iovecs and Node's per-write bookkeeping for every message (a leader sends one per Ready
   * to each follower, a follower one per save back).
   */
  private batch: Uint8Array[] = [];
  private batchBytes = 0;

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
    if (
      this.batch.length >= STREAM_BUFFER_MESSAGES ||
      res.writableLength + this.batchBytes > MAX_BUFFERED_BYTES
    ) {
      return false;
    }
    const frame = this.encoder.encode(m);
    if (this.batch.length === 0) process.nextTick(() => this.flushBatch());
    this.batch.push(frame);
    this.batchBytes += frame.length;
    return true;
  }

  private flushBatch(): void {
    const bytes = this.takeBatch();
    if (bytes !== undefined) this.writeFrame(bytes);
  }

  /** The frames queued this turn as one buffer (undefined if none); the queue is left empty. */
  private takeBatch(): Uint8Array | undefined {
    const frames = this.batch;
    if (frames.length === 0) return undefined;
    this.batch = [];
    this.batchBytes = 0;
    return frames.length === 1 ? frames[0] : Buffer.concat(frames);
  }

  private writeFrame(frame: Uint8Array | undefined): void {
    if (frame === undefined || this.res === undefined) return;
    // A heartbeat must not overtake frames sent before it in this turn.
    if (this.batch.length > 0) this.flushBatch();
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
    // Frames sent before the stream was replaced or closed still leave, as before its end.
    const bytes = this.takeBatch();
    if (bytes !== undefined) {
      try {
        res.write(bytes);
      } catch {
        // The connection is going anyway.
      }
    }
    res.end();
    this.onAttached(false);
  }
}
