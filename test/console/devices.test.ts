// The Devices page with the IoMT module mounted: register a monitor, bind it to a patient's visit,
// unbind it — through the console in headless Chromium, against the real IoMT API and registry.
import assert from 'node:assert/strict';
import { iomtModule } from '../../iomt/module';
import { startTestApp, type TestApp } from '../helpers/app';
import { requirePeers } from '../helpers/peers';
import { buildConsoleForTest, CHROMIUM, launchBrowser, login, screenshot, type TestBrowser } from './helpers';

describe('web console: IoMT devices and bindings in headless Chromium', function () {
  this.timeout(60_000);
  let app: TestApp;
  let browser: TestBrowser;
  let built: { dir: string; cleanup(): void };

  before(async function () {
    requirePeers(this, CHROMIUM);
    built = await buildConsoleForTest();
    app = await startTestApp({ consoleDir: built.dir, modules: [iomtModule({ broker: { enabled: false }, channel: false, charting: false, alerts: { mqtt: false } })] });
    app.security.addUser('dieu-hanh', 'operator-password-1', 'operator');
    app.security.addUser('chi-xem', 'viewer-password-12', 'viewer');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.cleanup();
    built?.cleanup();
  });

  it('an operator registers a monitor, binds it to a visit and unbinds it; the API and audit agree', async () => {
    const page = await browser.newPage();
    await login(page, app.apiUrl, 'dieu-hanh', 'operator-password-1', '/devices');
    await page.waitForSelector('[data-device-kind="iomt"] [data-action="register-device"]');
    await page.locator('[data-action="register-device"]').click();
    const dialog = page.locator('dialog');
    await dialog.getByLabel('Mã thiết bị').fill('MON-ICU-07');
    await dialog.getByLabel('Tên thiết bị').fill('Monitor giường 7');
    await dialog.getByLabel('Khoa').fill('ICU');
    await dialog.getByLabel('Giường').fill('07');
    await dialog.locator('button[type="submit"]').click();
    const row = page.locator('[data-device="MON-ICU-07"]');
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /ICU \/ 07/);

    await row.locator('[data-action="bind"]').click();
    await dialog.getByLabel('Mã lượt khám').fill('VST-2026-001');
    await dialog.getByLabel('Mã bệnh nhân').fill('BN-ICU-1');
    await dialog.getByLabel('Họ tên bệnh nhân').fill('Phạm Thị Thu');
    await dialog.locator('button[type="submit"]').click();
    await page.waitForSelector('[data-device="MON-ICU-07"] [data-binding="BN-ICU-1"]');
    assert.match((await page.locator('[data-device="MON-ICU-07"]').textContent()) ?? '', /Phạm Thị Thu · BN-ICU-1/);
    const token = await app.tokenFor('admin');
    const bound = await app.api('GET', '/api/iomt/bindings?deviceId=MON-ICU-07&active=true', token);
    assert.equal(bound.body.bindings.length, 1);
    assert.equal(bound.body.bindings[0].visitId, 'VST-2026-001');
    assert.equal(bound.body.bindings[0].source, 'console');
    await screenshot(page, 'devices-iomt');

    await page.locator('[data-device="MON-ICU-07"] [data-action="unbind"]').click();
    await page.locator('dialog [data-action="confirm"]').click();
    await page.waitForSelector('[data-device="MON-ICU-07"] [data-action="bind"]');
    const after = await app.api('GET', '/api/iomt/bindings?deviceId=MON-ICU-07&active=true', token);
    assert.equal(after.body.bindings.length, 0);
    const audit = await app.api('GET', '/api/audit?username=dieu-hanh', token);
    const actions = audit.body.entries.map((e: any) => e.action);
    for (const action of ['iomt-device-save', 'iomt-bind', 'iomt-unbind']) assert.ok(actions.includes(action), `${action} audited: ${actions}`);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  it('a viewer is told the IoMT section needs device management, without buttons', async () => {
    const page = await browser.newPage();
    await login(page, app.apiUrl, 'chi-xem', 'viewer-password-12', '/devices');
    await page.waitForSelector('[data-device-kind="iomt"] .notice');
    assert.match((await page.locator('[data-device-kind="iomt"]').textContent()) ?? '', /cần quyền quản lý thiết bị/);
    assert.equal(await page.locator('[data-action="register-device"], [data-action="bind"]').count(), 0);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });
});
