// MQTT source: subscribes with QoS 1 on a persistent session and acknowledges (PUBACK) each message only
// after the engine stored it. While the engine is down the broker queues for us; whatever we received
// but had not acknowledged is re-sent when we reconnect. So a restart loses nothing; a message can
// arrive twice (stored before the PUBACK got out), which the consumer deduplicates on the device's
// message id.
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { InboundMessage, ReceiptResult, SourceConnector, SourceContext } from '../../engine/connectors/types';
import { clientOptions, displayUrl, type MqttSourceConfig } from './config';
import { CachedTopicMatcher, compileTopicTemplate, filterMatches } from './topics';

/** mqtt.js internals this source relies on (pinned mqtt 5.16.0; see PubackGate). */
interface MqttClientInternals {
  _sendPacket(packet: { cmd: string; messageId?: number; reasonCode?: number }, cb?: (err?: Error) => void, cbStorePut?: () => void, noStore?: boolean): void;
}

interface Pending {
  messageId: number;
  /** The PUBACK mqtt.js wanted to send, held until the message is stored. */
  send?: () => void;
  stored: boolean;
}

/**
 * mqtt.js sends a PUBACK from inside its one-packet-at-a-time input loop, as soon as `handleMessage`
 * calls back. Waiting there for the store would process one message at a time. Instead handleMessage
 * calls back at once and this gate holds the PUBACK mqtt.js then tries to send, releasing PUBACKs in
 * arrival order (MQTT 3.1.1 §4.6) once each message is stored. A gate belongs to one connection: after
 * a disconnect its held PUBACKs are dropped and the broker re-sends those messages.
 */
class PubackGate {
  readonly pending: Pending[] = [];
  private readonly byId = new Map<number, Pending>();
  closed = false;

  expect(messageId: number): Pending {
    const p: Pending = { messageId, stored: false };
    this.pending.push(p);
    this.byId.set(messageId, p);
    return p;
  }

  /**
   * Called for every PUBACK mqtt.js tries to send. One for a message of this connection is held until
   * the message is stored; any other (a callback from a connection that has since closed) is dropped,
   * because only a stored message may be acknowledged and the broker re-sends the rest.
   */
  intercept(messageId: number | undefined, send: () => void): void {
    const p = messageId === undefined ? undefined : this.byId.get(messageId);
    if (!p || p.send || this.closed) return;
    p.send = send;
    this.release();
  }

  markStored(p: Pending): void {
    p.stored = true;
    this.release();
  }

  private release(): void {
    if (this.closed) return;
    while (this.pending.length > 0 && this.pending[0].stored && this.pending[0].send) {
      const p = this.pending.shift()!;
      this.byId.delete(p.messageId);
      p.send!();
    }
  }

  get size(): number {
    return this.pending.length;
  }
}

export class MqttSource implements SourceConnector {
  private client?: MqttClient;
  private ctx?: SourceContext;
  private gate = new PubackGate();
  private readonly templates: Array<{ filter: string; template?: CachedTopicMatcher }>;
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly waitingForRoom: Array<() => void> = [];
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  readonly counters = { received: 0, acknowledged: 0, retried: 0, oversized: 0, reconnects: 0, sessionResumed: 0 };
  private state: 'connected' | 'disconnected' | 'error' = 'disconnected';
  private readonly brokerName: string;
  private lastError?: string;

