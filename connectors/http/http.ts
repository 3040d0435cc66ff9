// HTTP connector. Source: a listener that stores each POSTed body and answers only once it is durable
// (200 accepted/filtered, 422 stored but errored, 503 + Retry-After when the store is unavailable).
// Destination: POSTs each message with an Idempotency-Key header; 2xx is success, 4xx other than
// 408/429 is permanent (dead letter), anything else is retried.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { z } from 'zod';
import type { ConnectorDefinition, DestinationConnector, SourceConnector, SourceContext } from '../../engine/connectors/types';
import { PermanentDeliveryError } from '../../engine/connectors/types';
import { listenOrExplain } from '../../engine/net/listen';

export const httpConfigSchema = z.object({
  // source
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).optional(),
  path: z.string().startsWith('/').default('/'),
  /** Require `Authorization: Bearer <token>` (recommended whenever the listener is not loopback-only). */
  token: z.string().min(16, 'use a token of at least 16 characters').optional(),
  /** Serve HTTPS with the engine's server certificate (certs/server.crt). */
  tls: z.boolean().default(false),
  ackMode: z.enum(['stored', 'delivered']).default('stored'),
  maxBytes: z.number().int().min(1).default(10 * 1024 * 1024),
  /** Header names whose values become correlation keys, e.g. { "x-patient-id": "patientId" }. */
  correlationHeaders: z.record(z.string(), z.enum(['patientId', 'accession', 'controlId', 'messageType', 'specimenId', 'deviceId'])).default({}),
  // destination
  url: z.string().url().optional(),
  method: z.enum(['POST', 'PUT']).default('POST'),
  headers: z.record(z.string(), z.string()).default({}),
  timeoutMs: z.number().int().min(1).default(30_000),
  /** Trust this CA file for an https:// destination (defaults to the system CAs). */
  caFile: z.string().optional(),
});
export type HttpConfig = z.infer<typeof httpConfigSchema>;

class HttpSource implements SourceConnector {
  private server: http.Server | https.Server | undefined;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(private readonly config: HttpConfig) {}

  async start(ctx: SourceContext): Promise<void> {
    if (this.config.port === undefined) throw new Error('http source: config.port is required');
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(ctx, req, res);
    this.server = this.config.tls
      ? https.createServer({ key: fs.readFileSync(path.join(ctx.certsDir, 'server.key')), cert: fs.readFileSync(path.join(ctx.certsDir, 'server.crt')) }, handler)
      : http.createServer(handler);
    this.server.keepAliveTimeout = 65_000;
    this.server.on('connection', (socket) => {
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await listenOrExplain(this.server, this.config.port, this.config.host, `channel ${ctx.channelId} source.config.port`);
    const address = this.server.address() as import('node:net').AddressInfo;
    ctx.reportConnection({ id: 'listener', state: 'listening', detail: `${this.config.tls ? 'https' : 'http'}://${address.address}:${address.port}${this.config.path}` });
  }

  /** The bound port (useful when configured as 0). */
  get port(): number | undefined {
    return (this.server?.address() as import('node:net').AddressInfo | null)?.port;
  }

  private async handle(ctx: SourceContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const reply = (status: number, body: object, headers: Record<string, string> = {}) => {
      if (res.headersSent) return;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== this.config.path) return reply(404, { error: `no listener at ${url.pathname}; POST to ${this.config.path}` });
      if (req.method !== 'POST' && req.method !== 'PUT') return reply(405, { error: 'use POST' }, { allow: 'POST, PUT' });
      if (this.config.token && req.headers.authorization !== `Bearer ${this.config.token}`) return reply(401, { error: 'missing or wrong bearer token' });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > this.config.maxBytes) return reply(413, { error: `body larger than maxBytes (${this.config.maxBytes})` }, { connection: 'close' });
        chunks.push(chunk as Buffer);
      }
      const correlation: Record<string, string> = {};
      for (const [header, key] of Object.entries(this.config.correlationHeaders)) {
        const value = req.headers[header.toLowerCase()];
        if (typeof value === 'string' && value) correlation[key] = value;
      }
      const result = await ctx.receive(
        {
          raw: Buffer.concat(chunks, size),
          contentType: (req.headers['content-type'] ?? 'application/octet-stream').split(';')[0].trim(),
          origin: { remote: `${req.socket.remoteAddress}:${req.socket.remotePort}`, path: url.pathname },
          correlation,
        },
        { waitFor: this.config.ackMode },
      );
      switch (result.status) {
        case 'accepted':
          return reply(200, { status: 'accepted', messageId: result.messageId });
        case 'filtered':
          return reply(200, { status: 'filtered', messageId: result.messageId, reason: result.reason });
        case 'errored':
          return reply(422, { status: 'errored', messageId: result.messageId, error: result.error.split('\n')[0] });
        case 'failed':
          return reply(502, { status: 'failed', messageId: result.messageId, error: result.error });
        case 'unavailable':
          return reply(503, { status: 'unavailable', error: result.error }, { 'retry-after': '5' });
      }
    } catch (error) {
      reply(400, { error: (error as Error).message });
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Idle keep-alive sockets would hold close() open.
      server.closeIdleConnections?.();
      setTimeout(() => {
        for (const s of this.sockets) s.destroy();
      }, 2000).unref();
    });
  }
}

class HttpDestination implements DestinationConnector {
  private readonly agent: http.Agent;
  private readonly ca: Buffer | undefined;

  constructor(private readonly config: HttpConfig) {
    if (!config.url) throw new Error('http destination: config.url is required');
    const secure = config.url.startsWith('https:');
    this.ca = config.caFile ? fs.readFileSync(config.caFile) : undefined;
    this.agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 64, ca: this.ca }) : new http.Agent({ keepAlive: true, maxSockets: 64 });
  }

  send(message: import('../../engine/connectors/types').OutboundMessage, ctx: import('../../engine/connectors/types').DeliveryContext): Promise<{ response?: string }> {
    const url = new URL(this.config.url!);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(
        url,
        {
          method: this.config.method,
          agent: this.agent,
          timeout: this.config.timeoutMs,
          signal: ctx.signal,
          headers: {
            ...this.config.headers,
            'content-type': message.contentType,
            'content-length': message.content.length,
            'idempotency-key': ctx.idempotencyKey,
            'x-hisbridge-message-id': String(message.messageId),
            'x-hisbridge-attempt': String(ctx.attempt),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8').slice(0, 4000);
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve({ response: `${status} ${body}` });
            else if (status >= 400 && status < 500 && status !== 408 && status !== 429) reject(new PermanentDeliveryError(`HTTP ${status} from ${url.host}: ${body}`, body));
            else reject(new Error(`HTTP ${status} from ${url.host}: ${body}`));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} within ${this.config.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(message.content);
    });
  }

  async stop(): Promise<void> {
    this.agent.destroy();
  }
}

export const httpConnector: ConnectorDefinition<HttpConfig> = {
  type: 'http',
  description: 'HTTP(S) listener (POST in) and HTTP(S) client (POST out with an Idempotency-Key)',
  configSchema: httpConfigSchema,
  createSource: (config) => new HttpSource(config),
  createDestination: (config) => new HttpDestination(config),
};
