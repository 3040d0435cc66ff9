// A DICOM listener on the configured address (dcmjs-dimse's Server binds every interface and has no
// host option): our own net.Server, one AssociationAcceptor per connection, NODELAY on each socket.
// With `tls` it is a tls.Server (DICOM over TLS, PS3.15 B.1): the association starts after the
// handshake, and a client refused by the handshake (no or untrusted certificate) never reaches it.
import net from 'node:net';
import tls from 'node:tls';
import { AssociationAcceptor, type AcceptorApplication } from './acceptor';
import type { ConnectionOptions } from './connection';

export interface ListenerOptions extends Partial<ConnectionOptions> {
  host: string;
  port: number;
  /** Server side of DICOM over TLS (certificate, key, and the CA and request for client certificates with mutual TLS). */
  tls?: tls.TlsOptions;
  /** A TLS handshake failed (e.g. a client without the required certificate). */
  onTlsRefused?: (peer: { address: string; port: number }, reason: string) => void;
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
    const accept = (socket: net.Socket) => {
      const association = new AssociationAcceptor(socket, this.app, this.options);
      this.associations.add(association);
      void association.closed().then(() => this.associations.delete(association));
    };
    let server: net.Server;
    if (this.options.tls) {
      // A required client certificate is checked here rather than by OpenSSL: Node drops a client whose
      // certificate fails verification without saying why ("socket hang up"), and we want the reason
      // and the certificate's subject in the log. Nothing is read from the socket before this check.
      const required = this.options.tls.requestCert === true && this.options.tls.rejectUnauthorized !== false;
      const refuse = (socket: tls.TLSSocket, reason: string) => this.options.onTlsRefused?.({ address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }, reason);
      const secure = tls.createServer(
        // The handshake must finish within the association timeout, like the A-ASSOCIATE-RQ after it.
        { ...this.options.tls, rejectUnauthorized: required ? false : this.options.tls.rejectUnauthorized, noDelay: true, handshakeTimeout: this.options.associationTimeoutMs ?? 30_000 },
        (socket) => {
          if (required && !socket.authorized) {
            const subject = socket.getPeerCertificate()?.subject?.CN;
            refuse(socket, subject ? `client certificate CN=${String(subject)} not accepted: ${String(socket.authorizationError)}` : 'peer did not return a certificate');
            socket.destroy();
            return;
          }
          accept(socket);
        },
      );
      secure.on('tlsClientError', (err, socket) => refuse(socket, tlsReason(err)));
      server = secure;
    } else {
      server = net.createServer({ noDelay: true }, accept);
    }
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

/** OpenSSL's reason without its error-queue prefix: "…:SSL routines:fn:peer did not return a certificate:file:line:" → the reason. */
export function tlsReason(err: Error): string {
  const openssl = /SSL routines:[^:]*:([^:]+):/.exec(err.message);
  return openssl ? openssl[1] : err.message.trim();
}
