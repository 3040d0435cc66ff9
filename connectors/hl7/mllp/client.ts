// MLLP sender: one persistent connection, up to `window` messages in flight, each ACK matched to its
// message by MSA-2 (or by order, for receivers that do not echo the control id). A lost connection
// fails the messages in flight (the caller retries them) and the next send reconnects, with an
// exponential backoff between failed attempts so a down receiver is not hammered.
import net from 'node:net';
import tls from 'node:tls';
import { Hl7Message } from '../codec/message';
import { encodeFrame, MllpDecoder, type MllpEvent } from './framer';

export interface MllpClientOptions {
  host: string;
  port: number;
  tls?: tls.ConnectionOptions;
  /** Messages sent before their ACKs arrive (1 = strictly one at a time). */
  window?: number;
  ackTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Backoff after a failed connection attempt: initial, doubling up to max. */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  /** `control-id` (default): MSA-2 names the message; `order`: ACKs come back in sending order. */
  matchAcks?: 'control-id' | 'order';
  maxAckBytes?: number;
}

export interface AckReceived {
  /** The ACK's payload bytes as received. */
  raw: Buffer;
  /** The parsed ACK (undefined when it did not parse: `parseError` says why). */
  ack?: Hl7Message;
  parseError?: string;
}

interface Pending {
  controlId: string;
  resolve(ack: AckReceived): void;
  reject(err: Error): void;
  timer?: NodeJS.Timeout;
  settled: boolean;
}

export class MllpConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MllpConnectionError';
  }
}

export class MllpClient {
  private socket: net.Socket | undefined;
  private connecting: Promise<net.Socket> | undefined;
  private failures = 0;
  private nextAttemptAt = 0;
  private lastError = '';
  private readonly inFlight: Pending[] = [];
  private readonly waiting: Array<() => void> = [];
  private closed = false;
  private readonly window: number;
  private readonly ackTimeoutMs: number;
  readonly stats = { sent: 0, acked: 0, timeouts: 0, connects: 0, connectFailures: 0, unmatchedAcks: 0 };

  constructor(private readonly options: MllpClientOptions) {
    this.window = Math.max(1, options.window ?? 1);
    this.ackTimeoutMs = options.ackTimeoutMs ?? 30_000;
  }

  get connected(): boolean {
    return !!this.socket && !this.socket.destroyed;
  }

  get target(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  /** Why the last connection attempt or connection failed ('' when fine). */
  get lastFailure(): string {
    return this.lastError;
  }

  get pending(): number {
    return this.inFlight.length;
  }

  private async connection(): Promise<net.Socket> {
    if (this.closed) throw new MllpConnectionError('MLLP client is closed');
    if (this.socket && !this.socket.destroyed) return this.socket;
    if (this.connecting) return this.connecting;
    const now = Date.now();
    if (now < this.nextAttemptAt) {
      throw new MllpConnectionError(`not connected to ${this.target} (${this.lastError}); next attempt in ${this.nextAttemptAt - now} ms`);
    }
    this.connecting = this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private open(): Promise<net.Socket> {
    const { host, port } = this.options;
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    return new Promise<net.Socket>((resolve, reject) => {
      const socket = this.options.tls ? tls.connect({ host, port, ...this.options.tls }) : net.connect({ host, port });
      const readyEvent = this.options.tls ? 'secureConnect' : 'connect';
      const timer = setTimeout(() => socket.destroy(new Error(`connection timed out after ${timeoutMs} ms`)), timeoutMs);
      const onError = (err: Error) => {
        clearTimeout(timer);
        this.failures++;
        this.stats.connectFailures++;
        const initial = this.options.reconnectInitialMs ?? 1000;
        const max = this.options.reconnectMaxMs ?? 60_000;
        this.nextAttemptAt = Date.now() + Math.min(max, initial * 2 ** (this.failures - 1));
        this.lastError = `${(err as NodeJS.ErrnoException).code ?? 'error'}: ${err.message}`;
        reject(new MllpConnectionError(`cannot connect to ${this.target}: ${err.message}`));
      };
      socket.once('error', onError);
      socket.once(readyEvent, () => {
        clearTimeout(timer);
        socket.removeListener('error', onError);
        this.failures = 0;
        this.nextAttemptAt = 0;
        this.lastError = '';
        this.stats.connects++;
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 60_000);
        this.attach(socket);
        resolve(socket);
      });
    });
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    const decoder = new MllpDecoder({ maxMessageBytes: this.options.maxAckBytes ?? 1024 * 1024 });
    socket.pipe(decoder);
    decoder.on('data', (ev: MllpEvent) => this.onEvent(ev));
    const drop = (err?: Error) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.lastError = err ? err.message : 'connection closed by the receiver';
      this.failAll(new MllpConnectionError(`connection to ${this.target} lost before the ACK arrived (${this.lastError})`));
    };
    socket.on('error', (err) => drop(err));
    socket.on('close', () => drop());
  }

