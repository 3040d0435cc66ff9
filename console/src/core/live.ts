// Live updates: one EventSource on GET /api/events for the whole session (the engine pushes channel
// state, connection and alert events, and a stats snapshot every 2 s). The hub keeps a rolling history
// of every channel's counters so charts have data as soon as a page opens, even after navigating; it
// starts from the engine's own sampled history (GET /api/stats/history), so a reload loses nothing.
import { api, ApiError, currentSession } from './api';
import type { ChannelStats, StatEvent } from './types';

export interface StatsPoint {
  at: number;
  counters: Record<StatEvent, number>;
  ackP95: number | null;
  deliveryP95: number | null;
}

export type LiveEvent = 'stats' | 'channel' | 'connection' | 'alert' | 'alert-cleared' | 'hello' | 'status';
type Listener = (data: any) => void;

/** 30 minutes at one snapshot per 2 s. */
const HISTORY_POINTS = 900;

export class LiveHub {
  private source: EventSource | undefined;
  private readonly listeners = new Map<LiveEvent, Set<Listener>>();
  private readonly history = new Map<string, StatsPoint[]>();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryMs = 1000;
  connected = false;
  lastEventAt = 0;

  start(): void {
    this.stop();
    const session = currentSession();
    if (!session) return;
    const source = new EventSource(`/api/events?access_token=${encodeURIComponent(session.token)}`);
    this.source = source;
    const events: LiveEvent[] = ['stats', 'channel', 'connection', 'alert', 'alert-cleared', 'hello'];
    for (const event of events) {
      source.addEventListener(event, (e) => {
        this.lastEventAt = Date.now();
        let data: unknown;
        try {
          data = JSON.parse((e as MessageEvent).data);
        } catch {
          return;
        }
        if (event === 'stats') this.record(data as { at: string; channels: Record<string, ChannelStats> });
        this.emit(event, data);
      });
    }
    source.onopen = () => {
      this.retryMs = 1000;
      this.setConnected(true);
    };
    source.onerror = () => {
      this.setConnected(false);
      // A refused stream (401/403) is not retried by the browser; retry ourselves, after checking
      // the session still works (an expired one sends the user back to the login page).
      if (source.readyState === EventSource.CLOSED) {
        this.source = undefined;
        this.retryTimer = setTimeout(() => void this.reconnect(), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 30_000);
      }
    };
  }

  private async reconnect(): Promise<void> {
    if (!currentSession()) return;
    try {
      await api.get('/api/me');
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return;
    }
    this.start();
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.source?.close();
    this.source = undefined;
    this.setConnected(false);
  }

  /** Forgets everything (at logout: the next user starts with an empty history). */
  reset(): void {
    this.stop();
    this.history.clear();
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.emit('status', { connected });
  }

  on(event: LiveEvent, listener: Listener): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  private emit(event: LiveEvent, data: unknown): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        listener(data);
      } catch (error) {
        console.error(`live ${event} listener failed`, error);
      }
    }
  }

  /** Adds a snapshot (also used with the stats a page fetched itself, so a chart starts at once). */
  record(snapshot: { at: string; channels: Record<string, ChannelStats> }): void {
    const at = Date.parse(snapshot.at) || Date.now();
    for (const [channelId, stats] of Object.entries(snapshot.channels)) {
      let points = this.history.get(channelId);
      if (!points) this.history.set(channelId, (points = []));
      const last = points[points.length - 1];
      if (last && at - last.at < 500) continue;
      // A restarted engine starts counting from zero: start the history again.
      if (last && stats.counters.received < last.counters.received) points.length = 0;
      points.push({ at, counters: { ...stats.counters }, ackP95: stats.ackLatencyMs.p95, deliveryP95: stats.deliveryLatencyMs.p95 });
      if (points.length > HISTORY_POINTS) points.splice(0, points.length - HISTORY_POINTS);
    }
  }

  /**
   * Merges points the engine sampled (10 s or 1 min apart) with those this tab received: both are the
   * engine's cumulative counters, so rates between any two consecutive points are right.
   */
  mergeHistory(channels: Record<string, StatsPoint[]>): void {
    for (const [channelId, sampled] of Object.entries(channels)) {
      const merged = [...(this.history.get(channelId) ?? []), ...sampled].sort((a, b) => a.at - b.at);
      const kept: StatsPoint[] = [];
      for (const point of merged) if (!kept.length || point.at - kept[kept.length - 1].at >= 500) kept.push(point);
      if (kept.length > HISTORY_POINTS) kept.splice(0, kept.length - HISTORY_POINTS);
      this.history.set(channelId, kept);
    }
  }

  /** Loads the engine's history of every channel over `window` (e.g. `30m`); an engine without one is fine. */
  async loadHistory(window = '30m'): Promise<void> {
    try {
      const body = await api.get<{ channels: Record<string, StatsPoint[]> }>(`/api/stats/history?window=${encodeURIComponent(window)}`);
      this.mergeHistory(body.channels);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
  }

  historyOf(channelId: string): StatsPoint[] {
    return this.history.get(channelId) ?? [];
  }
}

/** Per-second rates between consecutive snapshots, for charts. */
export function ratesOf(points: StatsPoint[], events: StatEvent[]): Array<{ at: number; values: number[] }> {
  const out: Array<{ at: number; values: number[] }> = [];
  for (let i = 1; i < points.length; i++) {
    const seconds = (points[i].at - points[i - 1].at) / 1000;
    if (seconds <= 0) continue;
    out.push({ at: points[i].at, values: events.map((e) => Math.max(0, (points[i].counters[e] - points[i - 1].counters[e]) / seconds)) });
  }
  return out;
}

export const live = new LiveHub();
