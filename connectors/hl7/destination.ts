// MLLP destination: sends each queued message over a persistent (optionally TLS) connection and
// turns the receiver's ACK into the engine's outcome: AA/CA delivered; AE/CE and AR/CR retried or
// dead-lettered as configured; no ACK, a timeout or a lost connection are retried by the engine.
import { z } from 'zod';
import { PermanentDeliveryError, type ConnectorServices, type DeliveryContext, type DeliveryResult, type DestinationConnector, type OutboundMessage } from '../../engine/connectors/types';
import { readAck } from './codec/ack';
import { charsetByName, supportedCharsetNames } from './codec/charset';
import { encodeText, Hl7Message } from './codec/message';
import { MllpClient } from './mllp/client';
import { clientTlsOptions, tlsOptionsSchema } from './mllp/tls';

export const mllpDestinationSchema = z.object({
  host: z.string().min(1, 'name the receiver host'),
  port: z.number().int().min(1).max(65535),
  /** Messages in flight before their ACKs arrive (1 = one at a time). */
  window: z.number().int().min(1).max(1024).default(1),
  ackTimeoutMs: z.number().int().min(100).default(30_000),
  connectTimeoutMs: z.number().int().min(100).default(10_000),
  reconnectInitialMs: z.number().int().min(1).default(1000),
  reconnectMaxMs: z.number().int().min(1).default(60_000),
  /** How ACKs are matched to messages: MSA-2 = our MSH-10 (default), or strictly in order. */
  matchAcks: z.enum(['control-id', 'order']).default('control-id'),
  /** AE/CE (the receiver says the message is wrong): dead-letter (default) or retry. */
  onApplicationError: z.enum(['dead-letter', 'retry']).default('dead-letter'),
  /** AR/CR (the receiver refuses it for now): retry (default) or dead-letter. */
  onReject: z.enum(['retry', 'dead-letter']).default('retry'),
  /**
   * MSH-10 of what is sent: `keep` the message's own, or `idempotency-key` to write the engine's
   * delivery key there, so a receiver that drops repeated MSH-10s never sees a retry twice.
   */
  controlId: z.enum(['keep', 'idempotency-key']).default('keep'),
  /** Charset to send in (re-encodes and rewrites MSH-18): `utf-8` default, `ascii-folded`, `8859/1`, `windows-1258`… */
  charset: z.string().optional(),
  tls: tlsOptionsSchema.optional(),
});

export type MllpDestinationConfig = z.infer<typeof mllpDestinationSchema>;

export class MllpDestination implements DestinationConnector {
  private client: MllpClient | undefined;
  private services: ConnectorServices | undefined;

  constructor(private readonly config: MllpDestinationConfig) {
    if (config.charset && !charsetByName(config.charset)) {
      throw new Error(`mllp destination: charset "${config.charset}" is not supported (supported: ${supportedCharsetNames.join(', ')})`);
    }
  }

  async start(services: ConnectorServices): Promise<void> {
    this.services = services;
    this.clientFor(services.certsDir);
  }

  private clientFor(certsDir: string): MllpClient {
    if (!this.client) {
      const c = this.config;
      this.client = new MllpClient({
        host: c.host,
        port: c.port,
        tls: c.tls?.enabled ? clientTlsOptions(c.tls, certsDir, c.host) : undefined,
        window: c.window,
        ackTimeoutMs: c.ackTimeoutMs,
        connectTimeoutMs: c.connectTimeoutMs,
        reconnectInitialMs: c.reconnectInitialMs,
        reconnectMaxMs: c.reconnectMaxMs,
        matchAcks: c.matchAcks,
      });
    }
    return this.client;
  }

  /** The bytes to put on the wire, with MSH-10 / MSH-18 rewritten as configured. */
  prepare(message: OutboundMessage, context: Pick<DeliveryContext, 'idempotencyKey'>): { payload: Buffer; controlId: string } {
    let hl7: Hl7Message;
    try {
      hl7 = Hl7Message.parse(message.content);
    } catch (err) {
      throw new PermanentDeliveryError(`content is not an HL7 v2 message (content type ${message.contentType}): ${(err as Error).message}`);
    }
    if (this.config.controlId === 'idempotency-key') hl7.set('MSH-10', context.idempotencyKey);
    const controlId = hl7.controlId;
    if (!controlId) throw new PermanentDeliveryError('message has no MSH-10 (control id): the ACK could not be matched to it');
    const charset = this.config.charset ? charsetByName(this.config.charset)! : undefined;
    if (!charset) return { payload: hl7.toBuffer(), controlId };
    if (charset.hl7Name) hl7.set('MSH-18', charset.hl7Name);
    else if (hl7.get('MSH-18')) hl7.setRaw('MSH-18', '');
    try {
      return { payload: encodeText(hl7.toString(), charset), controlId };
    } catch (err) {
      throw new PermanentDeliveryError(`message cannot be sent in ${charset.name}: ${(err as Error).message}`);
    }
  }

  async send(message: OutboundMessage, context: DeliveryContext): Promise<DeliveryResult> {
    const { payload, controlId } = this.prepare(message, context);
    const client = this.clientFor(this.services?.certsDir ?? '');
    const { raw, ack, parseError } = await client.send(payload, controlId, context.signal);
    const response = raw.toString('utf8');
    if (!ack) throw new Error(`the ACK from ${client.target} is not HL7 (${parseError}): ${JSON.stringify(response.slice(0, 120))}`);
    const { code, text, error } = readAck(ack);
    const reason = [text, error].filter(Boolean).join(' / ') || 'no reason given';
    switch (code) {
      case 'AA':
      case 'CA':
        return { response };
      case 'AE':
      case 'CE':
        if (this.config.onApplicationError === 'dead-letter') throw new PermanentDeliveryError(`receiver answered ${code}: ${reason}`, response);
        throw new Error(`receiver answered ${code}: ${reason}`);
      case 'AR':
      case 'CR':
        if (this.config.onReject === 'dead-letter') throw new PermanentDeliveryError(`receiver answered ${code}: ${reason}`, response);
        throw new Error(`receiver answered ${code}: ${reason}`);
      default:
        throw new Error(`the ACK from ${client.target} has MSA-1 ${JSON.stringify(code)}, not AA/AE/AR/CA/CE/CR`);
    }
  }

  async stop(): Promise<void> {
    await this.client?.close();
    this.client = undefined;
  }
}
