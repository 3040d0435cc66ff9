// A DICOM listener on the configured address (dcmjs-dimse's Server binds every interface and has no
// host option): our own net.Server, one AssociationAcceptor per connection, NODELAY on each socket.
import net from 'node:net';
import { AssociationAcceptor, type AcceptorApplication } from './acceptor';
import type { ConnectionOptions } from './connection';

export interface ListenerOptions extends Partial<ConnectionOptions> {
  host: string;
  port: number;
}

export class DicomListener {
  private server?: net.Server;
  readonly associations = new Set<AssociationAcceptor>();

  constructor(
    private readonly app: AcceptorApplication,
    private readonly options: ListenerOptions,
  ) {}

  /** Starts listening; resolves with the bound port (useful with port 0). */
  async listen(): Promise<number> {
    const server = net.createServer({ noDelay: true }, (socket) => {
      const association = new AssociationAcceptor(socket, this.app, this.options);
      this.associations.add(association);
      void association.closed().then(() => this.associations.delete(association));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as net.AddressInfo).port;
  }

  get port(): number | undefined {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address.port : undefined;
  }

  /** Stops accepting; aborts open associations after `graceMs` so in-flight transfers can finish. */
  async close(graceMs = 2000): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const open = [...this.associations];
    if (open.length > 0) {
      const deadline = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([Promise.all(open.map((a) => a.closed())), deadline]);
      for (const a of this.associations) a.abortAssociation('listener stopped');
    }
    await closed;
  }
}
