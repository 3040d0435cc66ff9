// Shared by the HL7 tests: fixtures, a SourceContext that records what a source hands the engine (a
// stand-in store with controllable answers), and a raw MLLP client that reads whole ACK frames.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createLogger } from '../../engine/log';
import type { ConnectionStatus, InboundMessage, ReceiptResult, ReceiveOptions, SourceContext } from '../../engine/connectors/types';
import { MllpDecoder, type MllpEvent } from '../../connectors/hl7/mllp/framer';

export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'hl7');

export function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURES, name));
}

export function fixtureNames(): string[] {
  return fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.hl7'));
}

export interface RecordingContext extends SourceContext {
  received: Array<{ message: InboundMessage; options?: ReceiveOptions; at: number }>;
  connections: Map<string, ConnectionStatus>;
  stoppedConnections: ConnectionStatus[];
  /** Decides each answer (default: accepted / errored when meta.parseError is set, as the engine does). */
  answer: (message: InboundMessage, index: number) => ReceiptResult | Promise<ReceiptResult>;
}

export function recordingContext(dataDir = '/tmp', certsDir = '/tmp'): RecordingContext {
  const ctx: RecordingContext = {
    log: createLogger({ console: false }),
    dataDir,
    certsDir,
    channelId: 'test-channel',
    lookup: () => undefined,
    received: [],
    connections: new Map(),
    stoppedConnections: [],
    answer: (message, index) =>
      message.meta?.parseError ? { status: 'errored', messageId: index + 1, error: message.meta.parseError } : { status: 'accepted', messageId: index + 1 },
    async receive(message, options) {
      const index = ctx.received.length;
      ctx.received.push({ message, options, at: Date.now() });
      return ctx.answer(message, index);
    },
    reportConnection(status) {
      const full = { ...status, since: status.since ?? new Date().toISOString() };
      if (status.state === 'stopped') {
        ctx.connections.delete(status.id);
        ctx.stoppedConnections.push(full);
      } else ctx.connections.set(status.id, full);
    },
  };
  return ctx;
}

/** A plain TCP (or given) socket speaking MLLP by hand, for framing edge cases. */
export class RawMllpClient {
  readonly frames: Buffer[] = [];
  private waiters: Array<() => void> = [];
  closed = false;

  constructor(readonly socket: net.Socket) {
    const decoder = new MllpDecoder();
    socket.pipe(decoder);
    decoder.on('data', (ev: MllpEvent) => {
      if (ev.kind === 'frame') this.frames.push(ev.payload);
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawMllpClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host }, () => resolve(new RawMllpClient(socket)));
      socket.once('error', reject);
    });
  }

  write(bytes: Buffer | string): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes);
  }

  /** Resolves once `n` frames arrived in total (rejects after timeoutMs). */
  async waitFrames(n: number, timeoutMs = 5000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < n) {
      if (this.closed) throw new Error(`connection closed after ${this.frames.length} of ${n} frames`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${this.frames.length} of ${n} frames`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.frames.slice(0, n);
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection did not close');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Frames `text` (segments joined by CR) in VT … FS CR. */
export function frame(text: string | Buffer): Buffer {
  const body = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return Buffer.concat([Buffer.from([0x0b]), body, Buffer.from([0x1c, 0x0d])]);
}

export function msg(controlId: string, patientId = 'P1', type = 'ADT^A04^ADT_A01'): string {
  return `MSH|^~\\&|HIS|BV_A|LIS|BV_A|20250115080000||${type}|${controlId}|P|2.5.1\rEVN|A04\rPID|1||${patientId}^^^BV_A^MR||Nguyễn^Văn An\r`;
}
