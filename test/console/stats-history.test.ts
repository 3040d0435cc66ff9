// The dashboard's charts start from the engine's own statistics history: after a reload (a fresh page,
// nothing in the browser's memory) with the live event stream blocked, the chart still has points;
// once the stream is let through, live snapshots continue the same chart. The channel page offers
// 15 min / 1 h / 24 h.
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app';
import { freePort, post, waitFor } from '../helpers/engine';
import { requirePeers } from '../helpers/peers';
import { buildConsoleForTest, CHROMIUM, launchBrowser, login, screenshot, type TestBrowser } from './helpers';

const channelFile = (port: number) => `
import { defineChannel } from ${JSON.stringify(require.resolve('../../engine/channel/definition'))};
export default defineChannel({ id: 'hist-in', name: 'Nhận kết quả', source: { connector: 'http', config: { port: ${port} } }, destinations: [] });
`;

describe('web console: chart history from the engine in headless Chromium', function () {
  this.timeout(60_000);
  let app: TestApp;
  let browser: TestBrowser;
  let built: { dir: string; cleanup(): void };
  let port: number;
  const chartPoints = (selector: string) => `Number(document.querySelector(${JSON.stringify(selector)})?.dataset.points ?? 0)`;

  before(async function () {
    requirePeers(this, CHROMIUM);
    built = await buildConsoleForTest();
    port = await freePort();
    // One-second samples, so a few seconds of traffic make a history worth drawing.
    app = await startTestApp({ consoleDir: built.dir, channels: { 'hist.channel.ts': channelFile(port) }, historyTiers: [{ resolutionMs: 1000, points: 1800 }, { resolutionMs: 60_000, points: 1440 }] });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.cleanup();
    built?.cleanup();
  });

  it('a reloaded dashboard draws the sampled history before any live event, then goes on live', async () => {
    // Traffic over several sampling slots, before any browser is open.
    for (let i = 0; i < 6; i++) {
      assert.equal((await post(`http://127.0.0.1:${port}/`, `kết quả ${i}`)).status, 200);
      const slots = app.statsHistory.series('hist-in', 60_000).points.length;
      await waitFor(() => app.statsHistory.series('hist-in', 60_000).points.length > slots, 5000, 'the next sample');
    }
    const sampled = app.statsHistory.series('hist-in', 60_000).points.length;
    assert.ok(sampled >= 7, `${sampled} samples`);

    const page = await browser.newPage();
    await login(page, app.apiUrl, 'admin', app.initialAdminPassword!);
    await page.waitForSelector('[data-channel="hist-in"] svg.chart-svg');
    // A fresh page (nothing kept in the browser) with the live stream blocked: only the engine's
    // history can put points in the chart.
    await page.route('**/api/events**', (route) => route.abort());
    await page.reload();
    const chart = '[data-channel="hist-in"] svg.chart-svg';
    await page.waitForFunction(`${chartPoints(chart)} >= ${sampled - 2}`, undefined, { timeout: 10_000 });
    const legend = await page.locator('[data-channel="hist-in"] .legend').textContent();
    assert.match(legend ?? '', /Đã nhận: \d/);
    const polyline = await page.locator(`${chart} polyline`).first().getAttribute('points');
    assert.ok((polyline ?? '').split(' ').length >= sampled - 2, `received line: ${polyline}`);
    await screenshot(page, 'dashboard-history-after-reload');

    // Let the stream through: live snapshots (every 2 s) extend the same chart.
    const before = await page.evaluate(chartPoints(chart));
    await page.unroute('**/api/events**');
    await post(`http://127.0.0.1:${port}/`, 'kết quả trực tiếp');
    await page.waitForFunction(`${chartPoints(chart)} > ${before}`, undefined, { timeout: 30_000 });
    await page.close();
  });

  it('the channel page shows the history for the span chosen (15 min, 1 h, 24 h)', async () => {
    const page = await browser.newPage();
    await login(page, app.apiUrl, 'admin', app.initialAdminPassword!, '/channels/hist-in');
    await page.route('**/api/events**', (route) => route.abort());
    await page.reload();
    const rate = 'figure.chart svg.chart-svg';
    await page.waitForFunction(`${chartPoints(rate)} >= 5`, undefined, { timeout: 10_000 });
    const span = page.getByLabel('Khoảng thời gian');
    await span.selectOption('24h');
    await page.waitForFunction(`document.querySelector(${JSON.stringify(rate)})?.textContent?.includes('−24 giờ')`);
    await span.focus();
    await page.keyboard.press('ArrowUp'); // keyboard: back to 1 h
    await page.waitForFunction(`document.querySelector(${JSON.stringify(rate)})?.textContent?.includes('−60 phút')`);
    assert.ok(Number(await page.evaluate(chartPoints(rate))) >= 5);
    await screenshot(page, 'channel-history');
    await page.close();
    const errors = browser.errors.filter((e) => !/EventSource|api\/events/.test(e));
    assert.deepEqual(errors, []);
  });
});
