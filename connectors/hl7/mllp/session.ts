// One MLLP connection on the receiving side: frames are handled strictly one after another, and each
// response is written before the next frame is looked at, so ACKs leave in the order messages came.
// A frame that never ends (no FS within the frame timeout) is handed over as broken, answered, and the
// connection is closed cleanly, since nothing after it can be trusted to be aligned.
import type { Duplex } from 'node:stream';
import { encodeFrame, MllpDecoder, type MllpEvent } from './framer';

export type BrokenFrameKind = 'oversized' | 'interrupted' | 'timeout' | 'closed';

export interface MllpSessionHandlers {
  /** One complete frame; resolves with the response payload, or undefined to send nothing. */
  onFrame(payload: Buffer): Promise<Buffer | undefined>;
  /** A frame that could not be taken whole; `bytes` is what arrived of it (the head, for oversized ones). */
  onBrokenFrame(kind: BrokenFrameKind, bytes: Buffer, detail: string): Promise<Buffer | undefined>;
  /** Bytes outside any frame (e.g. a sender that does not use MLLP framing). */
  onJunk?(sample: Buffer, size: number): void;
}

export interface MllpSessionOptions {
  maxMessageBytes?: number;
  /** A frame that started must end within this many ms of its last byte (default 30 s). */
  frameTimeoutMs?: number;
  /** Close a connection with no traffic for this long (0 = never, the default). */
  idleTimeoutMs?: number;
  /** Frames queued before reading from the socket pauses (default 64). */
  maxQueuedFrames?: number;
  /** Frames handed to the handler before the first is answered (default 1: one at a time). */
  maxInFlight?: number;
}

export interface MllpSessionStats {
  frames: number;
  responses: number;
  broken: number;
  junkBytes: number;
  bytesIn: number;
  bytesOut: number;
  lastActivity: number;
}

type QueueItem = MllpEvent | { kind: 'timeout'; partial: Buffer } | { kind: 'closed'; partial: Buffer };

export class MllpSession {
  readonly stats: MllpSessionStats = { frames: 0, responses: 0, broken: 0, junkBytes: 0, bytesIn: 0, bytesOut: 0, lastActivity: Date.now() };
  /** Resolves when the connection is closed and every frame received on it was handled. */
  readonly done: Promise<void>;
  private readonly decoder: MllpDecoder;
  private readonly queue: QueueItem[] = [];
  private pumping = false;
  private closing = false;
  private socketClosed = false;
  private paused = false;
  private timer: NodeJS.Timeout | undefined;
  private lastData = Date.now();
  private resolveDone!: () => void;
  private readonly frameTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly maxQueued: number;
  private readonly maxInFlight: number;
  private readonly maxMessageBytes: number;
  private stopRequested = false;
  private corked = false;

