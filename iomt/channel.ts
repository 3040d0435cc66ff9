// IoMT inside the engine: a vitals channel is `mqtt` source → `vitalsEnvelope` transformer (keeps the
// topic and arrival time with the payload) → `iomt-vitals` destination, which hands the payload to the
// IoMT service. The engine stores every device message first, so nothing acknowledged to the broker is
// lost; the service stores each (device, message id) once, so engine redeliveries are harmless.
// `iomt-bed-assignment` takes HIS bed assignments (from an HL7 ADT or HIS-database channel).
import { z } from 'zod';
import type { ChannelDefinition, ChannelMessage, TransformContext } from '../engine/channel/definition';
import type { ConnectorDefinition, ConnectorServices, DeliveryContext, DeliveryResult, DestinationConnector, OutboundMessage } from '../engine/connectors/types';
import { PermanentDeliveryError } from '../engine/connectors/types';
import type { MqttSourceConfig } from '../connectors/mqtt/config';
import { DEFAULT_TOPIC_TEMPLATE } from './contract';
import { BindingError, type BedAssignment } from './registry';
import { IOMT_SERVICE, type IngestOutcome, type IomtService } from './service';

export const VITALS_ENVELOPE_TYPE = 'application/vnd.hisbridge.vitals-envelope+json';

/** What the `iomt-vitals` destination receives: the device payload with where and when it arrived. */
export interface VitalsEnvelope {
  topic?: string;
  receivedAt: string;
  contentType: string;
  /** The payload as UTF-8 text, or base64 when it is not valid UTF-8. */
  payload?: string;
  payloadBase64?: string;
  /** Set by the MQTT source for a payload over its size limit. */
  rejected?: string;
  size?: number;
}

/** Channel transformer: wraps the raw device payload in a VitalsEnvelope. */
export function vitalsEnvelope(message: ChannelMessage, context?: TransformContext): VitalsEnvelope {
  const deviceId = message.correlation.deviceId ?? message.origin.deviceId;
  if (deviceId) context?.setCorrelation({ deviceId });
  const text = message.raw.toString('utf8');
  const utf8 = Buffer.from(text, 'utf8').equals(message.raw);
  return {
    topic: message.origin.topic,
    receivedAt: message.receivedAt.toISOString(),
    contentType: message.contentType,
    ...(utf8 ? { payload: text } : { payloadBase64: message.raw.toString('base64') }),
    ...(message.origin.rejected ? { rejected: message.origin.rejected, size: Number(message.origin.size) } : {}),
  };
}

export function readEnvelope(content: Buffer): VitalsEnvelope {
  let e: VitalsEnvelope;
  try {
    e = JSON.parse(content.toString('utf8')) as VitalsEnvelope;
  } catch (err) {
    throw new PermanentDeliveryError(`iomt-vitals: the content is not a vitals envelope (use the vitalsEnvelope transformer): ${(err as Error).message}`);
  }
  if (typeof e !== 'object' || e === null || typeof e.receivedAt !== 'string') throw new PermanentDeliveryError('iomt-vitals: the content is not a vitals envelope (receivedAt missing)');
  return e;
}

function describe(outcomes: IngestOutcome[]): string {
  return outcomes
    .map((o) => {
      switch (o.status) {
        case 'stored':
          return `stored ${o.readings} reading(s) for ${o.visitIds.join(',')}${o.rejected.length ? `; rejected ${o.rejected.length}: ${o.rejected.map((r) => r.reason).join('; ')}` : ''}`;
        case 'unassigned':
          return `held unassigned: ${o.reason}`;
        case 'duplicate':
          return `duplicate of ${o.deviceId}/${o.messageId}`;
        case 'quarantined':
          return `quarantined (#${o.quarantineId}): ${o.reason}`;
        case 'rate-limited':
          return `dropped: ${o.reason}`;
      }
    })
    .join(' | ');
}

function requireService(services: ConnectorServices | undefined): IomtService {
  const service = services?.lookup<IomtService>(IOMT_SERVICE);
  if (!service) throw new Error(`the IoMT service is not registered (the engine must registerService('${IOMT_SERVICE}', new IomtService(...)))`);
  return service;
}

export const iomtVitalsConfigSchema = z.object({}).default({});

class IomtVitalsDestination implements DestinationConnector {
  private service?: IomtService;

  async start(services: ConnectorServices): Promise<void> {
    this.service = requireService(services);
  }