  constructor(readonly config: MqttSourceConfig) {
    this.brokerName = displayUrl(config.url);
    this.templates = config.topics.map((t) => {
      if (/\{[A-Za-z]/.test(t)) {
        const compiled = compileTopicTemplate(t);
        return { filter: compiled.filter, template: new CachedTopicMatcher(compiled) };
      }
      return { filter: t };
    });
  }

  async start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    this.stopping = false;
    const options = clientOptions(this.config, { clientId: `hisbridge-${ctx.channelId}`, certsDir: ctx.certsDir });
    options.clean = this.config.clean;
    options.resubscribe = false; // we subscribe on every connect ourselves
    if (this.config.protocolVersion === 5) {
      options.properties = { sessionExpiryInterval: this.config.clean ? 0 : this.config.sessionExpirySeconds, receiveMaximum: Math.min(65535, this.config.maxInFlight) };
    }
    options.manualConnect = true;
    const client = mqtt.connect(this.config.url, options);
    this.client = client;
    this.installGate(client);
    client.handleMessage = (packet, callback) => this.onPublish(packet, callback);

    let firstConnect: () => void = () => {};
    const connected = new Promise<void>((resolve) => (firstConnect = resolve));
    client.on('connect', (connack) => {
      // A fresh gate per connection: PUBACKs held for the old one must never go out on this one.
      this.gate.closed = true;
      this.gate = new PubackGate();
      if (connack.sessionPresent) this.counters.sessionResumed++;
      this.subscribe(client)
        .then(() => {
          this.setState('connected', connack.sessionPresent ? 'session resumed' : 'new session');
          firstConnect();
        })
        .catch((err: Error) => {
          this.setState('error', `subscribe failed: ${err.message}`);
          ctx.log.error(`mqtt source ${ctx.channelId}: subscribe failed: ${err.message}`);
        });
    });
    // The first attempt's outcome (connected, refused, TLS or auth failure) ends start().
    let firstAttemptFailed: () => void = () => {};
    const failed = new Promise<void>((resolve) => (firstAttemptFailed = resolve));
    client.on('reconnect', () => this.counters.reconnects++);
    client.on('close', () => {
      this.gate.closed = true;
      if (!this.stopping) this.setState('disconnected', this.lastError);
      firstAttemptFailed();
    });
    client.on('error', (err) => {
      this.lastError = err.message;
      this.setState('error', err.message);
      ctx.log.warn(`mqtt source ${ctx.channelId} (${displayUrl(this.config.url)}): ${err.message}`);
      firstAttemptFailed();
    });
    this.setState('disconnected', 'connecting');
    client.connect();
    // Start does not fail when the broker is down: the source keeps reconnecting and the dashboard says so.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([connected, failed, new Promise<void>((r) => (timer = setTimeout(r, this.config.connectTimeoutMs)))]);
    clearTimeout(timer);
  }

  private installGate(client: MqttClient): void {
    const internals = client as unknown as MqttClientInternals;
    const original = internals._sendPacket.bind(client);
    if (typeof original !== 'function') throw new Error('mqtt.js internals changed: _sendPacket is missing (pinned mqtt 5.16.0 expected)');
    internals._sendPacket = (packet, cb, cbStorePut, noStore) => {
      if (packet.cmd !== 'puback') return original(packet, cb, cbStorePut, noStore);
      this.gate.intercept(packet.messageId, () => original(packet, undefined, cbStorePut, noStore));
      cb?.(); // let mqtt.js read the next packet now; the PUBACK goes out when the message is stored
    };
  }

  private async subscribe(client: MqttClient): Promise<void> {
    const filters = this.templates.map((t) => (this.config.shareGroup ? `$share/${this.config.shareGroup}/${t.filter}` : t.filter));
    const granted = await client.subscribeAsync(filters, { qos: this.config.qos });
    const refused = granted.filter((g) => g.qos === 128);
    if (refused.length) throw new Error(`broker refused subscription to ${refused.map((g) => g.topic).join(', ')}`);
  }

  private onPublish(packet: IPublishPacket, callback: (err?: Error) => void): void {
    const ctx = this.ctx!;
    this.counters.received++;
    const qos1 = packet.qos > 0 && packet.messageId !== undefined;
    const gate = this.gate;
    const pending = qos1 ? gate.expect(packet.messageId!) : undefined;
    const work = this.handle(ctx, packet).then(
      () => {
        if (pending) {
          this.counters.acknowledged++;
          gate.markStored(pending);
        }
      },
      (err: Error) => {
        // Not stored and not acknowledged: the broker re-sends it after the next reconnect.
        ctx.log.error(`mqtt source ${ctx.channelId}: message on ${packet.topic} not stored: ${err.message}`);
      },
    );
    this.inFlight.add(work);
    void work.finally(() => {
      this.inFlight.delete(work);
      while (this.waitingForRoom.length && this.inFlight.size < this.config.maxInFlight) this.waitingForRoom.shift()!();
    });
    // Backpressure: past maxInFlight, stop reading the socket until the store catches up.
    if (this.inFlight.size >= this.config.maxInFlight) this.waitingForRoom.push(() => callback());
    else callback();
  }

