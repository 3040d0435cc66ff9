// The EMR viewer in real headless Chromium (Debian's, through playwright-core): a clinician logs in,
// finds the demo patient, opens a lab report and sees its trend chart and signature status; the labs,
// vitals (NEWS2 bands) and imaging tabs, the print view, English, and a tampered document shown as
// INVALID. Screenshots go to test-artifacts/emr/.
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { hisModule } from '../../connectors/his-db';
import type { HisDatabase } from '../../connectors/his-db/his-database';
import { emrModule, type EmrModule } from '../../emr/module';
import { emrStrings } from '../../console/src/emr/strings';
import { startTestApp, type TestApp } from '../helpers/app';
import { requirePeers } from '../helpers/peers';
import { buildConsoleForTest, CHROMIUM, launchBrowser, login, type TestBrowser } from '../console/helpers';
import { smallDemoHis } from './helpers';

const artifacts = path.resolve(__dirname, '..', '..', 'test-artifacts', 'emr');

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

describe('emr: viewer in Chromium', function () {
  this.timeout(300_000);
  let his: Awaited<ReturnType<typeof smallDemoHis>>;
  let built: { dir: string; cleanup(): void };
  let app: TestApp;
  let emr: EmrModule;
  let browser: TestBrowser;
  const username = 'bs.huong';
  const password = 'mat-khau-bac-si-1';

  before(async function () {
    requirePeers(this, CHROMIUM);
    his = await smallDemoHis();
    built = await buildConsoleForTest();
    emr = emrModule({ firstStartBuild: true, firstStartVisits: 40, waitForFirstStartBuild: true });
    app = await startTestApp({ modules: [hisModule({ connection: { type: 'sqlite', file: his.file } }), emr], consoleDir: built.dir });
    app.security.addUser(username, password, 'clinician', 'BS. Nguyễn Thu Hương');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.cleanup();
    built?.cleanup();
    his?.cleanup();
  });

  it('a clinician finds the demo patient, opens a lab report and sees the trend chart and the signature status', async () => {
    const patientId = emr.build.demoPatient!;
    const patient = (await app.engine.lookup<HisDatabase>('his')!.patientById(patientId))!;
    // The lab report to open: the newest one holding the patient's longest trend.
    const series = emr.service!.store.labSeries(patientId).sort((a, b) => b.points.length - a.points.length)[0];
    assert.ok(series.points.length >= 2, 'the demo patient has a trend');
    const reportId = series.points[series.points.length - 1].documentId;

    const page = await browser.newPage();
    await login(page, app.apiUrl, username, password);
    // A clinician lands on the first page the role may use: the EMR search.
    await page.waitForSelector('main[data-page="emr-search"]');
    const unaccented = patient.name.full.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase();
    await page.getByLabel(emrStrings.vi['emr.search.label']).fill(unaccented);
    await page.keyboard.press('Enter');
    const link = page.locator(`a[data-patient="${patientId}"]`);
    await link.waitFor();
    await shot(page, '01-search');
    await link.click();
    await page.waitForSelector(`li[data-document="${reportId}"]`);
    assert.equal(await page.locator('.emr-patient-name').textContent(), patient.name.full);
    await shot(page, '02-timeline');

    await page.locator(`li[data-document="${reportId}"] a[data-open-document]`).click();
    await page.waitForSelector('main[data-page="emr-document"] [data-signature-status]');
    await page.waitForSelector('.emr-trends .emr-chart polyline.emr-line', { state: 'attached' });
    const banner = page.locator('[data-signature-status]');
    assert.equal(await banner.getAttribute('data-signature-status'), 'valid');
    assert.match((await banner.textContent())!, /Chữ ký số hợp lệ/);
    assert.match((await page.locator('.emr-document h1').textContent())!, /Phiếu kết quả xét nghiệm/);
    const charts = page.locator('.emr-trends .emr-chart');
    assert.ok((await charts.count()) >= 1);
    const trend = page.locator(`.emr-trends .emr-chart[data-chart="${series.name}"]`);
    assert.equal(await trend.locator('circle.emr-dot').count(), series.points.filter((p) => p.value !== null).length);
    assert.equal(await trend.locator('rect.emr-ref-band').count(), series.refLow !== null || series.refHigh !== null ? 1 : 0);
    await shot(page, '03-lab-report');
    await page.close();
  });

  it('shows lab trends with abnormal flags, vitals with NEWS2 bands, imaging studies and a print view', async () => {
    const patientId = emr.build.demoPatient!;
    const page = await browser.newPage();
    await login(page, app.apiUrl, username, password, `/emr/patients/${patientId}?tab=labs`);
    await page.waitForSelector('[data-tab="labs"] .emr-chart');
    assert.ok((await page.locator('[data-tab="labs"] table [data-flag]').count()) > 0);
    await shot(page, '04-labs');

    await page.locator('a[data-tab-link="vitals"]').click();
    await page.waitForSelector('[data-tab="vitals"] .emr-chart svg');
    assert.ok((await page.locator('[data-tab="vitals"] rect.emr-band[data-score="3"]').count()) > 0, 'NEWS2 score zones drawn');
    assert.ok((await page.locator('[data-news2-incomplete]').count()) > 0, 'incomplete NEWS2 stated, not guessed');
    await shot(page, '05-vitals');

    // Imaging: a patient with an imaging report.
    const imaging = emr.service!.store.db.prepare(`SELECT patient_id FROM documents WHERE type = 'imaging-report' LIMIT 1`).pluck().get() as string;
    await page.goto(`${app.apiUrl}/emr/patients/${imaging}?tab=imaging`);
    await page.waitForSelector('.emr-study');
    assert.ok((await page.locator('.emr-study .emr-no-image').count()) > 0, 'without PACS images the study metadata is shown');
    await shot(page, '06-imaging');

    const documentId = emr.service!.store.db.prepare(`SELECT id FROM documents WHERE type = 'discharge-summary' AND patient_id = ? LIMIT 1`).pluck().get(patientId) as string;
    await page.goto(`${app.apiUrl}/emr/documents/${documentId}/print`);
    await page.waitForSelector('.emr-print [data-signature="valid"]');
    assert.equal(await page.locator('.topbar').isVisible(), false, 'the print view hides the console frame');
    await shot(page, '07-print');

    await page.goto(`${app.apiUrl}/account`);
    await page.locator('select').first().selectOption('en');
    await page.goto(`${app.apiUrl}/emr/documents/${documentId}`);
    await page.waitForSelector('[data-signature-status="valid"]');
    assert.match((await page.locator('[data-signature-status]').textContent())!, /Digital signature valid/);
    assert.match((await page.locator('.emr-document').textContent())!, /Legal authenticator/);
    await shot(page, '08-document-english');
    await page.locator('select').first().selectOption('vi');
    await page.close();
  });

  it('shows a tampered document as INVALID in red, never silently', async () => {
    const patientId = emr.build.demoPatient!;
    const id = emr.service!.store.db.prepare(`SELECT id FROM documents WHERE type = 'lab-report' AND patient_id = ? AND superseded_by IS NULL ORDER BY service_at LIMIT 1`).pluck().get(patientId) as string;
    const db = new Database(path.join(app.config.dataDir, 'emr', 'emr.db'));
    try {
      db.exec('DROP TRIGGER IF EXISTS document_content_immutable');
      const row = db.prepare('SELECT c.doc_no, c.xml FROM document_content c JOIN documents d ON d.doc_no = c.doc_no WHERE d.id = ?').get(id) as { doc_no: number; xml: Buffer };
      const text = row.xml.toString('utf8');
      const changed = text.replace(/(<value [^>]*value=")([\d.]+)(")/, (_m, a: string, v: string, b: string) => `${a}${(Number(v) * 2).toFixed(2)}${b}`);
      assert.notEqual(changed, text);
      db.prepare('UPDATE document_content SET xml = ? WHERE doc_no = ?').run(Buffer.from(changed), row.doc_no);
    } finally {
      db.close();
    }
    const page = await browser.newPage();
    await login(page, app.apiUrl, username, password, `/emr/documents/${id}`);
    const banner = page.locator('[data-signature-status]');
    await banner.waitFor();
    assert.equal(await banner.getAttribute('data-signature-status'), 'invalid');
    assert.equal(await banner.getAttribute('role'), 'alert');
    assert.match((await banner.textContent())!, /CHỮ KÝ KHÔNG HỢP LỆ \(INVALID\)/);
    assert.match((await banner.textContent())!, /changed after signing/);
    const color = await banner.evaluate((el) => getComputedStyle(el).borderTopColor);
    assert.equal(color, 'rgb(179, 38, 30)');
    await shot(page, '09-invalid');
    await page.close();
  });

  it('a viewer (no emr:read) is refused the EMR pages; the pages raised no errors', async () => {
    app.security.addUser('viewer.emr', 'a-long-test-password-9', 'viewer');
    const page = await browser.newPage();
    await login(page, app.apiUrl, 'viewer.emr', 'a-long-test-password-9');
    await page.goto(`${app.apiUrl}/emr`);
    // The console says the role may not use the page, and the page itself never renders.
    await page.locator('main .notice-warning').waitFor();
    assert.equal(await page.locator('input[name="q"]').count(), 0);
    const refused = await app.api('GET', '/api/emr/patients?q=nguyen', (await app.api('POST', '/api/auth/login', undefined, { username: 'viewer.emr', password: 'a-long-test-password-9' })).body.token);
    assert.equal(refused.status, 403);
    assert.equal(await page.locator('a[href="/emr"]').count(), 0, 'not in the navigation');
    await page.close();
    assert.deepEqual(browser.errors, []);
  });
});
