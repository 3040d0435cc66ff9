// The contract between the engine and its connectors (Camel's vocabulary: a connector is a component
// that knows one protocol; a source or destination endpoint is one configured instance of it).
// The engine never looks inside the bytes: connectors hand it raw content plus the correlation keys
// they can read cheaply, and channels do the rest.
import type { z } from 'zod';
import type { Logger } from 'winston';

/** Keys that make a message findable and that order deliveries (all optional, all plain strings). */
export interface Correlation {
  patientId?: string;
  accession?: string;
  controlId?: string;
  messageType?: string;
  specimenId?: string;
  deviceId?: string;
}

/** What a source hands to the engine for one received message. */
export interface InboundMessage {
  raw: Buffer;
  /** A media type naming the wire format, e.g. `application/hl7-v2`, `application/astm`, `application/json`. */
  contentType: string;
  /** Who sent it: remote address, connection id, calling AE title, MQTT topic… (kept with the message). */
  origin?: Record<string, string>;
  correlation?: Correlation;
  /** Searchable metadata text (patient name, sender, message type…). */
  meta?: Record<string, string>;
  /** A value the connector already decoded (e.g. a parsed HL7 message), passed on to filters and transformers. */
  parsed?: unknown;
}

/** How the engine answers `receive`: the source turns this into its protocol's acknowledgement. */
export type ReceiptResult =
  /** Stored durably (and, with `waitFor: 'delivered'`, delivered by every destination). */
  | { status: 'accepted'; messageId: number }
  /** Stored durably; every source filter rejected it, so nothing will be delivered. */
  | { status: 'filtered'; messageId: number; reason: string }
  /** Stored durably as errored (a filter or transformer threw): kept for inspection and reprocessing. */
  | { status: 'errored'; messageId: number; error: string }
  /** Not stored (store unavailable, channel stopped, engine shutting down): the sender must retry. */
  | { status: 'unavailable'; error: string }
  /** With `waitFor: 'delivered'`: stored, but a destination dead-lettered it. */
  | { status: 'failed'; messageId: number; error: string };

export interface ReceiveOptions {
  /** `stored` (default): resolve once durable. `delivered`: resolve after every destination succeeded. */
  waitFor?: 'stored' | 'delivered';
}

export type ConnectionState = 'listening' | 'connected' | 'idle' | 'polling' | 'disconnected' | 'error' | 'stopped';

/** One live connection or listener that the dashboard shows (a socket, a serial port, an AE association…). */
export interface ConnectionStatus {
  id: string;
  state: ConnectionState;
  detail?: string;
  since: string;
  counters?: Record<string, number>;
}

/** Engine services a connector may use; a connector asks only for what it needs. */
export interface ConnectorServices {
  log: Logger;
  /** Folder for the engine's durable files (store, received DICOM files, watermarks…). */
  dataDir: string;
  /** Folder of generated certificates (CA, server key/cert) for TLS listeners. */
  certsDir: string;
  /** Named services registered by other parts of the engine (e.g. the HIS lookups), by name. */
  lookup<T>(name: string): T | undefined;
}

export interface SourceContext extends ConnectorServices {
  channelId: string;
  /** Store the message (running the channel's filters and transformer); acknowledge only after it resolves. */
  receive(message: InboundMessage, options?: ReceiveOptions): Promise<ReceiptResult>;
  /** Report a connection's state for the dashboard (call again with `stopped` to remove it). */
  reportConnection(status: Omit<ConnectionStatus, 'since'> & { since?: string }): void;
}

export interface SourceConnector {
  start(context: SourceContext): Promise<void>;
  /** Stop accepting new input, finish what is in flight, release ports. */
  stop(): Promise<void>;
}

export interface OutboundMessage {
  content: Buffer;
  contentType: string;
  messageId: number;
  channelId: string;
  correlation: Correlation;
}

export interface DeliveryContext {
  /** Stable across retries and restarts: a destination that dedupes on it receives each message once. */
  idempotencyKey: string;
  attempt: number;
  destination: string;
  signal: AbortSignal;
}

export interface DeliveryResult {
  /** What the far end answered (an ACK, an HTTP body…), stored with the attempt. */
  response?: string;
}

export interface DestinationConnector {
  start?(services: ConnectorServices): Promise<void>;
  /** Deliver once. Throw to retry later; throw a PermanentDeliveryError to dead-letter at once. */
  send(message: OutboundMessage, context: DeliveryContext): Promise<DeliveryResult>;
  stop?(): Promise<void>;
}

/** A refusal that retrying cannot fix (e.g. HL7 AR, HTTP 400): the delivery goes to the dead-letter queue. */
export class PermanentDeliveryError extends Error {
  constructor(message: string, readonly response?: string) {
    super(message);
    this.name = 'PermanentDeliveryError';
  }
}

/** A connector type: its configuration schema and factories for its endpoints. */
export interface ConnectorDefinition<Config = unknown> {
  type: string;
  description: string;
  configSchema: z.ZodType<Config>;
  /** True when only one engine node may run this source at a time (serial ports, pollers, fixed AEs). */
  singletonSource?: boolean;
  createSource?(config: Config): SourceConnector;
  createDestination?(config: Config): DestinationConnector;
}
