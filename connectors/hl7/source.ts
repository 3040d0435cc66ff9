// MLLP listener: every frame is handed to the engine (stored durably) before it is acknowledged, and
// the acknowledgement says what the engine did with it. Bad input is stored too, as errored, and
// answered AE/AR with an ERR segment naming the place, so nothing a sender sent is ever lost silently.
import net from 'node:net';
import tls from 'node:tls';
import { z } from 'zod';
import type { InboundMessage, ReceiptResult, SourceConnector, SourceContext } from '../../engine/connectors/types';
import { acknowledgementFor, buildAck, headerOf, scrapeHeader, type AckError, type Outcome } from './codec/ack';
import { Hl7Error, Hl7ErrorCodes } from './codec/errors';
import { Hl7Message } from './codec/message';
import { correlationOf, correlationOfHeader, metaOf } from './correlation';
import { MllpSession, type BrokenFrameKind } from './mllp/session';
import { serverTlsOptions, tlsOptionsSchema } from './mllp/tls';

export const HL7_CONTENT_TYPE = 'application/hl7-v2';

export const mllpSourceSchema = z.object({
  /** Address to listen on (default all interfaces). */
  host: z.string().default('0.0.0.0'),
  port: z.number().int().min(0).max(65535),
  /** `stored` (default): ACK once durably stored; `delivered`: once every destination succeeded; `never`: no ACK. */
  ackMode: z.enum(['stored', 'delivered', 'never']).default('stored'),
  maxMessageBytes: z.number().int().min(1024).default(16 * 1024 * 1024),
  /** A started frame must end within this time after its last byte; otherwise NAK and close. */
  frameTimeoutMs: z.number().int().min(10).default(30_000),
  /** Close connections silent for this long (0 = keep them). */
  idleTimeoutMs: z.number().int().min(0).default(0),
  maxConnections: z.number().int().min(1).default(200),
  /**
   * Frames of one connection handed to the engine before the first is acknowledged (for senders that
   * pipeline). 1 (default): strictly one at a time, so the store keeps wire order. Above 1, ACKs still
   * leave in wire order and messages of one patient (PID-3) are still stored in order; messages of
   * different patients may be stored in a different order than sent.
   */
  maxInFlightPerConnection: z.number().int().min(1).max(1024).default(1),
  /** Charset of the senders' bytes when it is not (correctly) declared in MSH-18: `windows-1258`, `tcvn3`, `viscii`, `8859/1`… */
  charset: z.string().optional(),
  /** MSH-3/MSH-4 of our ACKs when the message named no receiving application/facility. */
  ackApplication: z.string().default('HISBRIDGE'),
  ackFacility: z.string().optional(),
  /** Accept connections only from these addresses or CIDR ranges (empty = anyone). */
  allowAddresses: z.array(z.string()).default([]),
  /** With mutual TLS: accept only client certificates with one of these subject CNs (empty = any valid one). */
  allowSubjects: z.array(z.string()).default([]),
  tls: tlsOptionsSchema.optional(),
});

export type MllpSourceConfig = z.infer<typeof mllpSourceSchema>;

function normaliseAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function buildBlockList(entries: string[]): net.BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new net.BlockList();
  for (const entry of entries) {
    const [addr, bits] = entry.split('/');
    const type = net.isIPv6(addr) ? 'ipv6' : 'ipv4';
    if (!net.isIP(addr)) throw new Error(`allowAddresses: "${entry}" is not an IP address or CIDR range`);
    if (bits !== undefined) list.addSubnet(addr, Number(bits), type);
    else list.addAddress(addr, type);
  }
  return list;
}

function printable(sample: Buffer): string {
  return sample.toString('latin1').replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).slice(0, 120);
}

interface ConnectionState {
  id: string;
  /** With pipelining: the last receive per patient, and the last one without a patient (a barrier). */
  lastByPatient: Map<string, Promise<unknown>>;
  barrier: Promise<unknown>;
  origin: Record<string, string>;
  session: MllpSession;
  counters: { accepted: number; errored: number; rejected: number };
  reported: number;
}

export class MllpSource implements SourceConnector {
  private server: net.Server | undefined;
  private ctx: SourceContext | undefined;
  private readonly connections = new Map<string, ConnectionState>();
  private seq = 0;
  private refused = 0;
  private total = 0;
  private reportTimer: NodeJS.Timeout | undefined;
  private readonly allowList: net.BlockList | undefined;