  private async handle(ctx: SourceContext, packet: IPublishPacket): Promise<void> {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const origin: Record<string, string> = { topic: packet.topic, broker: this.brokerName, qos: packet.qos === 1 ? '1' : String(packet.qos) };
    if (packet.dup) origin.dup = 'true';
    if (packet.retain) origin.retain = 'true';
    const correlation: InboundMessage['correlation'] = {};
    for (const t of this.templates) {
      const params = t.template ? t.template.match(packet.topic) : filterMatches(t.filter, packet.topic) ? {} : undefined;
      if (!params) continue;
      Object.assign(origin, params);
      if (params.deviceId) correlation.deviceId = params.deviceId;
      break;
    }
    const props = packet.properties;
    const contentType = props?.contentType ?? this.config.contentType;
    let inbound: InboundMessage;
    if (payload.length > this.config.maxPayloadBytes) {
      // Kept (the first bytes) and flagged, never passed on whole: a huge payload must not fill the store.
      this.counters.oversized++;
      inbound = {
        raw: payload.subarray(0, 1024),
        contentType: 'application/vnd.hisbridge.rejected',
        origin: { ...origin, rejected: `payload of ${payload.length} bytes exceeds maxPayloadBytes ${this.config.maxPayloadBytes}; first 1024 bytes kept`, size: String(payload.length) },
        correlation,
        meta: { rejected: 'payload too large' },
      };
    } else {
      inbound = { raw: payload, contentType, origin, correlation };
    }
    if (props?.userProperties) {
      for (const [k, v] of Object.entries(props.userProperties)) origin[`user.${k}`] = Array.isArray(v) ? v.join(',') : String(v);
    }
    let delay = 250;
    for (;;) {
      const result: ReceiptResult = await ctx.receive(inbound, { waitFor: this.config.ackMode });
      if (result.status !== 'unavailable') {
        if (result.status === 'errored') ctx.log.warn(`mqtt source ${ctx.channelId}: message ${result.messageId} on ${packet.topic} stored as errored: ${result.error.split('\n')[0]}`);
        return;
      }
      // The store refused (full disk, shutting down): keep the message unacknowledged and try again.
      if (this.stopping) throw new Error(`store unavailable during shutdown: ${result.error}`);
      this.counters.retried++;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.retryTimers.delete(timer);
          resolve();
        }, delay);
        this.retryTimers.add(timer);
      });
      if (this.stopping) throw new Error(`store unavailable during shutdown: ${result.error}`);
      delay = Math.min(delay * 2, 5000);
    }
  }

  private setState(state: 'connected' | 'disconnected' | 'error', detail?: string): void {
    this.state = state;
    this.ctx?.reportConnection({
      id: 'broker',
      state,
      detail: `${displayUrl(this.config.url)} as ${this.client?.options.clientId ?? '?'}${detail ? `: ${detail}` : ''}`,
      counters: { ...this.counters, inFlight: this.inFlight.size },
    });
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** Stops reading, lets in-flight messages finish storing and their PUBACKs go out, then disconnects. */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    for (const resume of this.waitingForRoom.splice(0)) resume();
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, 10_000).unref())]);
    this.client = undefined;
    await client.endAsync(false).catch(() => client.end(true));
    this.ctx?.reportConnection({ id: 'broker', state: 'stopped' });
  }

  /** Simulates a crash in tests and benchmarks: drops the connection without sending anything more. */
  async kill(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    this.gate.closed = true;
    this.client = undefined;
    for (const t of this.retryTimers) clearTimeout(t);
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }
}
