// The engine's channel statistics history (engine/metrics/history.ts) on a fake clock, and the
// GET /api/stats/history and /api/channels/{id}/stats/history routes of a whole application.
import assert from 'node:assert/strict';
import type { ChannelStatsSnapshot, StatEvent } from '../../engine/metrics/stats';
import { DEFAULT_HISTORY_TIERS, parseWindow, StatsHistory } from '../../engine/metrics/history';
import { startTestApp, type TestApp } from '../helpers/app';
import { freePort, post, waitFor } from '../helpers/engine';

function snapshot(counters: Partial<Record<StatEvent, number>>, ackP95: number | null = null): ChannelStatsSnapshot {
  return {
    counters: { received: 0, filtered: 0, errored: 0, queued: 0, sent: 0, retried: 0, dead: 0, ...counters },
    ratesPerSecond: { received: 0, sent: 0, errored: 0 },
    ackLatencyMs: { p50: null, p95: ackP95, p99: null },
    deliveryLatencyMs: { p50: null, p95: null, p99: null },
    lastMessageAt: null,
    lastError: null,
  };
}

describe('channel statistics history (sampler on a fake clock)', () => {
  const T0 = Date.UTC(2026, 10, 22, 1, 0, 0); // on a minute boundary
  let now = T0;
  let channels = new Map<string, ChannelStatsSnapshot>();
  const history = () => new StatsHistory({ channels: () => channels.entries(), now: () => now });

  beforeEach(() => {
    now = T0;
    channels = new Map();
  });

  it('keeps one sample per 10 s slot for the last hour and one per minute for the day', () => {
    const h = history();
    channels.set('lab', snapshot({ received: 0 }));
    for (let s = 0; s <= 2 * 3600; s += 5) {
      // Twice per 10 s slot: the second call of a slot must not add a sample.
      now = T0 + s * 1000;
      channels.set('lab', snapshot({ received: s, sent: Math.floor(s / 2) }));
      h.sample();
    }
    const hour = h.series('lab', 3_600_000);
    assert.equal(hour.resolutionMs, 10_000);
    assert.equal(hour.points.length, 360, 'the 10 s ring holds one hour');
    assert.equal(hour.points[hour.points.length - 1].at, now);
    assert.equal(hour.points[hour.points.length - 1].counters.received, 7200);
    for (let i = 1; i < hour.points.length; i++) assert.equal(hour.points[i].at - hour.points[i - 1].at, 10_000);
    assert.ok(hour.points.every((p) => p.at >= now - 3_600_000));

    const day = h.series('lab', 86_400_000);
    assert.equal(day.resolutionMs, 60_000);
    assert.equal(day.points.length, 121, 'two hours at one per minute (and the first)');
    assert.equal(day.points[1].counters.sent, 30);

    const short = h.series('lab', 60_000);
    assert.equal(short.resolutionMs, 10_000);
    assert.equal(short.points.length, 7, 'from now − 60 s to now, both ends included');
  });

  it('the rings stay bounded over more than a day, keeping the newest samples', () => {
    const h = history();
    for (let m = 0; m <= 26 * 60; m++) {
      now = T0 + m * 60_000;
      channels.set('lab', snapshot({ received: m }));
      h.sample();
    }
    const day = h.series('lab', 86_400_000);
    assert.equal(day.points.length, DEFAULT_HISTORY_TIERS[1].points);
    assert.equal(day.points[0].counters.received, 26 * 60 - 1439);
    assert.equal(day.points[day.points.length - 1].counters.received, 26 * 60);
  });

  it('keeps latency p95 (null when none), survives a redeploy resetting counters, and forgets a channel gone for a day', () => {
    const h = history();
    channels.set('lab', snapshot({ received: 40 }, 3.5));
    channels.set('adt', snapshot({ received: 1 }));
    h.sample();
    now += 10_000;
    channels.set('lab', snapshot({ received: 2 })); // redeployed: counting again from zero
    channels.delete('adt');
    h.sample();
    const lab = h.series('lab', 60_000).points;
    assert.deepEqual(lab.map((p) => p.counters.received), [40, 2]);
    assert.deepEqual(lab.map((p) => p.ackP95), [3.5, null]);
    assert.deepEqual(h.channelIds(), ['adt', 'lab'], 'an undeployed channel keeps its history for a while');
    now += 86_400_000 + 60_000;
    h.sample();
    assert.deepEqual(h.channelIds(), ['lab']);
    assert.deepEqual(h.series('nothing', 60_000).points, []);
  });

  it('start() samples at once and then on the resolution clock; stop() leaves no timer', async () => {
    const h = new StatsHistory({ channels: () => [['lab', snapshot({ received: 1 })]], tiers: [{ resolutionMs: 1000, points: 10 }] });
    h.start();
    assert.equal(h.series('lab', 10_000).points.length, 1);
    await waitFor(() => h.series('lab', 10_000).points.length >= 2, 5000, 'a second sample a second later');
    h.stop();
    const count = h.series('lab', 10_000).points.length;
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(h.series('lab', 10_000).points.length, count);
  });

  it('refuses tiers and windows that make no sense, with the reason', () => {
    assert.throws(() => new StatsHistory({ channels: () => [], tiers: [] }), /at least one tier/);
    assert.throws(() => new StatsHistory({ channels: () => [], tiers: [{ resolutionMs: 10, points: 5 }] }), /at least 1000/);
    assert.equal(parseWindow(undefined, 3_600_000, 86_400_000), 3_600_000);
    assert.equal(parseWindow('15m', 0, 86_400_000), 900_000);
    assert.equal(parseWindow('24h', 0, 86_400_000), 86_400_000);
    assert.equal(parseWindow('90s', 0, 86_400_000), 90_000);
    assert.throws(() => parseWindow('2d', 0, 86_400_000), /longer than the 24 h the engine keeps/);
    assert.throws(() => parseWindow('soon', 0, 86_400_000), /use a duration such as 15m/);
    assert.throws(() => parseWindow('10ms', 0, 86_400_000), /shorter than one second/);
  });
});

