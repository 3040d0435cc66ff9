// The claims page with the claims module mounted: counts and list from the real claims store, one
// claim's findings and receipts, and checking an XML file through the streamed validator — in
// headless Chromium. A viewer (claims:read) sees the claims without the send and build actions.
import assert from 'node:assert/strict';
import path from 'node:path';
import { claimsModule } from '../../claims/module';
import { CLAIMS_SERVICE, type ClaimsService } from '../../claims/service';
import { startTestApp, type TestApp } from '../helpers/app';
import { requirePeers } from '../helpers/peers';
import { buildConsoleForTest, CHROMIUM, launchBrowser, login, screenshot, type TestBrowser } from './helpers';

describe('web console: BHYT claims in headless Chromium', function () {
  this.timeout(60_000);
  let app: TestApp;
  let browser: TestBrowser;
  let built: { dir: string; cleanup(): void };

  before(async function () {
    requirePeers(this, CHROMIUM);
    built = await buildConsoleForTest();
    app = await startTestApp({ consoleDir: built.dir, modules: [claimsModule({ config: {} })] });
    app.security.addUser('ke-toan', 'operator-password-1', 'operator');
    app.security.addUser('xem-bhyt', 'viewer-password-12', 'viewer');
    const claims = app.engine.lookup<ClaimsService>(CLAIMS_SERVICE)!;
    claims.store.saveBuilt({
      maLk: 'LK2026110001',
      formatVersion: '130',
      summary: { maBn: 'BN001', hoTen: 'Nguyễn Thị Mai', maThe: 'GD4797932123456', ngayVao: '202611200800', ngayRa: '202611201000', period: '2026-11', tTongChiBv: '350000', tBhtt: '280000' },
      errors: 1,
      warnings: 0,
      findings: [{ severity: 'error', rule: 'xml3.ma-dich-vu', message: 'MA_DICH_VU "99.999" is not in the price list', table: 'XML3', hoso: 1, record: { index: 2, stt: '2' }, field: 'MA_DICH_VU' }],
      contentSha256: 'a'.repeat(64),
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.cleanup();
    built?.cleanup();
  });

  it('lists claims with counts, shows a claim with its findings, and checks an uploaded XML file', async () => {
    const page = await browser.newPage();
    await login(page, app.apiUrl, 'ke-toan', 'operator-password-1', '/claims');
    const row = page.locator('[data-row="LK2026110001"]');
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /Nguyễn Thị Mai \(BN001\)/);
    assert.match((await row.textContent()) ?? '', /Có lỗi/);
    assert.equal(await page.locator('[data-count="invalid"] .tile-value').textContent(), '1');
    assert.equal(await page.locator('[data-action="submit-pending"]').count(), 1);

    await page.getByLabel('Tệp XML', { exact: true }).setInputFiles(path.join(__dirname, '..', 'fixtures', 'claims', 'golden', 'outpatient', 'XML1.xml'));
    await page.locator('form:has(input[type="file"]) button[type="submit"]').click();
    await page.waitForSelector('text=XML1.xml:');
    assert.match((await page.locator('[aria-labelledby="validate-title"]').textContent()) ?? '', /XML1\.xml: \d+ lỗi, \d+ cảnh báo trong \d+ hồ sơ\./);
    await screenshot(page, 'claims');

    await page.locator('a[data-claim="LK2026110001"]').click();
    await page.waitForSelector('main[data-page="claim"] [data-version="1"]');
    const version = page.locator('[data-version="1"]');
    assert.match((await version.textContent()) ?? '', /XML3 · #2 STT=2 · MA_DICH_VU: MA_DICH_VU "99\.999" is not in the price list \(xml3\.ma-dich-vu\)/);
    assert.match((await version.textContent()) ?? '', /Chưa gửi lần nào/);
    // An invalid claim cannot be sent: no send button.
    assert.equal(await version.locator('[data-action="send"]').count(), 0);
    await screenshot(page, 'claim-detail');
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  it('a viewer reads claims but has no send or build actions', async () => {
    const page = await browser.newPage();
    await login(page, app.apiUrl, 'xem-bhyt', 'viewer-password-12', '/claims');
    await page.waitForSelector('[data-row="LK2026110001"]');
    assert.equal(await page.locator('[data-action="submit-pending"]').count(), 0);
    assert.equal(await page.locator('#build-title').count(), 0);
    const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('hisbridge.session')!).token as string);
    // Refused by the API too.
    const refused = await app.api('POST', '/api/claims/submit', token);
    assert.equal(refused.status, 403);
    assert.match(refused.body.error, /lacks permission "claims:submit"/);
    assert.deepEqual(browser.errors, []);
    await page.close();
  });
});
