// The demo simulators API (/api/demo, devices/simulators/demo.ts) against a whole application: the
// real AnalyzerSimulator uploads ASTM results over TCP into the engine's own ASTM channel, the real
// monitor fleet publishes into the IoMT module's embedded broker; stop closes the line; roles, audit,
// and no /api/demo outside demo mode.
import assert from 'node:assert/strict';
import { hisModule } from '../../connectors/his-db';
import { demoSimulatorsModule } from '../../devices/simulators/demo';
import { HIS_SERVICE, type HisLookups } from '../../his/lookups';
import { iomtModule } from '../../iomt/module';
import { startTestApp, type TestApp } from '../helpers/app';
import fs from 'node:fs';
import net from 'node:net';
import { freePort, tempDir, waitFor } from '../helpers/engine';
import { requirePeers } from '../helpers/peers';
import { buildConsoleForTest, CHROMIUM, launchBrowser, login, screenshot, type TestBrowser } from './helpers';

export const astmDemoChannel = (port: number, outDir: string) => `
import { defineChannel } from ${JSON.stringify(require.resolve('../../engine/channel/definition'))};
import { astmResultsTransformer } from ${JSON.stringify(require.resolve('../../connectors/astm/channel'))};
export default defineChannel({
  id: 'demo-lab-c311',
  name: 'Máy xét nghiệm c311',
  source: { connector: 'astm', config: { profile: 'roche-cobas-c311', analyzerId: 'C311-TEST', transport: { kind: 'tcp-server', host: '127.0.0.1', port: ${port} } } },
  transformer: astmResultsTransformer(),
  destinations: [{ name: 'results', connector: 'file', config: { directory: ${JSON.stringify(outDir)}, extension: '.json' } }],
});
`;

