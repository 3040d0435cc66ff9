// A scriptable MLLP receiver for destination tests: it records every message and answers as the test
// says (AA/AE/AR, late, out of order, not at all), can be stopped and restarted on the same port, and
// can dedupe on MSH-10 the way a careful HIS does.
import net from 'node:net';
import tls from 'node:tls';
import { buildAck, type AckCode } from '../../connectors/hl7/codec/ack';
import { Hl7Message } from '../../connectors/hl7/codec/message';
import { encodeFrame, MllpDecoder, type MllpEvent } from '../../connectors/hl7/mllp/framer';

export interface Received {
  message: Hl7Message;
  raw: Buffer;
  connection: number;
  at: number;
}

/** An ACK, no ACK at all, or the connection dropped before the ACK (the message itself was received). */
export type Reply = { code: AckCode; text?: string; delayMs?: number } | 'none' | 'close';

export class TestReceiver {
  readonly received: Received[] = [];
  /** MSH-10 → first copy (what a deduplicating receiver keeps). */
  readonly unique = new Map<string, Received>();
  connections = 0;
  reply: (m: Hl7Message, index: number) => Reply = () => ({ code: 'AA' });
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly tlsOptions?: tls.TlsOptions) {}

  async start(port = 0): Promise<this> {
    const handler = (socket: net.Socket) => this.serve(socket);
    const server = this.tlsOptions ? tls.createServer(this.tlsOptions, handler) : net.createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this;
  }

  private serve(socket: net.Socket): void {
    const connection = ++this.connections;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const decoder = new MllpDecoder();
    socket.pipe(decoder);
    decoder.on('data', (ev: MllpEvent) => {
      if (ev.kind !== 'frame') return;
      const message = Hl7Message.parse(ev.payload);
      const entry = { message, raw: ev.payload, connection, at: Date.now() };
      const reply = this.reply(message, this.received.length);
      // The message arrived (it is recorded) whatever happens to its ACK.
      this.received.push(entry);
      if (!this.unique.has(message.controlId)) this.unique.set(message.controlId, entry);
      if (reply === 'close') return void socket.destroy();
      if (reply === 'none') return;
      const bytes = encodeFrame(buildAck(message, { code: reply.code, text: reply.text }).toBuffer());
      if (reply.delayMs) setTimeout(() => socket.writable && socket.write(bytes), reply.delayMs);
      else socket.write(bytes);
    });
  }

  /** Stops listening and drops every connection (the receiver is "down"). */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}
