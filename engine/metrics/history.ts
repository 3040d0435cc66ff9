// Channel statistics history kept by the engine, so a chart opened (or reloaded) in the console shows
// the last hour or day at once instead of only what that browser saw. Every channel's counters are
// sampled on a fixed clock into bounded rings, one per tier (by default 10 s for 1 hour and 1 min
// for 24 hours): about 70 KiB per channel, in memory only (a restart starts a new history, as the
// counters themselves start again; Prometheus at /metrics is the long-term record).
// A sample holds the counters as the channel reports them (since its deployment); a chart derives
// rates from consecutive samples, so a redeploy (counters back to zero) costs one interval, not the history.
import type { ChannelStatsSnapshot, StatEvent } from './stats';

export const HISTORY_EVENTS: readonly StatEvent[] = ['received', 'filtered', 'queued', 'sent', 'errored', 'retried', 'dead'];

export interface HistoryTier {
  resolutionMs: number;
  /** Samples kept: resolutionMs × points is the window the tier covers. */
  points: number;
}

/** 10 s for the last hour, 1 min for the last 24 hours. */
export const DEFAULT_HISTORY_TIERS: readonly HistoryTier[] = [
  { resolutionMs: 10_000, points: 360 },
  { resolutionMs: 60_000, points: 1440 },
];

export interface HistoryPoint {
  /** When the sample was taken (ms since the epoch); one per resolution slot. */
  at: number;
  counters: Record<StatEvent, number>;
  ackP95: number | null;
  deliveryP95: number | null;
}

export interface HistorySeries {
  resolutionMs: number;
  /** Oldest and newest time the window asked for. */
  from: number;
  to: number;
  points: HistoryPoint[];
}

// One sample is a row of numbers: time, the counters in HISTORY_EVENTS order, then the two p95s (NaN = none).
const COLUMNS = 1 + HISTORY_EVENTS.length + 2;

/** A fixed-size ring of samples (one Float64Array, no objects per sample). */
class SampleRing {
  private readonly data: Float64Array;
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.data = new Float64Array(capacity * COLUMNS);
  }

  get newestAt(): number {
    return this.size === 0 ? -Infinity : this.data[((this.next - 1 + this.capacity) % this.capacity) * COLUMNS];
  }

  push(at: number, stats: ChannelStatsSnapshot): void {
    const row = this.next * COLUMNS;
    this.data[row] = at;
    HISTORY_EVENTS.forEach((event, i) => (this.data[row + 1 + i] = stats.counters[event] ?? 0));
    this.data[row + 1 + HISTORY_EVENTS.length] = stats.ackLatencyMs.p95 ?? NaN;
    this.data[row + 2 + HISTORY_EVENTS.length] = stats.deliveryLatencyMs.p95 ?? NaN;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** Samples from `from` on, oldest first. */
  since(from: number): HistoryPoint[] {
    const out: HistoryPoint[] = [];
    const first = (this.next - this.size + this.capacity) % this.capacity;
    for (let k = 0; k < this.size; k++) {
      const row = ((first + k) % this.capacity) * COLUMNS;
      const at = this.data[row];
      if (at < from) continue;
      const counters = {} as Record<StatEvent, number>;
      HISTORY_EVENTS.forEach((event, i) => (counters[event] = this.data[row + 1 + i]));
      const ack = this.data[row + 1 + HISTORY_EVENTS.length];
      const delivery = this.data[row + 2 + HISTORY_EVENTS.length];
      out.push({ at, counters, ackP95: Number.isNaN(ack) ? null : ack, deliveryP95: Number.isNaN(delivery) ? null : delivery });
    }
    return out;
  }
}

export interface StatsHistoryOptions {
  /** The channels and their current statistics (the engine's deployed channels). */
  channels: () => Iterable<[string, ChannelStatsSnapshot]>;
  tiers?: readonly HistoryTier[];
  now?: () => number;
}