  constructor(private readonly config: MllpSourceConfig) {
    this.allowList = buildBlockList(config.allowAddresses);
  }

  /** Where the listener is bound (after start). */
  address(): { host: string; port: number } {
    const a = this.server?.address();
    if (!a || typeof a === 'string') throw new Error('MLLP source is not listening');
    return { host: a.address, port: a.port };
  }

  async start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    const c = this.config;
    const useTls = c.tls?.enabled === true;
    let server: net.Server;
    if (useTls) {
      const options = serverTlsOptions(c.tls!, ctx.certsDir);
      server = tls.createServer({ ...options, allowHalfOpen: true }, (socket) => this.onSecureConnection(socket));
      server.on('tlsClientError', (err, socket) => {
        this.refused++;
        ctx.log.warn(`MLLP TLS handshake refused from ${normaliseAddress(socket.remoteAddress)}: ${err.message}`, { channelId: ctx.channelId });
      });
      // The address check happens before the handshake: a refused host never gets to try certificates.
      server.on('connection', (socket: net.Socket) => {
        if (!this.addressAllowed(socket)) socket.destroy();
      });
    } else {
      server = net.createServer({ allowHalfOpen: true }, (socket) => {
        if (!this.addressAllowed(socket)) return void socket.destroy();
        this.accept(socket, {});
      });
    }
    server.maxConnections = c.maxConnections;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`MLLP source cannot listen on ${c.host}:${c.port}: ${err.message}`)));
      server.listen(c.port, c.host, () => resolve());
    });
    server.on('error', (err) => ctx.log.error(`MLLP listener error: ${err.message}`, { channelId: ctx.channelId }));
    this.server = server;
    this.reportListener('listening');
    this.reportTimer = setInterval(() => this.reportAll(false), 1000);
    this.reportTimer.unref();
  }

  private addressAllowed(socket: net.Socket): boolean {
    if (!this.allowList) return true;
    const addr = normaliseAddress(socket.remoteAddress);
    const ok = !!addr && this.allowList.check(addr, net.isIPv6(addr) ? 'ipv6' : 'ipv4');
    if (!ok) {
      this.refused++;
      this.ctx?.log.warn(`MLLP connection from ${addr} refused: not in allowAddresses`, { channelId: this.ctx.channelId });
    }
    return ok;
  }

  private onSecureConnection(socket: tls.TLSSocket): void {
    const cert = socket.getPeerCertificate();
    const subject = cert && cert.subject ? String(cert.subject.CN ?? '') : '';
    const allowed = this.config.allowSubjects;
    if (allowed.length > 0 && !allowed.includes(subject)) {
      this.refused++;
      this.ctx?.log.warn(`MLLP TLS client "${subject || '(no certificate)'}" from ${normaliseAddress(socket.remoteAddress)} refused: not in allowSubjects`, { channelId: this.ctx.channelId });
      socket.destroy();
      return;
    }
    this.accept(socket, subject ? { tlsSubject: subject } : {});
  }

  private accept(socket: net.Socket, extra: Record<string, string>): void {
    const ctx = this.ctx!;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    const id = `${ctx.channelId}/mllp/${++this.seq}`;
    this.total++;
    const origin: Record<string, string> = {
      remoteAddress: normaliseAddress(socket.remoteAddress),
      remotePort: String(socket.remotePort ?? ''),
      connectionId: id,
      ...extra,
    };
    const state: ConnectionState = {
      id,
      lastByPatient: new Map(),
      barrier: Promise.resolve(),
      origin,
      counters: { accepted: 0, errored: 0, rejected: 0 },
      reported: 0,
      session: undefined as unknown as MllpSession,
    };
    let junkLogged = false;
    state.session = new MllpSession(
      socket,
      {
        maxMessageBytes: this.config.maxMessageBytes,
        frameTimeoutMs: this.config.frameTimeoutMs,
        idleTimeoutMs: this.config.idleTimeoutMs,
        maxInFlight: this.config.maxInFlightPerConnection,
      },
      {
        onFrame: (payload) => this.onFrame(payload, state),
        onBrokenFrame: (kind, bytes, detail) => this.onBrokenFrame(kind, bytes, detail, state),
        onJunk: (sample, size) => {
          if (junkLogged) return;
          junkLogged = true;
          const hint = sample.includes('MSH') ? ' (the sender is not using MLLP framing: VT … FS CR)' : '';
          ctx.log.warn(`MLLP ${id}: ${size} bytes outside any frame were ignored${hint}: "${printable(sample)}"`, { channelId: ctx.channelId });
        },
      },
    );
    this.connections.set(id, state);
    ctx.reportConnection({ id, state: 'connected', detail: this.describe(state), counters: this.counters(state) });
    void state.session.done.then(() => {
      this.connections.delete(id);
      ctx.reportConnection({ id, state: 'stopped', detail: this.describe(state), counters: this.counters(state) });
      this.reportListener('listening');
    });
    this.reportListener('listening');
  }

  private describe(state: ConnectionState): string {
    const o = state.origin;
    return `${o.remoteAddress}:${o.remotePort}${o.tlsSubject ? ` (TLS, CN=${o.tlsSubject})` : this.config.tls?.enabled ? ' (TLS)' : ''}`;
  }

  private counters(state: ConnectionState): Record<string, number> {
    const s = state.session.stats;
    return { ...state.counters, frames: s.frames, broken: s.broken, acks: s.responses, bytesIn: s.bytesIn, bytesOut: s.bytesOut, junkBytes: s.junkBytes };
  }

  private reportListener(state: 'listening' | 'stopped'): void {
    if (!this.ctx || !this.server) return;
    const c = this.config;
    let where = `${c.host}:${c.port}`;
    try {
      const a = this.address();
      where = `${a.host}:${a.port}`;
    } catch {
      /* not listening */
    }
    this.ctx.reportConnection({
      id: `${this.ctx.channelId}/mllp`,
      state,
      detail: `${c.tls?.enabled ? 'mllps' : 'mllp'}://${where}`,
      counters: { connections: this.connections.size, accepted: this.total, refused: this.refused },
    });
  }

  private reportAll(force: boolean): void {
    if (!this.ctx) return;
    for (const state of this.connections.values()) {
      const activity = state.session.stats.frames + state.session.stats.broken;
      if (!force && activity === state.reported) continue;
      state.reported = activity;
      this.ctx.reportConnection({ id: state.id, state: 'connected', detail: this.describe(state), counters: this.counters(state) });
    }
  }

  private async receive(message: InboundMessage): Promise<ReceiptResult> {
    try {
      return await this.ctx!.receive(message, { waitFor: this.config.ackMode === 'delivered' ? 'delivered' : 'stored' });
    } catch (err) {
      return { status: 'unavailable', error: (err as Error).message };
    }
  }

  /**
   * With pipelining, a message waits for the previous message of the same patient (and a message
   * without a patient id for everything before it), so per-patient store order is the wire order.
   */
  private receiveInOrder(message: InboundMessage, state: ConnectionState): Promise<ReceiptResult> {
    if (this.config.maxInFlightPerConnection === 1) return this.receive(message);
    const patient = message.correlation?.patientId;
    const before = patient ? [state.barrier, state.lastByPatient.get(patient)] : [state.barrier, ...state.lastByPatient.values()];
    const receipt = Promise.all(before).then(() => this.receive(message));
    const done = receipt.then(
      () => undefined,
      () => undefined,
    );
    if (patient) {
      state.lastByPatient.set(patient, done);
      void done.then(() => state.lastByPatient.get(patient) === done && state.lastByPatient.delete(patient));
    } else {
      state.barrier = done;
      state.lastByPatient.clear();
    }
    return receipt;
  }

  private async onFrame(payload: Buffer, state: ConnectionState): Promise<Buffer | undefined> {
    let parsed: Hl7Message | undefined;
    let problem: Hl7Error | undefined;
    try {
      parsed = Hl7Message.parse(payload, { charset: this.config.charset });
      problem = checkHeader(parsed);
    } catch (err) {
      problem = err instanceof Hl7Error ? err : new Hl7Error((err as Error).message, {}, Hl7ErrorCodes.applicationInternalError, true);
    }
    const header = parsed ? headerOf(parsed) : scrapeHeader(payload);
    const inbound: InboundMessage = {
      raw: payload,
      contentType: HL7_CONTENT_TYPE,
      origin: state.origin,
      correlation: parsed ? correlationOf(parsed) : correlationOfHeader(header),
      meta: parsed ? metaOf(parsed) : {},
    };
    if (parsed && !problem) inbound.parsed = parsed;
    if (problem) {
      // The runtime marks messages carrying meta.parseError as errored: kept, never delivered.
      inbound.meta!.parseError = problem.message;
      inbound.meta!.error = problem.message;
    }
    const receipt = await this.receiveInOrder(inbound, state);
    let outcome: Outcome;
    let error: AckError | undefined;
    if (receipt.status === 'unavailable') {
      outcome = 'reject';
      error = { problem: `message not stored, send it again later: ${receipt.error}`, code: Hl7ErrorCodes.applicationInternalError };
    } else if (problem) {
      outcome = problem.reject ? 'reject' : 'error';
      error = { problem: problem.problem, location: problem.location, code: problem.code };
    } else if (receipt.status === 'errored' || receipt.status === 'failed') {
      outcome = 'error';
      error = { problem: receipt.error, code: Hl7ErrorCodes.applicationInternalError };
    } else outcome = 'accept';
    this.count(state, outcome, problem ? problem.message : error?.problem);
    return this.answer(header, outcome, error, receipt);
  }

  private async onBrokenFrame(kind: BrokenFrameKind, bytes: Buffer, detail: string, state: ConnectionState): Promise<Buffer | undefined> {
    const header = scrapeHeader(bytes);
    const receipt = await this.receiveInOrder({
      raw: bytes,
      contentType: HL7_CONTENT_TYPE,
      origin: { ...state.origin, framing: kind },
      correlation: correlationOfHeader(header),
      meta: { parseError: detail, error: detail },
    }, state);
    this.count(state, receipt.status === 'unavailable' ? 'reject' : 'error', detail);
    if (kind === 'closed') return undefined; // nobody is left to answer
    const outcome: Outcome = receipt.status === 'unavailable' ? 'reject' : 'error';
    return this.answer(header, outcome, { problem: detail, code: Hl7ErrorCodes.applicationInternalError, location: header ? {} : { byteOffset: 0 } }, receipt);
  }

  private count(state: ConnectionState, outcome: Outcome, problem: string | undefined): void {
    if (outcome === 'accept') state.counters.accepted++;
    else {
      if (outcome === 'error') state.counters.errored++;
      else state.counters.rejected++;
      this.ctx!.log.warn(`MLLP ${state.id}: ${outcome === 'error' ? 'AE' : 'AR'}: ${problem ?? ''}`, { channelId: this.ctx!.channelId });
    }
  }

  private answer(header: ReturnType<typeof scrapeHeader>, outcome: Outcome, error: AckError | undefined, receipt: ReceiptResult): Buffer | undefined {
    if (this.config.ackMode === 'never') return undefined;
    const { code, send } = acknowledgementFor(header, outcome);
    if (!send) return undefined;
    const text = receipt.status === 'filtered' ? `filtered: ${receipt.reason}` : undefined;
    const ack = buildAck(header, { code, error, text, application: this.config.ackApplication, facility: this.config.ackFacility });
    try {
      return ack.toBuffer();
    } catch {
      return Buffer.from(ack.toString().replace(/[^\x00-\x7f]/g, '?'), 'latin1');
    }
  }

  async stop(): Promise<void> {
    if (this.reportTimer) clearInterval(this.reportTimer);
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([...this.connections.values()].map((c) => c.session.stop()));
    await closed;
    this.reportListener('stopped');
    this.server = undefined;
  }
}

/** Header problems that make a message unusable even though it parsed. */
export function checkHeader(message: Hl7Message): Hl7Error | undefined {
  const msh = message.segment('MSH')!;
  if (msh.get(9, 1) === '') return new Hl7Error('MSH-9 (message type) is empty', { segment: 'MSH', sequence: 1, field: 9 }, Hl7ErrorCodes.requiredFieldMissing, true);
  if (msh.get(10) === '') return new Hl7Error('MSH-10 (message control id) is empty', { segment: 'MSH', sequence: 1, field: 10 }, Hl7ErrorCodes.requiredFieldMissing);
  return undefined;
}