  constructor(
    private readonly socket: Duplex,
    options: MllpSessionOptions,
    private readonly handlers: MllpSessionHandlers,
  ) {
    this.frameTimeoutMs = options.frameTimeoutMs ?? 30_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 0;
    this.maxQueued = options.maxQueuedFrames ?? 64;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 1);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.maxMessageBytes = options.maxMessageBytes ?? 16 * 1024 * 1024;
    this.decoder = new MllpDecoder({ maxMessageBytes: this.maxMessageBytes });
    this.decoder.on('data', (ev: MllpEvent) => this.enqueue(ev));
    socket.on('data', (chunk: Buffer) => {
      this.stats.bytesIn += chunk.length;
      this.lastData = this.stats.lastActivity = Date.now();
      if (!this.decoder.write(chunk)) {
        // The decoder's own buffer is full (should not happen with 'data' listeners); pause until it drains.
        this.paused = true;
        socket.pause();
        this.decoder.once('drain', () => this.maybeResume());
      }
    });
    socket.on('end', () => this.onSocketEnd());
    socket.on('close', () => this.onSocketEnd());
    socket.on('error', () => {
      /* reset by peer and the like: 'close' follows */
    });
    this.armTimer();
  }

  private armTimer(): void {
    const wait = Math.min(this.frameTimeoutMs || Infinity, this.idleTimeoutMs || Infinity);
    if (!Number.isFinite(wait)) return;
    this.timer = setTimeout(() => this.onTimer(), Math.max(10, Math.min(wait, 1000)));
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.socketClosed || this.closing) return;
    const quiet = Date.now() - this.lastData;
    // While we hold the sender back (paused), silence is ours, not a frame that never ends.
    if (this.decoder.midFrame && !this.paused && this.frameTimeoutMs > 0 && quiet >= this.frameTimeoutMs) {
      const partial = this.decoder.takePartial() ?? Buffer.alloc(0);
      this.closing = true; // framing cannot be trusted after this: answer, then close
      this.socket.pause();
      this.queue.push({ kind: 'timeout', partial });
      void this.pump();
      return;
    }
    if (!this.decoder.midFrame && this.idleTimeoutMs > 0 && quiet >= this.idleTimeoutMs && this.queue.length === 0 && !this.pumping) {
      this.closing = true;
      this.socket.end();
      return;
    }
    this.armTimer();
  }

  private enqueue(ev: MllpEvent): void {
    if (ev.kind === 'junk') {
      this.stats.junkBytes += ev.size;
      this.handlers.onJunk?.(ev.sample, ev.size);
      return;
    }
    this.queue.push(ev);
    if (this.queue.length >= this.maxQueued && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    void this.pump();
  }

  private maybeResume(): void {
    if (this.paused && this.queue.length < this.maxQueued / 2 && !this.closing && !this.stopRequested) {
      this.paused = false;
      this.lastData = Date.now();
      this.socket.resume();
    }
  }

  private onSocketEnd(): void {
    if (this.socketClosed) return;
    this.socketClosed = true;
    if (this.timer) clearTimeout(this.timer);
    const partial = this.decoder.takePartial();
    if (partial && partial.length > 0) this.queue.push({ kind: 'closed', partial });
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    // Up to maxInFlight frames are handed over before the first one is answered; answers are written
    // strictly in frame order whatever order the handlers finish in.
    const inFlight: Array<{ item: QueueItem; response: Promise<Buffer | undefined> }> = [];
    try {
      while ((this.queue.length > 0 && !this.stopRequested) || inFlight.length > 0) {
        while (this.queue.length > 0 && !this.stopRequested && inFlight.length < this.maxInFlight) {
          const item = this.queue.shift()!;
          // Handlers answer errors themselves; a throw here must not kill the loop.
          inFlight.push({ item, response: this.handle(item).catch(() => undefined) });
          if (item.kind === 'timeout') break;
        }
        const { item, response: pending } = inFlight.shift()!;
        const response = await pending;
        if (response && !this.socket.destroyed && this.socket.writable && item.kind !== 'closed') {
          const framed = encodeFrame(response);
          this.stats.responses++;
          this.stats.bytesOut += framed.length;
          this.corkForTick();
          if (!this.socket.write(framed)) await this.drained();
        }
        if (this.paused) this.maybeResume();
        if (item.kind === 'timeout') {
          this.socket.end();
          break;
        }
      }
    } finally {
      this.pumping = false;
    }
    if (this.queue.length > 0 && !this.closing && !this.stopRequested) return void this.pump();
    if (this.socketClosed) {
      // Our side of a half-closed connection: everything is answered, so finish it.
      if (!this.socket.destroyed) this.socket.end();
      this.resolveDone();
    } else if (!this.timer && !this.closing) this.armTimer();
  }

  private drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.socket.removeListener('drain', done);
        this.socket.removeListener('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** ACKs written in the same turn of the event loop (pipelined senders) leave in one TCP write. */
  private corkForTick(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }

  private handle(item: QueueItem): Promise<Buffer | undefined> {
    switch (item.kind) {
      case 'frame':
        this.stats.frames++;
        return this.handlers.onFrame(item.payload);
      case 'oversized':
        this.stats.broken++;
        return this.handlers.onBrokenFrame('oversized', item.head, `message of ${item.size} bytes exceeds the limit of ${this.maxMessageBytes} bytes (first ${item.head.length} bytes kept)`);
      case 'interrupted':
        this.stats.broken++;
        return this.handlers.onBrokenFrame('interrupted', item.partial, `frame of ${item.partial.length} bytes was interrupted by a new start block (VT) before its end block (FS CR)`);
      case 'timeout':
        this.stats.broken++;
        return this.handlers.onBrokenFrame('timeout', item.partial, `frame not ended: no end block (FS CR) within ${this.frameTimeoutMs} ms after ${item.partial.length} bytes; connection closed`);
      case 'closed':
        this.stats.broken++;
        return this.handlers.onBrokenFrame('closed', item.partial, `connection closed in the middle of a frame after ${item.partial.length} bytes`);
      default:
        return Promise.resolve(undefined);
    }
  }

  /** Stops reading, lets the frame in hand finish, then closes (destroys after `graceMs`). */
  async stop(graceMs = 5000): Promise<void> {
    this.stopRequested = true;
    this.closing = true;
    this.socket.pause();
    if (this.timer) clearTimeout(this.timer);
    const waitPump = new Promise<void>((resolve) => {
      const check = () => (this.pumping ? setTimeout(check, 5) : resolve());
      check();
    });
    await Promise.race([waitPump, new Promise((r) => setTimeout(r, graceMs).unref())]);
    if (!this.socket.destroyed) this.socket.end();
    const closed = new Promise<void>((r) => (this.socketClosed ? r() : this.socket.once('close', () => r())));
    const t = setTimeout(() => this.socket.destroy(), graceMs);
    t.unref();
    await closed;
    clearTimeout(t);
    this.resolveDone();
  }
}