export class StatsHistory {
  readonly tiers: readonly HistoryTier[];
  private readonly rings = new Map<string, SampleRing[]>();
  /** When each channel was last seen, so the history of a channel gone for a whole day is dropped. */
  private readonly lastSeen = new Map<string, number>();
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;

  constructor(private readonly options: StatsHistoryOptions) {
    this.tiers = [...(options.tiers ?? DEFAULT_HISTORY_TIERS)].sort((a, b) => a.resolutionMs - b.resolutionMs);
    if (this.tiers.length === 0) throw new Error('statistics history needs at least one tier');
    for (const tier of this.tiers) {
      if (!(tier.resolutionMs >= 1000 && Number.isInteger(tier.resolutionMs))) throw new Error(`history tier resolution ${tier.resolutionMs} ms: use whole milliseconds, at least 1000`);
      if (!(tier.points >= 2 && Number.isInteger(tier.points))) throw new Error(`history tier of ${tier.resolutionMs} ms keeps ${tier.points} points: at least 2`);
    }
    this.now = options.now ?? Date.now;
  }

  /** Samples on the finest tier's clock (aligned to its resolution) until stop(). */
  start(): void {
    this.stop();
    const every = this.tiers[0].resolutionMs;
    const schedule = () => {
      const now = this.now();
      this.timer = setTimeout(() => {
        this.sample();
        schedule();
      }, every - (now % every) + 5);
      this.timer.unref();
    };
    this.sample();
    schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Takes a sample for every tier whose current slot (one resolution wide) has none yet, stamped with
   * the time it was taken; calling it more often than the finest resolution changes nothing.
   */
  sample(): void {
    const now = this.now();
    for (const [channelId, stats] of this.options.channels()) {
      this.lastSeen.set(channelId, now);
      let rings = this.rings.get(channelId);
      if (!rings) this.rings.set(channelId, (rings = this.tiers.map((t) => new SampleRing(t.points))));
      this.tiers.forEach((tier, i) => {
        if (Math.floor(rings![i].newestAt / tier.resolutionMs) < Math.floor(now / tier.resolutionMs)) rings![i].push(now, stats);
      });
    }
    const longest = Math.max(...this.tiers.map((t) => t.resolutionMs * t.points));
    for (const [channelId, seen] of this.lastSeen) {
      if (now - seen > longest) {
        this.lastSeen.delete(channelId);
        this.rings.delete(channelId);
      }
    }
  }

  /** The longest window any tier covers (the largest `windowMs` worth asking for). */
  get maxWindowMs(): number {
    return Math.max(...this.tiers.map((t) => t.resolutionMs * t.points));
  }

  channelIds(): string[] {
    return [...this.rings.keys()].sort();
  }

  /** The finest tier that covers `windowMs`, and one channel's samples over it (empty if never sampled). */
  series(channelId: string, windowMs: number): HistorySeries {
    const index = this.tierFor(windowMs);
    const to = this.now();
    const from = to - windowMs;
    const ring = this.rings.get(channelId)?.[index];
    return { resolutionMs: this.tiers[index].resolutionMs, from, to, points: ring ? ring.since(from) : [] };
  }

  private tierFor(windowMs: number): number {
    const i = this.tiers.findIndex((t) => t.resolutionMs * t.points >= windowMs);
    return i === -1 ? this.tiers.length - 1 : i;
  }
}

/** `90s`, `15m`, `1h`, `24h`, `1d`, or milliseconds; throws a message naming the problem. */
export function parseWindow(text: string | undefined, fallbackMs: number, maxMs: number): number {
  if (text === undefined || text === '') return fallbackMs;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|min|h|d)?$/.exec(text.trim());
  if (!m) throw new Error(`window "${text}": use a duration such as 15m, 1h or 24h`);
  const unit = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 'ms'] ?? 1;
  const ms = Math.round(Number(m[1]) * unit);
  if (ms < 1000) throw new Error(`window "${text}" is shorter than one second`);
  if (ms > maxMs) throw new Error(`window "${text}" is longer than the ${Math.round(maxMs / 3_600_000)} h the engine keeps`);
  return ms;
}