  private onEvent(ev: MllpEvent): void {
    if (ev.kind !== 'frame') return;
    let ack: Hl7Message | undefined;
    let parseError: string | undefined;
    try {
      ack = Hl7Message.parse(ev.payload);
    } catch (err) {
      parseError = (err as Error).message;
    }
    let pending: Pending | undefined;
    if (this.options.matchAcks === 'order') pending = this.inFlight.find((p) => !p.settled);
    else {
      const acknowledges = ack?.get('MSA-2');
      pending = acknowledges ? this.inFlight.find((p) => !p.settled && p.controlId === acknowledges) : undefined;
      // An ACK we cannot read still answers the oldest message when only one is in flight.
      if (!pending && !ack && this.inFlight.length === 1) pending = this.inFlight[0];
    }
    if (!pending) {
      this.stats.unmatchedAcks++;
      return;
    }
    this.stats.acked++;
    this.settle(pending);
    pending.resolve({ raw: ev.payload, ack, parseError });
  }

  private settle(p: Pending): void {
    p.settled = true;
    if (p.timer) clearTimeout(p.timer);
    const i = this.inFlight.indexOf(p);
    if (i >= 0) this.inFlight.splice(i, 1);
    // Wake everyone waiting: each re-checks whether there is room for it.
    for (const wake of this.waiting.splice(0)) wake();
  }

  private failAll(err: Error): void {
    for (const p of [...this.inFlight]) {
      this.settle(p);
      p.reject(err);
    }
  }

  private hasRoom(controlId: string): boolean {
    return this.inFlight.length < this.window && !this.inFlight.some((p) => p.controlId === controlId);
  }

  /**
   * Sends one message and resolves with its ACK. Rejects (retry later) when the connection fails,
   * the ACK does not come within ackTimeoutMs, or the signal aborts.
   */
  async send(payload: Buffer, controlId: string, signal?: AbortSignal): Promise<AckReceived> {
    while (!this.hasRoom(controlId)) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(new Error('send aborted'));
        this.waiting.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    if (signal?.aborted) throw new Error('send aborted');
    // Take the slot before anything is awaited, so concurrent senders cannot all pass the window check.
    let resolveAck!: (ack: AckReceived) => void;
    let rejectAck!: (err: Error) => void;
    const result = new Promise<AckReceived>((resolve, reject) => {
      resolveAck = resolve;
      rejectAck = reject;
    });
    const pending: Pending = { controlId, resolve: resolveAck, reject: rejectAck, settled: false };
    this.inFlight.push(pending);
    let socket: net.Socket;
    try {
      socket = await this.connection();
    } catch (err) {
      this.settle(pending);
      throw err;
    }
    if (pending.settled) return result; // failed or aborted while connecting
    pending.timer = setTimeout(() => {
      if (pending.settled) return;
      this.stats.timeouts++;
      // The receiver is stuck or lost our frame; the stream can no longer be trusted to line up.
      this.settle(pending);
      rejectAck(new Error(`no ACK from ${this.target} for control id ${controlId} within ${this.ackTimeoutMs} ms`));
      if (this.socket === socket) socket.destroy();
    }, this.ackTimeoutMs);
    const onAbort = () => {
      if (pending.settled) return;
      this.settle(pending);
      rejectAck(new Error('send aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    result.then(
      () => signal?.removeEventListener('abort', onAbort),
      () => signal?.removeEventListener('abort', onAbort),
    );
    this.stats.sent++;
    socket.write(encodeFrame(payload));
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new MllpConnectionError('MLLP client closed'));
    const socket = this.socket;
    this.socket = undefined;
    if (socket && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
        setTimeout(() => socket.destroy(), 2000).unref();
      });
    }
  }
}
