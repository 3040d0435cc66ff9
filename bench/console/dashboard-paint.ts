// bench/console: the dashboard's first meaningful paint on localhost, in Debian's headless Chromium:
// from the start of navigation to the first frame painted after every channel card shows its
// counters (data fetched from the API, not a spinner). Ten channels are deployed and have stored
// messages. The browser cache is disabled, so every load fetches the page, script and style again.
// Baseline in the same run: the first contentful paint of a static HTML page of the same server.
//   node --import tsx bench/console/dashboard-paint.ts
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { freePort, post } from '../../test/helpers/engine';
import { benchRoot, startBenchApp, summary } from './_shared';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const CHANNELS = 10;
const CHROMIUM = '/usr/bin/chromium';

const channelFile = (i: number, port: number, outbox: string) => `
import { defineChannel } from ${JSON.stringify(require.resolve('../../engine/channel/definition'))};
export default defineChannel({
  id: 'bench-${i}',
  name: 'Kênh ${i}',
  source: { connector: 'http', config: { port: ${port} } },
  destinations: [{ name: 'outbox', connector: 'file', config: { directory: ${JSON.stringify(outbox)} } }],
});
`;

(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is not installed (apt-get install -y chromium)`);
  const root = benchRoot('hisbridge-bench-paint-');
  const profile = benchRoot('hisbridge-bench-chromium-');
  try {
    const ports: number[] = [];
    const channels: Record<string, string> = {};
    for (let i = 0; i < CHANNELS; i++) {
      ports.push(await freePort());
      channels[`c${i}.channel.ts`] = channelFile(i, ports[i], path.join(root, 'outbox'));
    }
    const bench = await startBenchApp(root, channels);
    for (const port of ports) for (let k = 0; k < 20; k++) await post(`http://127.0.0.1:${port}/`, `MSH|^~\\&|LIS|BV|HIS|BV|20261122||ORU^R01|C${k}|P|2.5.1\r`);
    // A static page of the same server, as the baseline.
    fs.writeFileSync(path.join(bench.consoleDir, 'static-baseline.html'), '<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>baseline</title></head><body><h1>Tổng quan</h1></body></html>');
    const me = await (await fetch(`${bench.app.apiUrl}/api/me`, { headers: { authorization: `Bearer ${bench.token}` } })).json();
    const session = JSON.stringify({ token: bench.token, expiresAt: null, user: me });

    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1366, height: 900 },
    });
    // Logged in already (the session the login page would store), and a probe that notes the first
    // frame painted once every card shows its counters.
    // (A string, not a function: tsx would wrap named functions in a helper the page does not have.)
    await context.addInitScript(`
      try { sessionStorage.setItem('hisbridge.session', ${JSON.stringify(session)}); } catch (e) { /* about:blank */ }
      document.addEventListener('DOMContentLoaded', function () {
        var observer = new MutationObserver(function () {
          var counters = document.querySelectorAll('[data-channel] [data-counter="received"]');
          if (counters.length < ${CHANNELS}) return;
          for (var i = 0; i < counters.length; i++) if (!(Number(counters[i].textContent) > 0)) return;
          observer.disconnect();
          requestAnimationFrame(function () { requestAnimationFrame(function () { window.__meaningfulPaint = performance.now(); }); });
        });
        observer.observe(document.body, { childList: true, subtree: true, characterData: true });
      });
    `);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });

    const dashboard: number[] = [];
    const dashboardFcp: number[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < RUNS + 2; i++) {
      await page.goto(`${bench.app.apiUrl}/`);
      await page.waitForFunction(() => (window as unknown as { __meaningfulPaint?: number }).__meaningfulPaint !== undefined, undefined, { timeout: 10_000 });
      const fmp = await page.evaluate(() => (window as unknown as { __meaningfulPaint: number }).__meaningfulPaint);
      const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN);
      await page.goto(`${bench.app.apiUrl}/static-baseline.html`);
      await page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0, undefined, { timeout: 10_000 });
      const base = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0].startTime);
      if (i < 2) continue; // warm-up: Chromium and the engine's first requests
      dashboard.push(fmp);
      dashboardFcp.push(fcp);
      baseline.push(base);
    }
    await context.close();
    await bench.stop();

    const d = summary(dashboard);
    const f = summary(dashboardFcp);
    const b = summary(baseline);
    console.log(`\n| dashboard paint (${RUNS} cold loads, ${CHANNELS} channels, cache disabled) | p50 ms | p95 ms | max ms |`);
    console.log('|---|---|---|---|');
    console.log(`| first meaningful paint: every channel card with its counters | ${d.p50} | ${d.p95} | ${d.max} |`);
    console.log(`| first contentful paint of the dashboard (frame, before data) | ${f.p50} | ${f.p95} | ${f.max} |`);
    console.log(`| baseline: first contentful paint of a static page | ${b.p50} | ${b.p95} | ${b.max} |`);
    console.log(`\ndashboard first meaningful paint p95 ${d.p95} ms (target ≤ 1000 ms: ${d.p95 <= 1000 ? 'met' : 'NOT met'}); static page p95 ${b.p95} ms; ratio ${(d.p95 / b.p95).toFixed(1)}×`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(profile, { recursive: true, force: true });
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