describe('demo simulators API (/api/demo)', function () {
  this.timeout(60_000);
  let app: TestApp;
  let astmPort: number;
  let operator: string;
  let viewer: string;
  let outDir: string;

  const received = (channelId: string) => app.engine.describeChannel(channelId).stats.counters.received;

  before(async () => {
    astmPort = await freePort();
    outDir = tempDir('hisbridge-demo-out-');
    app = await startTestApp({
      channels: { 'demo-lab.channel.ts': astmDemoChannel(astmPort, outDir) },
      overrides: { demo: { enabled: true, astmPort } },
      modules: [iomtModule({ broker: { enabled: true, port: 0 }, charting: false, alerts: { mqtt: false } }), demoSimulatorsModule()],
    });
    operator = await app.tokenFor('operator');
    viewer = await app.tokenFor('viewer');
  });
  after(async () => {
    await app?.cleanup();
    if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('lists an analyser per profile (startable where a channel listens), and the monitors', async () => {
    const res = await app.api('GET', '/api/demo/simulators', viewer);
    assert.equal(res.status, 200);
    const byId = new Map<string, any>(res.body.simulators.map((s: any) => [s.id, s]));
    const c311 = byId.get('analyzer-roche-cobas-c311');
    assert.equal(c311.available, true);
    assert.equal(c311.running, false);
    assert.equal(c311.target, `127.0.0.1:${astmPort} → demo-lab-c311`);
    const xn = byId.get('analyzer-sysmex-xn');
    assert.equal(xn.available, false);
    assert.match(xn.detail, /no deployed channel has an astm tcp-server source with profile sysmex-xn/);
    assert.equal(xn.unavailableReason, 'no-channel');
    assert.equal(c311.unavailableReason, null);
    assert.equal(byId.get('monitors').devices, 10);
    assert.equal(byId.get('monitors').available, true);
    assert.match(byId.get('monitors').target, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(res.body.simulators[0].id, 'analyzer-roche-cobas-c311', 'startable analysers come first');
  });

  it('an operator starts the c311 simulator: ASTM results arrive in the channel; stop closes the line and traffic ends', async () => {
    const start = await app.api('POST', '/api/demo/simulators/analyzer-roche-cobas-c311/start', operator, { intervalMs: 100 });
    assert.equal(start.status, 200, JSON.stringify(start.body));
    assert.equal(start.body.simulator.running, true);
    await waitFor(() => received('demo-lab-c311') >= 3, 20_000, 'three uploads from the simulator');
    const stored = await app.engine.store.search({ channelId: 'demo-lab-c311', limit: 10 });
    assert.ok(stored.length >= 3);
    const message = await app.engine.store.get(stored[0].id);
    const raw = message!.contents.find((c) => c.stage === 'raw')!.data.toString('latin1');
    assert.match(raw, /^H\|/, 'an ASTM upload');
    assert.match(raw, /\|cobas c 311 SIM\|/, 'sent by the simulator (its H-5 sender name)');
    assert.ok(message!.correlation.specimenId?.startsWith('SIM'), `specimen ${message!.correlation.specimenId}`);

    const again = await app.api('POST', '/api/demo/simulators/analyzer-roche-cobas-c311/start', operator);
    assert.equal(again.status, 409);
    const listed = (await app.api('GET', '/api/demo/simulators', operator)).body.simulators.find((s: any) => s.id === 'analyzer-roche-cobas-c311');
    assert.equal(listed.running, true);
    assert.ok(listed.sent >= 3, `sent ${listed.sent}`);

    const stop = await app.api('POST', '/api/demo/simulators/analyzer-roche-cobas-c311/stop', operator);
    assert.equal(stop.status, 200, JSON.stringify(stop.body));
    assert.equal(stop.body.simulator.running, false);
    // The analyser's line is closed: the source reports no connected line any more.
    await waitFor(() => !app.engine.describeChannel('demo-lab-c311').connections.some((c: any) => c.state === 'connected'), 10_000, 'the line to close');
    const after = received('demo-lab-c311');
    await new Promise((r) => setTimeout(r, 1000)); // ten intervals of the stopped simulator
    assert.equal(received('demo-lab-c311'), after, 'no more uploads after stop');
    assert.equal((await app.api('POST', '/api/demo/simulators/analyzer-roche-cobas-c311/stop', operator)).status, 409);

    const admin = await app.tokenFor('admin');
    const audit = await app.api('GET', '/api/audit?action=demo-simulator-start', admin);
    assert.ok(audit.body.entries.some((e: any) => e.target === 'simulator:analyzer-roche-cobas-c311' && e.username.startsWith('operator')), JSON.stringify(audit.body.entries));
    const stops = await app.api('GET', '/api/audit?action=demo-simulator-stop', admin);
    assert.equal(stops.body.entries.length, 1);
  });

  it('the monitor fleet publishes into the embedded broker, bound to visits; stop ends it', async () => {
    const start = await app.api('POST', '/api/demo/simulators/monitors/start', operator, { intervalMs: 200 });
    assert.equal(start.status, 200, JSON.stringify(start.body));
    await waitFor(() => received('iomt-vitals') >= 20, 20_000, 'monitor readings in the vitals channel');
    const devices = await app.api('GET', '/api/iomt/devices', operator);
    const simulated = devices.body.devices.filter((d: any) => d.id.startsWith('SIM-MON-'));
    assert.equal(simulated.length, 10);
    assert.ok(simulated.every((d: any) => d.binding?.patientId?.startsWith('SIM-P-')));
    const stop = await app.api('POST', '/api/demo/simulators/monitors/stop', operator);
    assert.equal(stop.status, 200);
    assert.ok(stop.body.simulator.running === false);
    const after = received('iomt-vitals');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(received('iomt-vitals'), after, 'no more readings after stop');
  });

  it('a viewer may list but not start or stop (403); unknown, unavailable and bad requests are refused clearly', async () => {
    const start = await app.api('POST', '/api/demo/simulators/analyzer-roche-cobas-c311/start', viewer);
    assert.equal(start.status, 403);
    assert.match(start.body.error, /lacks permission "devices:manage"/);
    assert.equal((await app.api('POST', '/api/demo/simulators/monitors/stop', viewer)).status, 403);
    const unknown = await app.api('POST', '/api/demo/simulators/analyzer-nope/start', operator);
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error, /no simulator "analyzer-nope"/);
    const unavailable = await app.api('POST', '/api/demo/simulators/analyzer-sysmex-xn/start', operator);
    assert.equal(unavailable.status, 409);
    assert.match(unavailable.body.error, /profile sysmex-xn/);
    const bad = await app.api('POST', '/api/demo/simulators/analyzer-roche-cobas-c311/start', operator, { intervalMs: 5 });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /intervalMs/);
    assert.equal((await app.api('GET', '/api/demo/simulators')).status, 401);
  });

  it('a simulator whose channel stopped listening says why it cannot start (502)', async () => {
    await app.engine.pauseChannel('demo-lab-c311');
    try {
      const res = await app.api('POST', '/api/demo/simulators/analyzer-roche-cobas-c311/start', operator);
      assert.equal(res.status, 502);
      assert.match(res.body.error, new RegExp(`could not reach 127\\.0\\.0\\.1:${astmPort}.*ECONNREFUSED`));
      const listed = (await app.api('GET', '/api/demo/simulators', operator)).body.simulators.find((s: any) => s.id === 'analyzer-roche-cobas-c311');
      assert.equal(listed.running, false);
    } finally {
      await app.engine.resumeChannel('demo-lab-c311');
    }
  });

  it('stopping the engine stops running simulators (their loops end, sockets close)', async () => {
    const port = await freePort();
    const other = await startTestApp({ channels: { 'lab.channel.ts': astmDemoChannel(port, `${app.root}/out2`) }, modules: [demoSimulatorsModule()] });
    try {
      const token = await other.tokenFor('admin');
      assert.equal((await other.api('POST', '/api/demo/simulators/analyzer-roche-cobas-c311/start', token, { intervalMs: 100 })).status, 200);
      await waitFor(() => other.engine.describeChannel('demo-lab-c311').stats.counters.received >= 1, 20_000, 'an upload');
    } finally {
      await other.cleanup();
    }
    // A simulator still running would reconnect to its port within an interval or two (100 ms):
    // listen there and see that nobody comes.
    const listener = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    let connections = 0;
    await new Promise<void>((resolve) => listener.listen(port, '127.0.0.1', resolve));
    await new Promise((r) => setTimeout(r, 800));
    await new Promise((resolve) => listener.close(resolve));
    assert.equal(connections, 0, 'no simulator survived the engine');
  });

  it('outside demo mode /api/demo does not exist (404)', async () => {
    const plain = await startTestApp({ overrides: { demo: { enabled: false } }, modules: [demoSimulatorsModule()] });
    try {
      const token = await plain.tokenFor('admin');
      const res = await plain.api('GET', '/api/demo/simulators', token);
      assert.equal(res.status, 404);
      assert.equal((await plain.api('POST', '/api/demo/simulators/monitors/start', token)).status, 404);
    } finally {
      await plain.cleanup();
    }
  });
});

describe('web console: demo simulators on the Devices page in headless Chromium', function () {
  this.timeout(60_000);
  let app: TestApp;
  let browser: TestBrowser;
  let built: { dir: string; cleanup(): void };
  let outDir: string;

  before(async function () {
    requirePeers(this, CHROMIUM);
    built = await buildConsoleForTest();
    const astmPort = await freePort();
    outDir = tempDir('hisbridge-demo-out-');
    app = await startTestApp({ consoleDir: built.dir, channels: { 'demo-lab.channel.ts': astmDemoChannel(astmPort, outDir) }, overrides: { demo: { enabled: true, astmPort } }, modules: [demoSimulatorsModule()] });
    app.security.addUser('ky-thuat-vien', 'operator-password-1', 'operator');
    app.security.addUser('chi-xem', 'viewer-password-12', 'viewer');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.cleanup();
    built?.cleanup();
    if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('an operator starts the c311 simulator from the keyboard, sees it send, and stops it', async () => {
    const page = await browser.newPage();
    await login(page, app.apiUrl, 'ky-thuat-vien', 'operator-password-1', '/devices');
    const row = page.locator('[data-simulator="analyzer-roche-cobas-c311"]');
    const start = page.getByRole('button', { name: 'Bật bộ mô phỏng Roche cobas c 311' });
    await start.waitFor();
    assert.equal(await page.locator('[data-simulator="analyzer-sysmex-xn"] button').count(), 0, 'no start button where no channel listens');
    assert.match((await page.locator('[data-simulator="analyzer-sysmex-xn"]').textContent()) ?? '', /Không dùng được không có kênh nào đang nghe máy này \(nguồn astm, tcp-server, hồ sơ sysmex-xn\)/);
    await start.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-simulator="analyzer-roche-cobas-c311"][data-running="true"]');
    await waitFor(() => app.engine.describeChannel('demo-lab-c311').stats.counters.received >= 2, 20_000, 'uploads from the simulator');
    // The page re-reads itself when the analyser's line reports; wait for a row that shows sends.
    await page.waitForFunction(() => Number(document.querySelector('[data-simulator="analyzer-roche-cobas-c311"] td.num')?.textContent) >= 1);
    assert.match((await row.textContent()) ?? '', /Đang chạy/);
    await screenshot(page, 'devices-simulators');

    await page.getByRole('button', { name: 'Tắt bộ mô phỏng Roche cobas c 311' }).click();
    await page.waitForSelector('[data-simulator="analyzer-roche-cobas-c311"][data-running="false"]');
    const listed = await app.api('GET', '/api/demo/simulators', await app.tokenFor('admin'));
    assert.equal(listed.body.simulators.find((s: any) => s.id === 'analyzer-roche-cobas-c311').running, false);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  it('a viewer sees the simulators without start or stop buttons, and why', async () => {
    const page = await browser.newPage();
    await login(page, app.apiUrl, 'chi-xem', 'viewer-password-12', '/devices');
    await page.waitForSelector('[data-device-kind="simulators"] table');
    assert.match((await page.locator('[data-device-kind="simulators"]').textContent()) ?? '', /Cần quyền quản lý thiết bị/);
    assert.equal(await page.locator('[data-action="start-simulator"], [data-action="stop-simulator"]').count(), 0);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });
});

describe('demo simulators with the demo HIS and the shipped demo channels', function () {
  this.timeout(120_000);
  let app: TestApp;

  before(async () => {
    const astmPort = await freePort();
    app = await startTestApp({
      // The shipped demo channel file itself (channels/demo-lab-astm.channel.ts), on a free port.
      channels: {
        'demo-lab-astm.channel.ts': `export { default } from ${JSON.stringify(require.resolve('../../channels/demo-lab-astm.channel'))};\n`,
        'demo-imaging-dicom.channel.ts': `export { default } from ${JSON.stringify(require.resolve('../../channels/demo-imaging-dicom.channel'))};\n`,
      },
      overrides: { demo: { enabled: true, astmPort, dicomPort: await freePort() } },
      modules: [hisModule(), demoSimulatorsModule()],
    });
  });
  after(async () => app?.cleanup());

  it('the c311 simulator uploads results for open HIS orders, and the HIS files them (nothing dead-lettered)', async () => {
    const operator = await app.tokenFor('operator');
    const start = await app.api('POST', '/api/demo/simulators/analyzer-roche-cobas-c311/start', operator, { intervalMs: 100 });
    assert.equal(start.status, 200, JSON.stringify(start.body));
    await waitFor(() => app.engine.describeChannel('demo-lab-c311').stats.counters.sent >= 3, 30_000, 'three results filed in the HIS');
    assert.equal((await app.api('POST', '/api/demo/simulators/analyzer-roche-cobas-c311/stop', operator)).status, 200);
    const stats = app.engine.describeChannel('demo-lab-c311').stats.counters;
    assert.equal(stats.dead, 0, JSON.stringify(app.engine.describeChannel('demo-lab-c311').stats.lastError));
    const [first] = await app.engine.store.search({ channelId: 'demo-lab-c311', limit: 1 });
    const orders = await app.engine.lookup<HisLookups>(HIS_SERVICE)!.ordersBySpecimen(first.correlation.specimenId!);
    assert.ok(orders.length >= 1, `specimen ${first.correlation.specimenId} is an order of the HIS`);
  });

  it('the modality performs a scheduled order of a demo imaging room: worklist, MPPS, images; the HIS order completes', async () => {
    const operator = await app.tokenFor('operator');
    const list = await app.api('GET', '/api/demo/simulators', operator);
    const modality = list.body.simulators.find((s: any) => s.kind === 'modality');
    assert.equal(modality.id, 'modality-demo-imaging');
    assert.equal(modality.name, 'CT_SIEMENS, DR_ROOM1, US_ROOM2, MR_15T');
    const start = await app.api('POST', '/api/demo/simulators/modality-demo-imaging/start', operator, { intervalMs: 600_000 });
    assert.equal(start.status, 200, JSON.stringify(start.body));
    const detail: string = start.body.simulator.detail;
    const stop = await app.api('POST', '/api/demo/simulators/modality-demo-imaging/stop', operator);
    assert.equal(stop.status, 200);
    const performed = /^CT_SIEMENS: (\S+) 2\/2 images stored, MPPS completed$/.exec(detail); // the demo HIS schedules CT orders today
    assert.ok(performed, `first round: ${detail}`);
    await waitFor(() => app.engine.describeChannel('demo-imaging').stats.counters.received >= 2, 10_000, 'two stored instances');
    const order = await app.engine.lookup<HisLookups>(HIS_SERVICE)!.orderByAccession(performed[1]);
    assert.equal(order?.status, 'completed');
  });
});
