// Per-channel statistics for the dashboard and the Prometheus endpoint: counters since start, rates
// over the last minute, and latency percentiles from a bounded ring of recent samples.
import client from 'prom-client';

export type StatEvent = 'received' | 'filtered' | 'errored' | 'queued' | 'sent' | 'retried' | 'dead';
const EVENTS: StatEvent[] = ['received', 'filtered', 'errored', 'queued', 'sent', 'retried', 'dead'];

class LatencyRing {
  private readonly samples: Float64Array;
  private count = 0;
  constructor(size = 2048) {
    this.samples = new Float64Array(size);
  }
  add(ms: number): void {
    this.samples[this.count % this.samples.length] = ms;
    this.count++;
  }
  percentiles(): { p50: number | null; p95: number | null; p99: number | null } {
    const n = Math.min(this.count, this.samples.length);
    if (n === 0) return { p50: null, p95: null, p99: null };
    const sorted = Array.from(this.samples.subarray(0, n)).sort((a, b) => a - b);
    const at = (q: number) => Math.round(sorted[Math.min(n - 1, Math.floor(q * n))] * 100) / 100;
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
  }
}

/** Counts per second over the last 60 seconds, for rates. */
class RateWindow {
  private readonly buckets = new Float64Array(60);
  private readonly stamps = new Float64Array(60);
  add(now = Date.now()): void {
    const second = Math.floor(now / 1000);
    const i = second % 60;
    if (this.stamps[i] !== second) {
      this.stamps[i] = second;
      this.buckets[i] = 0;
    }
    this.buckets[i]++;
  }
  perSecond(now = Date.now()): number {
    const second = Math.floor(now / 1000);
    let total = 0;
    for (let i = 0; i < 60; i++) if (second - this.stamps[i] < 60 && second - this.stamps[i] >= 1) total += this.buckets[i];
    return Math.round((total / 59) * 100) / 100;
  }
}

export interface ChannelStatsSnapshot {
  counters: Record<StatEvent, number>;
  ratesPerSecond: Record<'received' | 'sent' | 'errored', number>;
  ackLatencyMs: ReturnType<LatencyRing['percentiles']>;
  deliveryLatencyMs: ReturnType<LatencyRing['percentiles']>;
  lastMessageAt: string | null;
  lastError: { at: string; message: string } | null;
}

export class ChannelStats {
  private readonly counters = Object.fromEntries(EVENTS.map((e) => [e, 0])) as Record<StatEvent, number>;
  private readonly rates = { received: new RateWindow(), sent: new RateWindow(), errored: new RateWindow() };
  private readonly ackLatency = new LatencyRing();
  private readonly deliveryLatency = new LatencyRing();
  lastMessageAt: number | null = null;
  lastError: { at: string; message: string } | null = null;
  /** Timestamps of recent errors, for the error-rate alert. */
  recentErrors: number[] = [];

  constructor(private readonly channelId: string, private readonly metrics: EngineMetrics) {}

  count(event: StatEvent, detail?: { latencyMs?: number; error?: string; destination?: string }): void {
    this.counters[event]++;
    this.metrics.events.inc({ channel: this.channelId, event, destination: detail?.destination ?? '' });
    const now = Date.now();
    if (event === 'received') {
      this.lastMessageAt = now;
      this.rates.received.add(now);
      if (detail?.latencyMs !== undefined) {
        this.ackLatency.add(detail.latencyMs);
        this.metrics.ackLatency.observe({ channel: this.channelId }, detail.latencyMs / 1000);
      }
    }
    if (event === 'sent') {
      this.rates.sent.add(now);
      if (detail?.latencyMs !== undefined) this.deliveryLatency.add(detail.latencyMs);
    }
    if (event === 'errored' || event === 'dead') {
      this.rates.errored.add(now);
      this.recentErrors.push(now);
      if (this.recentErrors.length > 1000) this.recentErrors.splice(0, this.recentErrors.length - 1000);
      if (detail?.error) this.lastError = { at: new Date(now).toISOString(), message: detail.error };
    }
  }

  snapshot(): ChannelStatsSnapshot {
    return {
      counters: { ...this.counters },
      ratesPerSecond: { received: this.rates.received.perSecond(), sent: this.rates.sent.perSecond(), errored: this.rates.errored.perSecond() },
      ackLatencyMs: this.ackLatency.percentiles(),
      deliveryLatencyMs: this.deliveryLatency.percentiles(),
      lastMessageAt: this.lastMessageAt ? new Date(this.lastMessageAt).toISOString() : null,
      lastError: this.lastError,
    };
  }
}

/** Prometheus metrics of one engine process (a registry of its own, so tests can run several engines). */
export class EngineMetrics {
  readonly registry = new client.Registry();
  readonly events = new client.Counter({
    name: 'hisbridge_channel_events_total',
    help: 'Messages by channel and event (received, filtered, errored, queued, sent, retried, dead)',
    labelNames: ['channel', 'event', 'destination'],
    registers: [this.registry],
  });
  readonly ackLatency = new client.Histogram({
    name: 'hisbridge_ack_latency_seconds',
    help: 'Time from receipt to durable storage (when the source may acknowledge)',
    labelNames: ['channel'],
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly queueDepth = new client.Gauge({
    name: 'hisbridge_queue_depth',
    help: 'Deliveries waiting per destination (state=queued|dead)',
    labelNames: ['channel', 'destination', 'state'],
    registers: [this.registry],
  });
  readonly up = new client.Gauge({ name: 'hisbridge_store_up', help: '1 when the message store accepts writes', registers: [this.registry] });

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'hisbridge_' });
  }
}
