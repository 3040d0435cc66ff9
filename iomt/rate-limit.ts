// Per-device token buckets: a device may send `ratePerSecond` messages a second on average with bursts
// of `burst`. A flooding device is cut back to its rate; every other device's bucket is its own, so
// their streams are untouched. Drops are counted per window so they can be reported once, not per message.
// The clock is the caller's: the IoMT service refills on the device's own timestamps, so a backlog
// re-sent after an outage (hours of readings arriving in seconds) is not mistaken for a flood.

export interface RateLimitOptions {
  ratePerSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
  rate: number;
  burst: number;
  /** Drops since the last report. */
  dropped: number;
  firstDropAt?: number;
  lastDropAt?: number;
}

export interface DropReport {
  key: string;
  dropped: number;
  from: number;
  to: number;
  ratePerSecond: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly defaults: RateLimitOptions) {}

  /** Takes one token; false when the key is over its rate. `rate` overrides the default for this key. */
  take(key: string, now: number, rate?: number): boolean {
    let b = this.buckets.get(key);
    const r = rate ?? this.defaults.ratePerSecond;
    const burst = Math.max(this.defaults.burst, r);
    if (!b) {
      b = { tokens: burst, updatedAt: now, rate: r, burst, dropped: 0 };
      this.buckets.set(key, b);
    }
    b.rate = r;
    b.burst = burst;
    // `now` may go backwards (late messages timed by the device): never refill on a step back.
    const elapsed = Math.max(0, now - b.updatedAt);
    b.tokens = Math.min(b.burst, b.tokens + (elapsed / 1000) * b.rate);
    b.updatedAt = Math.max(b.updatedAt, now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    b.dropped++;
    b.firstDropAt ??= now;
    b.lastDropAt = now;
    return false;
  }

  /** Keys that dropped messages since the last call, with counts (and resets the counts). */
  drainReports(): DropReport[] {
    const out: DropReport[] = [];
    for (const [key, b] of this.buckets) {
      if (b.dropped > 0) {
        out.push({ key, dropped: b.dropped, from: b.firstDropAt!, to: b.lastDropAt!, ratePerSecond: b.rate });
        b.dropped = 0;
        b.firstDropAt = undefined;
        b.lastDropAt = undefined;
      }
    }
    return out;
  }

  /** Forget idle keys (full buckets) so the map does not grow with every device ever seen. */
  prune(now: number, idleMs = 10 * 60_000): void {
    for (const [key, b] of this.buckets) if (b.dropped === 0 && now - b.updatedAt > idleMs) this.buckets.delete(key);
  }
}
