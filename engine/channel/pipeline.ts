// The pure part of a channel: filters, transformer and per-destination filter/transformer applied to
// one message, producing what the store must keep. No I/O, so `hisbridge test-channel` and unit
// tests run exactly what the engine runs.
import type { Correlation, InboundMessage } from '../connectors/types';
import type { NewDelivery, StageContent } from '../store/types';
import type { ChannelConfig, ChannelMessage, DestinationInput, TransformContext, TransformOutput } from './definition';

export interface StageTrace {
  stage: string;
  outcome: 'passed' | 'filtered' | 'transformed' | 'error';
  detail?: string;
  output?: string;
}

export interface PipelineResult {
  status: 'QUEUED' | 'FILTERED' | 'ERROR';
  error?: string;
  filteredReason?: string;
  correlation: Correlation;
  meta: Record<string, string>;
  /** Transformer output and per-destination outputs (the raw stage is added by the caller). */
  contents: StageContent[];
  deliveries: NewDelivery[];
  trace: StageTrace[];
}

export function serializeOutput(output: TransformOutput, fallbackType: string): { data: Buffer; contentType: string } {
  if (Buffer.isBuffer(output)) return { data: output, contentType: fallbackType };
  if (typeof output === 'string') return { data: Buffer.from(output, 'utf8'), contentType: fallbackType === 'application/octet-stream' ? 'text/plain' : fallbackType };
  return { data: Buffer.from(JSON.stringify(output), 'utf8'), contentType: 'application/json' };
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}

function preview(data: Buffer): string {
  const text = data.toString('utf8');
  return text.length > 2000 ? text.slice(0, 2000) + '…' : text;
}

export function toChannelMessage(channelId: string, inbound: InboundMessage, receivedAt: Date, id = 0): ChannelMessage {
  return {
    id,
    channelId,
    receivedAt,
    raw: inbound.raw,
    contentType: inbound.contentType,
    get text() {
      return inbound.raw.toString('utf8');
    },
    parsed: inbound.parsed,
    origin: inbound.origin ?? {},
    correlation: { ...(inbound.correlation ?? {}) },
    meta: { ...(inbound.meta ?? {}) },
  };
}

export async function runPipeline(
  channel: ChannelConfig,
  message: ChannelMessage,
  options: { onlyDestinations?: string[] } = {},
): Promise<PipelineResult> {
  const correlation: Correlation = { ...message.correlation };
  const meta: Record<string, string> = { ...message.meta };
  const trace: StageTrace[] = [];
  const context: TransformContext = {
    setCorrelation: (keys) => Object.assign(correlation, Object.fromEntries(Object.entries(keys).filter(([, v]) => v !== undefined && v !== ''))),
    setMeta: (key, value) => {
      meta[key] = value;
    },
  };
  const base = { correlation, meta, trace };

  // A source that could not decode the bytes says so; the message is kept as errored, never dropped.
  if (meta.parseError) {
    trace.push({ stage: 'source', outcome: 'error', detail: meta.parseError });
    return { ...base, status: 'ERROR', error: meta.parseError, contents: [], deliveries: [] };
  }

  let stage = 'filter';
  try {
    for (let i = 0; i < channel.filters.length; i++) {
      stage = `filter[${i}]`;
      const verdict = await (channel.filters[i] as (m: ChannelMessage) => boolean | string | Promise<boolean | string>)(message);
      if (verdict !== true) {
        const reason = typeof verdict === 'string' ? verdict : `rejected by filter ${i}`;
        trace.push({ stage, outcome: 'filtered', detail: reason });
        return { ...base, status: 'FILTERED', filteredReason: reason, contents: [], deliveries: [] };
      }
      trace.push({ stage, outcome: 'passed' });
    }

    stage = 'transformer';
    let value: unknown = message.raw;
    let transformed = { data: message.raw, contentType: channel.contentType ?? message.contentType };
    const contents: StageContent[] = [];
    if (channel.transformer) {
      value = await (channel.transformer as (m: ChannelMessage, c: TransformContext) => TransformOutput | Promise<TransformOutput>)(message, context);
      transformed = serializeOutput(value as TransformOutput, channel.contentType ?? message.contentType);
      if (channel.contentType) transformed.contentType = channel.contentType;
      contents.push({ stage: 'transformed', contentType: transformed.contentType, data: transformed.data });
      trace.push({ stage, outcome: 'transformed', output: preview(transformed.data) });
    }

    const deliveries: NewDelivery[] = [];
    for (const destination of channel.destinations) {
      if (options.onlyDestinations && !options.onlyDestinations.includes(destination.name)) continue;
      const input: DestinationInput = { message, content: transformed.data, contentType: transformed.contentType, value };
      stage = `destination:${destination.name}:filter`;
      if (destination.filter) {
        const verdict = await (destination.filter as (i: DestinationInput) => boolean | string | Promise<boolean | string>)(input);
        if (verdict !== true) {
          const reason = typeof verdict === 'string' ? verdict : 'rejected by destination filter';
          trace.push({ stage, outcome: 'filtered', detail: reason });
          deliveries.push({ destination: destination.name, status: 'FILTERED', content: Buffer.alloc(0), contentType: transformed.contentType, orderKey: null, maxAttempts: 0, reason });
          continue;
        }
      }
      let out = transformed;
      stage = `destination:${destination.name}:transformer`;
      if (destination.transformer) {
        const produced = await (destination.transformer as (i: DestinationInput, c: TransformContext) => TransformOutput | Promise<TransformOutput>)(input, context);
        out = serializeOutput(produced as TransformOutput, destination.contentType ?? transformed.contentType);
        if (destination.contentType) out.contentType = destination.contentType;
        contents.push({ stage: `destination:${destination.name}`, contentType: out.contentType, data: out.data });
        trace.push({ stage, outcome: 'transformed', output: preview(out.data) });
      }
      deliveries.push({
        destination: destination.name,
        status: 'QUEUED',
        content: out.data,
        contentType: out.contentType,
        orderKey: orderKeyFor(destination.queue.orderBy, correlation, channel.id),
        maxAttempts: destination.queue.maxAttempts,
      });
    }
    const anyQueued = deliveries.some((d) => d.status === 'QUEUED');
    return { ...base, status: anyQueued || deliveries.length === 0 ? 'QUEUED' : 'FILTERED', filteredReason: anyQueued ? undefined : 'every destination filtered it', contents, deliveries };
  } catch (error) {
    const text = `${stage}: ${errorText(error)}`;
    trace.push({ stage, outcome: 'error', detail: text });
    return { ...base, status: 'ERROR', error: text, contents: [], deliveries: [] };
  }
}

function orderKeyFor(orderBy: string, correlation: Correlation, channelId: string): string | null {
  switch (orderBy) {
    case 'none':
      return null;
    case 'channel':
      return channelId;
    default: {
      const value = correlation[orderBy as keyof Correlation];
      // A message without the key has nothing to stay in order with.
      return value ? `${orderBy}:${value}` : null;
    }
  }
}