  async send(message: OutboundMessage, _ctx: DeliveryContext): Promise<DeliveryResult> {
    const service = this.service!;
    let raw: Buffer;
    let receipt: { topic?: string; contentType?: string; receivedAt?: Date };
    if (message.contentType === VITALS_ENVELOPE_TYPE || message.contentType === 'application/json' && message.content.subarray(0, 64).includes('"receivedAt"')) {
      const e = readEnvelope(message.content);
      raw = e.payloadBase64 !== undefined ? Buffer.from(e.payloadBase64, 'base64') : Buffer.from(e.payload ?? '', 'utf8');
      if (e.rejected) {
        // The source already refused the payload as too large: keep its sample and the reason.
        const outcome = await service.quarantineRejected(raw, { topic: e.topic, receivedAt: new Date(e.receivedAt) }, e.rejected, e.size);
        return { response: describe([outcome]) };
      }
      receipt = { topic: e.topic, contentType: e.contentType, receivedAt: new Date(e.receivedAt) };
    } else {
      raw = message.content;
      receipt = { contentType: message.contentType };
    }
    // Any outcome is final (stored, held, quarantined, duplicate); only a store failure throws and is retried.
    const outcomes = await service.ingestPayload(raw, receipt);
    return { response: describe(outcomes) };
  }
}

export const iomtVitalsConnector: ConnectorDefinition<z.infer<typeof iomtVitalsConfigSchema>> = {
  type: 'iomt-vitals',
  description: 'IoMT vitals: normalise, bind to the patient visit, store the time series, NEWS2 and alerts',
  configSchema: iomtVitalsConfigSchema,
  createDestination: () => new IomtVitalsDestination(),
};

/** A bed assignment as JSON (`at` ISO 8601 or epoch ms), e.g. produced from an HL7 ADT by a transformer. */
export const bedAssignmentSchema = z.object({
  visitId: z.string().min(1),
  patientId: z.string().min(1),
  patientName: z.string().optional(),
  site: z.string().optional(),
  ward: z.string().min(1),
  bed: z.string().min(1),
  event: z.enum(['assign', 'release']),
  at: z.union([z.string().min(10), z.number()]),
  by: z.string().optional(),
});

export function toBedAssignment(value: unknown): BedAssignment {
  const parsed = bedAssignmentSchema.safeParse(value);
  if (!parsed.success) throw new PermanentDeliveryError(`bed assignment: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  const a = parsed.data;
  const at = typeof a.at === 'number' ? a.at : Date.parse(a.at);
  if (Number.isNaN(at)) throw new PermanentDeliveryError(`bed assignment: at "${String(a.at)}" is not a date-time`);
  return { ...a, at };
}

class BedAssignmentDestination implements DestinationConnector {
  private service?: IomtService;

  async start(services: ConnectorServices): Promise<void> {
    this.service = requireService(services);
  }

  async send(message: OutboundMessage): Promise<DeliveryResult> {
    let value: unknown;
    try {
      value = JSON.parse(message.content.toString('utf8'));
    } catch (err) {
      throw new PermanentDeliveryError(`bed assignment: invalid JSON: ${(err as Error).message}`);
    }
    const list = Array.isArray(value) ? value : [value];
    const results: string[] = [];
    for (const item of list) {
      const a = toBedAssignment(item);
      try {
        const r = this.service!.registry.applyBedAssignment(a);
        results.push(`${a.visitId} ${a.event} ${a.ward}/${a.bed}: bound ${r.bound.map((b) => b.deviceId).join(',') || '-'}, unbound ${r.unbound.map((b) => b.deviceId).join(',') || '-'}`);
      } catch (err) {
        if (err instanceof BindingError) throw new PermanentDeliveryError(`bed assignment ${a.visitId}: ${err.message}`);
        throw err;
      }
    }
    return { response: results.join(' | ') };
  }
}

export const iomtBedAssignmentConnector: ConnectorDefinition<Record<string, never>> = {
  type: 'iomt-bed-assignment',
  description: 'IoMT: apply HIS bed assignments (bind bed-mode devices to the visit in the bed)',
  configSchema: z.object({}).strict().default({}) as unknown as z.ZodType<Record<string, never>>,
  createDestination: () => new BedAssignmentDestination(),
};

/** The vitals channel for a broker: subscribe to the device contract topics and feed the IoMT service. */
export function iomtVitalsChannel(options: { id?: string; name?: string; mqtt: Partial<MqttSourceConfig> & { url: string }; concurrency?: number }): ChannelDefinition {
  return {
    id: options.id ?? 'iomt-vitals',
    name: options.name ?? 'IoMT vitals (MQTT)',
    description: 'Bedside monitors and wearables → canonical vitals, binding, NEWS2 and alerts',
    // The IoMT database keeps the readings; the engine keeps the raw device messages for replay.
    storage: 'raw',
    source: { connector: 'mqtt', config: { topics: [DEFAULT_TOPIC_TEMPLATE], ...options.mqtt } },
    transformer: (m, ctx) => vitalsEnvelope(m, ctx) as unknown as object,
    contentType: VITALS_ENVELOPE_TYPE,
    destinations: [
      {
        name: 'iomt',
        connector: 'iomt-vitals',
        // One device's messages in order; different devices in parallel.
        queue: { orderBy: 'deviceId', concurrency: options.concurrency ?? 32, maxAttempts: 1000, initialBackoffMs: 500, maxBackoffMs: 30_000 },
      },
    ],
  };
}
