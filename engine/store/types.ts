// The message store and delivery queues, behind one interface so a PostgreSQL store (several engine
// nodes) can replace the embedded SQLite one without the runtime noticing.
import type { Correlation } from '../connectors/types';

export const messageStatuses = ['RECEIVED', 'FILTERED', 'QUEUED', 'SENT', 'ERROR', 'DEAD'] as const;
export type MessageStatus = (typeof messageStatuses)[number];
export type DeliveryStatus = 'QUEUED' | 'SENT' | 'FILTERED' | 'DEAD' | 'DISCARDED';

export interface StageContent {
  /** `raw`, `transformed`, `destination:<name>`, `response:<name>`… */
  stage: string;
  contentType: string;
  data: Buffer;
}

export interface NewDelivery {
  destination: string;
  status: 'QUEUED' | 'FILTERED';
  content: Buffer;
  contentType: string;
  /** Deliveries sharing an order key (per destination) are sent one at a time in arrival order. */
  orderKey: string | null;
  maxAttempts: number;
  reason?: string;
}

export interface NewMessage {
  channelId: string;
  receivedAt: Date;
  status: MessageStatus;
  contentType: string;
  size: number;
  origin: Record<string, string>;
  correlation: Correlation;
  meta: Record<string, string>;
  error?: string;
  /** Content kept according to the channel's storage level. */
  contents: StageContent[];
  deliveries: NewDelivery[];
}

export interface StoredMessage {
  id: number;
  channelId: string;
  receivedAt: string;
  status: MessageStatus;
  contentType: string;
  size: number;
  origin: Record<string, string>;
  correlation: Correlation;
  meta: Record<string, string>;
  error: string | null;
  generation: number;
}

export interface DestinationState {
  destination: string;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  updatedAt: string;
}

export interface AttemptRecord {
  destination: string;
  attempt: number;
  at: string;
  ok: boolean;
  response: string | null;
  error: string | null;
  durationMs: number;
}

export interface MessageDetail extends StoredMessage {
  contents: Array<{ stage: string; contentType: string; data: Buffer }>;
  destinations: DestinationState[];
  attempts: AttemptRecord[];
}

/** One queued delivery, as a destination worker claims it. */
export interface QueuedDelivery {
  queueId: number;
  messageId: number;
  channelId: string;
  destination: string;
  orderKey: string | null;
  idempotencyKey: string;
  attempts: number;
  maxAttempts: number;
  nextAttemptAt: number;
  content: Buffer;
  contentType: string;
  correlation: Correlation;
}

export interface DeadLetter {
  queueId: number;
  messageId: number;
  channelId: string;
  destination: string;
  attempts: number;
  lastError: string | null;
  diedAt: string;
  correlation: Correlation;
}

export interface MessageQuery {
  channelId?: string;
  status?: MessageStatus;
  from?: Date;
  to?: Date;
  patientId?: string;
  accession?: string;
  controlId?: string;
  specimenId?: string;
  /** Full-text search over metadata (diacritics folded: "nguyen" finds "Nguyễn"). */
  text?: string;
  /** Keyset paging: only messages with a smaller id. */
  beforeId?: number;
  limit?: number;
}

export interface QueueDepth {
  channelId: string;
  destination: string;
  queued: number;
  dead: number;
  oldestQueuedAt: string | null;
}

export interface StoreHealth {
  ok: boolean;
  reason?: string;
}

export interface MessageStore {
  readonly kind: string;
  /** Durably stores messages (group-committed) and returns their ids; resolves only once on disk. */
  append(message: NewMessage): Promise<number>;
  /** Queued deliveries with a queue id above `afterQueueId`, oldest first (the caller enforces per-key ordering and due times). */
  readyDeliveries(channelId: string, destination: string, afterQueueId: number, limit: number): Promise<QueuedDelivery[]>;
  /**
   * Stores shared by several nodes lease deliveries instead: up to `limit` that may be sent now
   * (due, first of their order key, not leased by another node). The worker uses this when present.
   */
  claimDeliveries?(channelId: string, destination: string, limit: number): Promise<QueuedDelivery[]>;
  /** A named lease for a singleton listener (only one node runs it); undefined when another node holds it. */
  tryAcquireLease?(name: string): Promise<{ release(): Promise<void>; lost: Promise<string> } | undefined>;
  /** Earliest time at which a queued delivery of this destination becomes due (ms), or null. */
  nextDueAt(channelId: string, destination: string): Promise<number | null>;
  recordSuccess(delivery: QueuedDelivery, outcome: { response?: string; durationMs: number; keepContent: boolean }): Promise<void>;
  recordFailure(delivery: QueuedDelivery, outcome: { error: string; durationMs: number; retryAt: number | null; response?: string }): Promise<void>;
  /** Adds an output stage or response to a stored message (storage level permitting; the caller decides). */
  addContent(messageId: number, content: StageContent): Promise<void>;

  get(messageId: number): Promise<MessageDetail | undefined>;
  search(query: MessageQuery): Promise<StoredMessage[]>;
  /** Raw content for reprocessing (undefined when the storage level kept none). */
  rawContent(messageId: number): Promise<StageContent | undefined>;
  /** Marks a message reprocessed: a new generation with fresh deliveries (new idempotency keys). */
  requeue(messageId: number, deliveries: NewDelivery[], status: MessageStatus, error?: string): Promise<number>;
  /** Replaces the output stages (not the raw content) of a reprocessed message. */
  replaceContents(messageId: number, contents: StageContent[]): Promise<void>;

  deadLetters(options: { channelId?: string; limit?: number; beforeQueueId?: number }): Promise<DeadLetter[]>;
  replayDead(queueIds: number[]): Promise<number>;
  discardDead(queueIds: number[]): Promise<number>;
  queueDepths(): Promise<QueueDepth[]>;

  /** Drops whole partitions older than the retention, skipping any that still hold queued deliveries. */
  applyRetention(now?: Date): Promise<{ dropped: string[]; kept: string[] }>;
  health(): StoreHealth;
  /** Consistent online backup to a file or folder the store understands. */
  backup(destination: string): Promise<void>;
  close(): Promise<void>;
}
