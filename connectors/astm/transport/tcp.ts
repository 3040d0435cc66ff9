// ASTM over TCP (LIS1-A §8): usually the engine is the server and the analyser connects; some
// analysers listen instead, so a client mode connects out and reconnects when the link drops.
import net from 'node:net';
import { listenOrExplain } from '../../../engine/net/listen';
import type { LineHandler, Transport } from './types';

export class TcpServerTransport implements Transport {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private counter = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly setting = 'transport.port',
  ) {}

  async start(onLine: LineHandler): Promise<void> {
    const server = net.createServer((socket) => {
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined); // reported through 'close'; the session logs it
      onLine(socket, { id: `tcp-${++this.counter}`, kind: 'tcp', remote: `${socket.remoteAddress}:${socket.remotePort}` });
    });
    this.server = server;
    await listenOrExplain(server, this.port, this.host, this.setting);
  }

  /** The bound port (useful when configured with port 0). */
  get boundPort(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : this.port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  describe(): string {
    return `tcp server ${this.host}:${this.boundPort}`;
  }
}

export class TcpClientTransport implements Transport {
  private socket?: net.Socket;
  private stopped = false;
  private retry?: NodeJS.Timeout;
  private counter = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly reconnectMs = 5_000,
    private readonly onError: (error: Error) => void = () => undefined,
  ) {}

  async start(onLine: LineHandler): Promise<void> {
    this.stopped = false;
    this.connect(onLine);
  }

  private connect(onLine: LineHandler): void {
    if (this.stopped) return;
    const socket = net.connect({ host: this.host, port: this.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => onLine(socket, { id: `tcp-out-${++this.counter}`, kind: 'tcp', remote: `${this.host}:${this.port}` }));
    socket.on('error', (error) => this.onError(error));
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      if (!this.stopped) this.retry = setTimeout(() => this.connect(onLine), this.reconnectMs);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.socket?.destroy();
  }

  describe(): string {
    return `tcp client to ${this.host}:${this.port}`;
  }
}
