// MQTT publisher: the `mqtt-publish` destination (ward displays, other MQTT consumers) and the client the
// IoMT alert sink uses. A send succeeds when the broker acknowledged the publish (QoS 1 PUBACK); while
// the broker is unreachable it fails at once so the engine queue retries later, rather than piling up
// in the MQTT client's memory.
import mqtt, { type MqttClient } from 'mqtt';
import { PermanentDeliveryError, type ConnectorServices, type DeliveryContext, type DeliveryResult, type DestinationConnector, type OutboundMessage } from '../../engine/connectors/types';
import { clientOptions, displayUrl, type MqttPublishConfig } from './config';
import { fillTopic } from './topics';

export class MqttPublisher {
  private client?: MqttClient;
  private lastError?: string;

  constructor(
    readonly config: Omit<MqttPublishConfig, 'topic'> & { topic?: string },
    private readonly defaults: { clientId: string; certsDir?: string },
  ) {}

  /** Connects (waiting up to connectTimeoutMs); keeps reconnecting in the background afterwards. */
  async connect(): Promise<void> {
    if (this.client) return;
    const options = clientOptions(this.config, this.defaults);
    options.clean = true;
    const client = mqtt.connect(this.config.url, options);
    this.client = client;
    client.on('error', (err) => (this.lastError = err.message));
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, this.config.connectTimeoutMs);
      timer.unref();
      client.once('connect', done);
    });
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  async publish(topic: string, payload: Buffer | string, options: { qos?: 0 | 1; retain?: boolean; userProperties?: Record<string, string>; contentType?: string } = {}): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('mqtt publisher is not started');
    if (!client.connected) throw new Error(`not connected to ${displayUrl(this.config.url)}${this.lastError ? `: ${this.lastError}` : ''}`);
    const properties = this.config.protocolVersion === 5 ? { userProperties: options.userProperties, contentType: options.contentType } : undefined;
    const publish = client.publishAsync(topic, payload, { qos: options.qos ?? this.config.qos, retain: options.retain ?? this.config.retain, properties });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no PUBACK from ${displayUrl(this.config.url)} within ${this.config.publishTimeoutMs} ms`)), this.config.publishTimeoutMs);
    });
    try {
      await Promise.race([publish, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(false).catch(() => client.end(true));
  }
}

/** Values for `{name}` in a topic: correlation keys, then top-level fields of a JSON body (and of its `alert`). */
export function topicValues(message: Pick<OutboundMessage, 'content' | 'contentType' | 'correlation'>): Record<string, string> {
  const values: Record<string, string> = {};
  if (/json/i.test(message.contentType) || message.content[0] === 0x7b) {
    try {
      const body = JSON.parse(message.content.toString('utf8')) as Record<string, unknown>;
      const take = (o: unknown) => {
        if (!o || typeof o !== 'object') return;
        for (const [k, v] of Object.entries(o)) if (typeof v === 'string' || typeof v === 'number') values[k] = String(v);
      };
      take(body.alert);
      take(body);
    } catch {
      // not JSON after all: only correlation keys
    }
  }
  for (const [k, v] of Object.entries(message.correlation)) if (v) values[k] = v;
  return values;
}

export class MqttPublishDestination implements DestinationConnector {
  private publisher?: MqttPublisher;

  constructor(private readonly config: MqttPublishConfig) {}

  async start(services: ConnectorServices): Promise<void> {
    this.publisher = new MqttPublisher(this.config, { clientId: `hisbridge-pub-${process.pid}-${Math.random().toString(36).slice(2, 8)}`, certsDir: services.certsDir });
    await this.publisher.connect();
  }

  async send(message: OutboundMessage, ctx: DeliveryContext): Promise<DeliveryResult> {
    if (!this.publisher) throw new Error('mqtt-publish destination is not started');
    let topic: string;
    try {
      topic = fillTopic(this.config.topic, topicValues(message));
    } catch (err) {
      // A topic that cannot be built from this message will not be buildable on retry either.
      throw new PermanentDeliveryError(`mqtt-publish: ${(err as Error).message}`);
    }
    await this.publisher.publish(topic, message.content, { userProperties: { 'idempotency-key': ctx.idempotencyKey }, contentType: message.contentType });
    return { response: `published to ${topic}` };
  }

  async stop(): Promise<void> {
    await this.publisher?.close();
  }
}