describe('GET /api/stats/history and /api/channels/{id}/stats/history', function () {
  this.timeout(30_000);
  let app: TestApp;
  let port: number;

  before(async () => {
    port = await freePort();
    app = await startTestApp({
      channels: {
        'in.channel.ts': `import { defineChannel } from ${JSON.stringify(require.resolve('../../engine/channel/definition'))};
export default defineChannel({ id: 'http-in', name: 'HTTP in', source: { connector: 'http', config: { port: ${port} } }, destinations: [] });`,
      },
      historyTiers: [{ resolutionMs: 1000, points: 120 }, { resolutionMs: 60_000, points: 60 }],
    });
  });
  after(async () => app?.cleanup());

  it('answers the sampled counters of every channel and of one, at the tier that covers the window', async () => {
    const viewer = await app.tokenFor('viewer');
    for (let i = 0; i < 3; i++) assert.equal((await post(`http://127.0.0.1:${port}/`, `message ${i}`)).status, 200);
    await waitFor(() => app.statsHistory.series('http-in', 60_000).points.some((p) => p.counters.received === 3), 10_000, 'a sample after the messages');

    const all = await app.api('GET', '/api/stats/history?window=2m', viewer);
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.equal(all.body.resolutionMs, 1000);
    assert.equal(all.body.windowMs, 120_000);
    const points = all.body.channels['http-in'];
    assert.ok(points.length >= 2, `${points.length} points`);
    assert.equal(points[0].counters.received, 0, 'the first sample was taken at start, before any message');
    assert.equal(points[points.length - 1].counters.received, 3);
    assert.ok(points.every((p: any) => typeof p.at === 'number' && p.at >= all.body.from && p.at <= all.body.to));

    const one = await app.api('GET', '/api/channels/http-in/stats/history?window=1h', viewer);
    assert.equal(one.status, 200);
    assert.equal(one.body.channelId, 'http-in');
    assert.equal(one.body.resolutionMs, 60_000, 'an hour is beyond the 2-minute fine tier');
    assert.ok(one.body.points.length >= 1);
  });

  it('refuses a bad window (400), an unknown channel (404) and a missing token (401)', async () => {
    const viewer = await app.tokenFor('viewer');
    const bad = await app.api('GET', '/api/stats/history?window=forever', viewer);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'window');
    const tooLong = await app.api('GET', '/api/channels/http-in/stats/history?window=2d', viewer);
    assert.equal(tooLong.status, 400);
    assert.match(tooLong.body.error, /longer than/);
    const unknown = await app.api('GET', '/api/channels/nope/stats/history', viewer);
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error, /"nope" is not deployed and has no history/);
    assert.equal((await app.api('GET', '/api/stats/history')).status, 401);
    const clinician = await app.tokenFor('clinician');
    assert.equal((await app.api('GET', '/api/stats/history', clinician)).status, 403);
  });
});
