// The embedded MQTT broker (aedes, MQTT 3.1.1): started with the engine so IoMT works without anything
// else installed. Default port 1884, so it never collides with a system Mosquitto on 1883. Sessions and
// queued messages live in memory: they survive a client reconnecting, not a restart of the engine that
// hosts the broker, so production deployments point the mqtt source at Mosquitto (docs/iomt.md).
import net from 'node:net';
import tls from 'node:tls';
import { listenOrExplain } from '../engine/net/listen';

export const EMBEDDED_BROKER_DEFAULT_PORT = 1884;

export interface EmbeddedBrokerOptions {
  host?: string;
  /** Default 1884; 0 picks a free port. */
  port?: number;
  /** When set, clients must present one of these username/password pairs. */
  users?: Record<string, string>;
  /** Serve MQTT over TLS (mqtts) with this key and certificate (PEM). */
  tls?: { key: Buffer | string; cert: Buffer | string; ca?: Buffer | string; requestCert?: boolean };
  /** Max QoS 1 messages queued per offline persistent client (aedes queueLimit). */
  queueLimit?: number;
}

export interface EmbeddedBroker {
  host: string;
  port: number;
  url: string;
  /** Clients connected right now. */
  connectedClients(): number;
  /** The aedes instance (events: client, publish, ack… for monitoring and tests). */
  aedes: import('aedes').Aedes;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? EMBEDDED_BROKER_DEFAULT_PORT;
  // aedes is ESM-only; Node ≥20.19 loads it through require(esm).
  const { Aedes } = (await import('aedes')) as typeof import('aedes');
  const broker = await Aedes.createBroker({ queueLimit: options.queueLimit ?? 100_000 });
  if (options.users) {
    const users = options.users;
    broker.authenticate = (_client, username, password, done) => {
      const ok = username !== undefined && password !== undefined && users[username] === password.toString('utf8');
      if (ok) return done(null, true);
      const err = Object.assign(new Error('bad username or password'), { returnCode: 4 });
      done(err as Parameters<typeof done>[0], false);
    };
  }
  const sockets = new Set<net.Socket>();
  const onSocket = (socket: net.Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  };
  const server = options.tls ? tls.createServer({ ...options.tls }, onSocket) : net.createServer(onSocket);
  try {
    await listenOrExplain(server, port, host, 'iomt.broker.port');
  } catch (err) {
    await new Promise<void>((r) => broker.close(() => r()));
    throw err;
  }
  const actual = (server.address() as net.AddressInfo).port;
  return {
    host,
    port: actual,
    url: `${options.tls ? 'mqtts' : 'mqtt'}://${host}:${actual}`,
    connectedClients: () => broker.connectedClients,
    aedes: broker,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
