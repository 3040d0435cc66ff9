// A channel, as code: one source endpoint → filters → transformer → destinations, each destination
// with its own filter, transformer and queue. Channel files in channels/ default-export
// `defineChannel({...})`; filters and transformers are plain typed functions, so a channel can be
// unit-tested by calling them, or with `hisbridge test-channel`.
import { z } from 'zod';
import type { Correlation } from '../connectors/types';

/** What filters and transformers see of a message. */
export interface ChannelMessage<Parsed = unknown> {
  id: number;
  channelId: string;
  receivedAt: Date;
  raw: Buffer;
  contentType: string;
  /** The raw bytes as UTF-8 text. */
  text: string;
  /** The value the source connector decoded, if any (e.g. a parsed HL7 message). */
  parsed: Parsed;
  origin: Record<string, string>;
  correlation: Correlation;
  meta: Record<string, string>;
}

/** Lets a transformer add correlation keys and metadata it found while transforming. */
export interface TransformContext {
  setCorrelation(keys: Correlation): void;
  setMeta(key: string, value: string): void;
}

/** The result of a transformer: raw bytes, text, or any JSON-serialisable value. */
export type TransformOutput = Buffer | string | object;

export type Filter<In = ChannelMessage> = (message: In) => boolean | string | Promise<boolean | string>;
export type Transformer<In = ChannelMessage> = (message: In, context: TransformContext) => TransformOutput | Promise<TransformOutput>;

/** What a destination's filter and transformer see: the channel-level output plus the original message. */
export interface DestinationInput<Parsed = unknown> {
  message: ChannelMessage<Parsed>;
  /** The channel transformer's output (the raw content when the channel has none). */
  content: Buffer;
  contentType: string;
  /** The channel transformer's output before serialisation (an object when it returned one). */
  value: unknown;
}

const connectorEndpoint = z.object({
  connector: z.string().min(1, 'name a registered connector type'),
  config: z.record(z.string(), z.unknown()).default({}),
});

const queueSchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(1000).default(10),
    initialBackoffMs: z.number().int().min(1).default(1000),
    maxBackoffMs: z.number().int().min(1).default(300_000),
    /** How many deliveries of this destination run at once (different order keys only). */
    concurrency: z.number().int().min(1).max(256).default(8),
    /** Which correlation key orders deliveries: messages sharing it are sent one at a time, in order. */
    orderBy: z.enum(['none', 'patientId', 'accession', 'specimenId', 'deviceId', 'channel']).default('patientId'),
  })
  .default({ maxAttempts: 10, initialBackoffMs: 1000, maxBackoffMs: 300_000, concurrency: 8, orderBy: 'patientId' });

export const storageLevels = ['full', 'raw', 'metadata'] as const;
export type StorageLevel = (typeof storageLevels)[number];

const fn = z.custom<(...args: any[]) => unknown>((v) => typeof v === 'function', { message: 'must be a function' });

export const destinationSchema = connectorEndpoint.extend({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and dashes'),
  filter: fn.optional(),
  transformer: fn.optional(),
  contentType: z.string().optional(),
  queue: queueSchema,
});

export const channelSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and dashes'),
    name: z.string().min(1),
    description: z.string().optional(),
    enabled: z.boolean().default(true),
    source: connectorEndpoint,
    /**
     * Run the source on one engine node at a time (a serial port, a DICOM AE on a fixed address, a
     * poller). With a shared store the nodes hold a lease on it and a survivor takes over when the
     * owner dies. Defaults to what the connector type declares.
     */
    singleton: z.boolean().optional(),
    /** How much is kept: `full` every stage and response; `raw` the received bytes and attempt outcomes; `metadata` only metadata (queued content is kept until delivered). */
    storage: z.enum(storageLevels).default('full'),
    /** Days a message is kept before its day partition is dropped. */
    retentionDays: z.number().int().min(1).max(3650).default(30),
    filters: z.array(fn).default([]),
    transformer: fn.optional(),
    /** Content type of the transformer's output, when it differs from the source's. */
    contentType: z.string().optional(),
    destinations: z.array(destinationSchema).default([]),
    alerts: z
      .object({
        /** Alert when no message arrived for this many minutes (0 = never). */
        silentMinutes: z.number().min(0).default(0),
        /** Alert when a destination's queue holds more than this many messages. */
        queueDepth: z.number().int().min(1).default(1000),
        /** Alert when this many messages errored within five minutes. */
        errorsPer5Min: z.number().int().min(1).default(1),
      })
      .default({ silentMinutes: 0, queueDepth: 1000, errorsPer5Min: 1 }),
  })
  .superRefine((channel, ctx) => {
    const seen = new Set<string>();
    channel.destinations.forEach((d, i) => {
      if (seen.has(d.name)) ctx.addIssue({ code: 'custom', path: ['destinations', i, 'name'], message: `duplicate destination name "${d.name}"` });
      seen.add(d.name);
    });
  });

export type ChannelConfig = z.infer<typeof channelSchema>;
export type DestinationConfig = z.infer<typeof destinationSchema>;

/** The typed shape a channel file writes (functions typed against the message they receive). */
export interface ChannelDefinition<Parsed = unknown> {
  id: string;
  name: string;
  description?: string;
  enabled?: boolean;
  source: { connector: string; config?: Record<string, unknown> };
  singleton?: boolean;
  storage?: StorageLevel;
  retentionDays?: number;
  filters?: Filter<ChannelMessage<Parsed>>[];
  transformer?: Transformer<ChannelMessage<Parsed>>;
  contentType?: string;
  destinations?: Array<{
    name: string;
    connector: string;
    config?: Record<string, unknown>;
    filter?: Filter<DestinationInput<Parsed>>;
    transformer?: Transformer<DestinationInput<Parsed>>;
    contentType?: string;
    queue?: Partial<z.input<typeof queueSchema>>;
  }>;
  alerts?: Partial<ChannelConfig['alerts']>;
}

export function defineChannel<Parsed = unknown>(definition: ChannelDefinition<Parsed>): ChannelDefinition<Parsed> {
  return definition;
}
