// The web console in real headless Chromium (Debian's, driven by playwright-core) against a whole
// application: log in (mouse and keyboard), the dashboard's counters moving with live events, search
// → open → reprocess a message, replay a dead letter, switch language, a viewer without reprocess.
// Screenshots of every page are kept in test-artifacts/console/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { freePort, post, startRecorder, waitFor } from '../helpers/engine';
import { requirePeers } from '../helpers/peers';
import { buildConsoleForTest, CHROMIUM, launchBrowser, login, screenshot, type TestBrowser } from './helpers';

const hl7Fixture = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'hl7', 'adt-a01-vn.hl7'));

const channelFile = (port: number, url: string) => `
import { defineChannel } from ${JSON.stringify(require.resolve('../../engine/channel/definition'))};
export default defineChannel({
  id: 'console-lab',
  name: 'Kết quả xét nghiệm',
  description: 'HL7 over HTTP to the HIS',
  source: { connector: 'http', config: { port: ${port}, correlationHeaders: { 'x-patient-id': 'patientId', 'x-accession': 'accession' } } },
  transformer: (m, ctx) => {
    ctx.setCorrelation({ controlId: m.text.split('\\r')[0].split('|')[9], messageType: 'ADT^A01' });
    return m.text;
  },
  destinations: [{ name: 'his', connector: 'http', config: { url: ${JSON.stringify(url)} }, queue: { maxAttempts: 1 } }],
});
`;

describe('web console in headless Chromium', function () {
  this.timeout(60_000);
  let app: TestApp;
  let browser: TestBrowser;
  let built: { dir: string; cleanup(): void };
  let recorder: Awaited<ReturnType<typeof startRecorder>>;
  let port: number;
  let refuse = false;
  const users = { operator: { username: 'dieu-duong', password: 'operator-password-1' }, viewer: { username: 'xem-thoi', password: 'viewer-password-12' } };

  const send = (patientId: string, extra: Record<string, string> = {}) =>
    post(`http://127.0.0.1:${port}/`, hl7Fixture, { 'content-type': 'application/hl7-v2', 'x-patient-id': patientId, ...extra });
  const loginAs = async (page: Page, who: 'admin' | 'operator' | 'viewer', next = '/') => {
    if (who === 'admin') await login(page, app.apiUrl, 'admin', app.initialAdminPassword!, next);
    else await login(page, app.apiUrl, users[who].username, users[who].password, next);
  };
  const mainPage = (page: Page) => page.locator('main').getAttribute('data-page');
  /** Every visible form control has a label (a <label for>, or aria-label). */
  const unlabelled = (page: Page) =>
    page.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea')]
        .filter((el) => (el as HTMLElement).offsetParent !== null && (el as HTMLInputElement).type !== 'hidden')
        .filter((el) => ((el as HTMLInputElement).labels?.length ?? 0) === 0 && !el.getAttribute('aria-label'))
        .map((el) => el.outerHTML.slice(0, 120)),
    );

  before(async function () {
    requirePeers(this, CHROMIUM);
    built = await buildConsoleForTest();
    recorder = await startRecorder(() => (refuse ? 500 : 200));
    port = await freePort();
    app = await startTestApp({ consoleDir: built.dir, channels: { 'lab.channel.ts': channelFile(port, recorder.url) } });
    app.security.addUser(users.operator.username, users.operator.password, 'operator', 'Điều dưỡng Lan');
    app.security.addUser(users.viewer.username, users.viewer.password, 'viewer');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.cleanup();
    await recorder?.close();
    built?.cleanup();
  });
  afterEach(function () {
    // Script errors on a page fail the test that caused them.
    if (browser && browser.errors.length) {
      const errors = browser.errors.splice(0);
      if (this.currentTest?.state === 'passed') throw new Error(`browser errors: ${errors.join(' | ')}`);
    }
  });

  it('keyboard: the login form is labelled, starts focused, tabs username → password, Enter logs in', async () => {
    const page = await browser.newPage();
    await page.goto(`${app.apiUrl}/`);
    await page.waitForSelector('form.login-form');
    assert.equal(await mainPage(page), 'login', 'without a session / shows the login page');
    assert.deepEqual(await unlabelled(page), []);
    assert.equal(await page.getByLabel('Tên đăng nhập').count(), 1);
    assert.equal(await page.getByLabel('Mật khẩu').count(), 1);
    await screenshot(page, 'login');

    const focused = () => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name ?? document.activeElement?.tagName);
    assert.equal(await focused(), 'username');
    // A wrong password: the error is announced and focus goes back to the password.
    await page.keyboard.type('admin');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'password');
    await page.keyboard.type('not-the-password');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[role="alert"]');
    assert.match((await page.locator('[role="alert"]').textContent()) ?? '', /Sai tên đăng nhập hoặc mật khẩu/);
    assert.equal(await focused(), 'password');
    await page.keyboard.type(app.initialAdminPassword!);
    await page.keyboard.press('Enter');
    await page.waitForSelector('main[data-page="dashboard"] [data-channel="console-lab"]');
    // After navigation the page heading has focus, so keyboard and screen reader users start there.
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'page-title');
    await page.close();
  });

  it('the dashboard shows the running channel and its counters move with live events', async () => {
    const page = await browser.newPage();
    await loginAs(page, 'admin');
    const card = page.locator('[data-channel="console-lab"]');
    await card.waitFor();
    assert.equal(await card.locator('.badge[data-state="started"]').textContent(), 'Đang chạy');
    assert.equal(await card.locator('[data-connection="listener"] .badge').getAttribute('data-state'), 'listening');
    await page.waitForSelector('.live-indicator[data-live="true"]');
    const received = card.locator('[data-counter="received"]');
    const sent = card.locator('[data-counter="sent"]');
    const before = Number(await received.textContent());
    for (let i = 0; i < 4; i++) assert.equal((await send(`BN-DASH-${i}`)).status, 200);
    // No reload: the number changes because the server-sent stats stream says so.
    await page.waitForFunction(([el, n]) => Number((el as HTMLElement).textContent) >= (n as number), [await received.elementHandle(), before + 4] as const, { timeout: 10_000 });
    await page.waitForFunction((el) => Number((el as HTMLElement).textContent) >= 4, await sent.elementHandle(), { timeout: 10_000 });
    assert.equal(await page.locator('[data-tile="received"] .tile-value').textContent(), String(Number(await received.textContent())));
    // The chart has drawn a line from the live snapshots.
    await page.waitForFunction((el) => ((el as Element).querySelector('polyline')?.getAttribute('points') ?? '').split(' ').length >= 2, await card.locator('.chart-svg').elementHandle(), { timeout: 10_000 });
    await screenshot(page, 'dashboard');
    await page.close();
  });

  it('searches a message (keyboard), opens it with its HL7 tree, and reprocesses it', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await send(`BN-PAGE-${i}`)).status, 200);
    const sentNow = await send('BN-SEARCH-1', { 'x-accession': 'XN-2026-0001' });
    const messageId = sentNow.body.messageId as number;
    await waitFor(() => recorder.received.some((r) => r.messageId === String(messageId)), 10_000, 'first delivery');
    const page = await browser.newPage();
    await loginAs(page, 'operator', '/messages');
    await page.waitForSelector('main[data-page="messages"] form.search-form');
    assert.deepEqual(await unlabelled(page), []);
    const patient = page.getByLabel('Mã bệnh nhân');
    await patient.focus();
    await page.keyboard.type('BN-SEARCH-1');
    await page.keyboard.press('Enter');
    await page.waitForURL(/patientId=BN-SEARCH-1/);
    await page.waitForSelector(`[data-row="${messageId}"]`);
    assert.equal(await page.locator('[data-row]').count(), 1);
    assert.match((await page.locator(`[data-row="${messageId}"]`).textContent()) ?? '', /XN-2026-0001/);
    await screenshot(page, 'messages');

    // Keyset paging: two per page, older then newer again.
    await page.goto(`${app.apiUrl}/messages?limit=2`);
    await page.waitForSelector('[data-row]');
    const firstPage = await page.locator('[data-row]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-row'))));
    assert.equal(firstPage.length, 2);
    await page.locator('[data-action="older"]').click();
    await page.waitForURL(/before=/);
    await page.waitForSelector('[data-row]');
    const secondPage = await page.locator('[data-row]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-row'))));
    assert.ok(secondPage.length > 0 && Math.max(...secondPage) < Math.min(...firstPage), `${secondPage} after ${firstPage}`);
    await page.locator('[data-action="newer"]').click();
    await page.waitForFunction((ids) => [...document.querySelectorAll('[data-row]')].map((r) => Number(r.getAttribute('data-row'))).join() === ids.join(), firstPage);
    await page.goto(`${app.apiUrl}/messages?patientId=BN-SEARCH-1`);
    await page.locator(`a[data-message="${messageId}"]`).focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('main[data-page="message"] .tree');
    const raw = page.locator('[data-stage="raw"]');
    await raw.locator('.tree').waitFor();
    const treeText = (await raw.locator('.tree').textContent()) ?? '';
    assert.match(treeText, /PID-5/);
    assert.match(treeText, /Patient Name \(XPN\)/);
    assert.match(treeText, /Nguyễn/);
    assert.match((await raw.textContent()) ?? '', /ADT\^A01 · ADT0001/);
    assert.equal(await page.locator('[data-attempt="his:1"] .badge').getAttribute('data-state'), 'ok');
    await screenshot(page, 'message-detail');

    await page.locator('button[data-action="reprocess"]').click();
    await page.locator('dialog [data-action="confirm"]').click();
    await page.waitForSelector('.toast-success');
    await waitFor(() => recorder.received.filter((r) => r.messageId === String(messageId)).length >= 2, 10_000, 'delivery after reprocess');
    const keys = recorder.received.filter((r) => r.messageId === String(messageId)).map((r) => r.idempotencyKey);
    assert.deepEqual(keys, [`${messageId}.0.his`, `${messageId}.1.his`]);
    const admin = await app.tokenFor('admin');
    const audit = await app.api('GET', '/api/audit?action=reprocess', admin);
    assert.ok(audit.body.entries.some((e: any) => e.username === users.operator.username && e.target === `messages:${messageId}`));
    await page.close();
  });

  it('replays a dead letter from the dead-letter page', async () => {
    refuse = true;
    const sentNow = await send('BN-DEAD-1');
    const messageId = sentNow.body.messageId as number;
    const admin = await app.tokenFor('admin');
    let queueId = 0;
    await waitFor(async () => {
      const dlq = await app.api('GET', '/api/dlq', admin);
      queueId = dlq.body.deadLetters.find((d: any) => d.messageId === messageId)?.queueId ?? 0;
      return queueId > 0;
    }, 10_000, 'the delivery to die');
    refuse = false;

    const page = await browser.newPage();
    await loginAs(page, 'operator', '/dead-letters');
    const row = page.locator(`[data-queue-id="${queueId}"]`);
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /500/);
    assert.match((await row.textContent()) ?? '', /BN-DEAD-1/);
    await screenshot(page, 'dead-letters');
    await row.locator('button[data-action="replay"]').click();
    await page.waitForSelector('.toast-success');
    await waitFor(() => recorder.received.some((r) => r.messageId === String(messageId)), 10_000, 'delivery after replay');
    const dlq = await app.api('GET', '/api/dlq', admin);
    assert.equal(dlq.body.deadLetters.some((d: any) => d.queueId === queueId), false);
    await page.waitForSelector(`[data-queue-id="${queueId}"]`, { state: 'detached' });
    const audit = await app.api('GET', '/api/audit?action=dlq-replay', admin);
    assert.ok(audit.body.entries.some((e: any) => e.target === `queue:${queueId}` && e.username === users.operator.username));
    await page.close();
  });

  it('switches to English and back; the choice survives a reload', async () => {
    const page = await browser.newPage();
    await loginAs(page, 'admin');
    await page.waitForSelector('main[data-page="dashboard"] h1');
    assert.equal(await page.locator('h1').textContent(), 'Tổng quan');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'vi');
    await page.getByLabel('Ngôn ngữ').selectOption('en');
    await page.waitForSelector('h1:text-is("Dashboard")');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    assert.equal(await page.locator('[data-nav="messages"]').textContent(), '✉Messages');
    assert.equal(await page.locator('[data-channel="console-lab"] .badge[data-state="started"]').textContent(), 'Running');
    await page.reload();
    await page.waitForSelector('h1:text-is("Dashboard")');
    await screenshot(page, 'dashboard-english');
    await page.goto(`${app.apiUrl}/messages`);
    await page.waitForSelector('h1:text-is("Messages")');
    assert.equal(await page.getByLabel('Patient id').count(), 1);
    await page.getByLabel('Language').selectOption('vi');
    await page.waitForSelector('h1:text-is("Tin nhắn")');
    await page.close();
  });

  it('a viewer sees no reprocess button and the API answers 403', async () => {
    const sentNow = await send('BN-VIEW-1');
    const messageId = sentNow.body.messageId as number;
    const page = await browser.newPage();
    await loginAs(page, 'viewer', '/messages');
    await page.waitForSelector(`[data-row="${messageId}"]`);
    assert.equal(await page.locator('[data-action="reprocess-selected"]').count(), 0);
    assert.equal(await page.locator('[data-action="export-selected"]').count(), 0);
    await page.goto(`${app.apiUrl}/messages/${messageId}`);
    await page.waitForSelector('main[data-page="message"] h1:text-is("Tin nhắn #' + messageId + '")');
    await page.waitForSelector('text=Vai trò của bạn chỉ xem được siêu dữ liệu');
    assert.equal(await page.locator('[data-action="reprocess"]').count(), 0);
    assert.equal(await page.locator('.tree').count(), 0);
    // Nor can the viewer's own session token reprocess through the API.
    const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('hisbridge.session')!).token as string);
    const denied = await app.api('POST', '/api/messages/reprocess', token, { ids: [messageId] });
    assert.equal(denied.status, 403);
    assert.match(denied.body.error, /messages:reprocess/);
    await screenshot(page, 'viewer-message');
    // The navigation offers no administration pages to a viewer, and the route refuses them.
    assert.equal(await page.locator('[data-nav="users"]').count(), 0);
    await page.goto(`${app.apiUrl}/users`);
    await page.waitForSelector('text=Vai trò Người xem không được xem trang này.');
    await page.close();
  });

  it('admin adds a user and sets the role; the user creates an API token, changes the password; all audited', async () => {
    const page = await browser.newPage();
    await loginAs(page, 'admin', '/users');
    await page.locator('[data-action="add-user"]').click();
    const dialog = page.locator('dialog');
    await dialog.getByLabel('Tên đăng nhập').fill('admin');
    await dialog.getByLabel('Tên hiển thị').fill('Kỹ thuật viên Minh');
    await dialog.getByLabel('Vai trò').selectOption('viewer');
    await dialog.getByLabel('Mật khẩu mới').fill('ky-thuat-vien-pass-1');
    await dialog.locator('button[type="submit"]').click();
    // The API's reason is shown in the dialog, which stays open to correct it.
    await dialog.locator('.notice-error').waitFor();
    assert.match((await dialog.locator('.notice-error').textContent()) ?? '', /user "admin" already exists/);
    await dialog.getByLabel('Tên đăng nhập').fill('ky-thuat-vien');
    await dialog.locator('button[type="submit"]').click();
    const row = page.locator('[data-user="ky-thuat-vien"]');
    await row.waitFor();
    await row.getByLabel('Vai trò của ky-thuat-vien').selectOption('operator');
    await page.waitForSelector('.toast-success:has-text("Đã đổi vai trò của ky-thuat-vien")');
    assert.equal(app.security.getUser('ky-thuat-vien')?.role, 'operator');
    await page.close();

    const user = await browser.newPage();
    await login(user, app.apiUrl, 'ky-thuat-vien', 'ky-thuat-vien-pass-1', '/tokens');
    await user.locator('[data-action="create-token"]').click();
    await user.locator('dialog').getByLabel('Tên').fill('LIS kết quả');
    await user.locator('dialog button[type="submit"]').click();
    const secret = await user.locator('dialog').getByLabel('Token').inputValue();
    assert.match(secret, /^hb_t_/);
    // The token works against the API with the user's permissions.
    assert.equal((await app.api('GET', '/api/channels', secret)).status, 200);
    assert.equal((await app.api('GET', '/api/users', secret)).status, 403);
    await user.locator('dialog button[type="submit"]').click();
    await user.waitForSelector('td:has-text("LIS kết quả")');
    await screenshot(user, 'tokens');

    await user.goto(`${app.apiUrl}/account`);
    await user.getByLabel('Mật khẩu hiện tại').fill('ky-thuat-vien-pass-1');
    await user.getByLabel('Mật khẩu mới', { exact: true }).fill('a-new-password-2026');
    await user.getByLabel('Nhập lại mật khẩu mới').fill('a-new-password-2026');
    await screenshot(user, 'account');
    await user.locator('form button[type="submit"]').click();
    // Sessions end with a password change: back to the login page, and the new password works.
    await user.waitForSelector('main[data-page="login"]');
    await login(user, app.apiUrl, 'ky-thuat-vien', 'a-new-password-2026');
    assert.equal(await mainPage(user), 'dashboard');
    await user.close();

    const admin = await browser.newPage();
    await loginAs(admin, 'admin', '/audit?username=ky-thuat-vien');
    await admin.waitForSelector('main[data-page="audit"] td:has-text("password-changed")');
    assert.match((await admin.locator('main table').textContent()) ?? '', /token-issue/);
    await screenshot(admin, 'audit');
    await admin.close();
  });

  it('renders every page without script errors, with labelled inputs; screenshots each (desktop and ward tablet)', async () => {
    const page = await browser.newPage();
    await loginAs(page, 'admin');
    const pages: Array<[string, string, string]> = [
      ['/channels', 'channels', '[data-channel="console-lab"]'],
      ['/channels/console-lab', 'channel', '[data-source-file]'],
      ['/devices', 'devices', '[data-device-kind="iomt"]'],
      ['/users', 'users', '[data-user="admin"]'],
    ];
    for (const [url, id, ready] of pages) {
      await page.goto(`${app.apiUrl}${url}`);
      await page.waitForSelector(`main[data-page="${id}"] ${ready}`);
      assert.deepEqual(await unlabelled(page), [], `unlabelled inputs on ${url}`);
      await screenshot(page, id === 'channel' ? 'channel-detail' : id);
    }
    // The channel page shows the source file the configuration came from.
    assert.match((await page.goto(`${app.apiUrl}/channels/console-lab`), await page.locator('[data-source-file]').textContent()) ?? '', /lab\.channel\.ts$/);
    await page.close();

    const tablet = await browser.newPage({ width: 800, height: 1280 });
    await loginAs(tablet, 'operator');
    await tablet.waitForSelector('[data-channel="console-lab"]');
    // On a tablet the navigation is a drawer behind the menu button.
    assert.equal(await tablet.locator('#nav').isVisible(), false);
    await tablet.locator('.nav-toggle').click();
    assert.equal(await tablet.locator('#nav').isVisible(), true);
    assert.equal(await tablet.locator('.nav-toggle').getAttribute('aria-expanded'), 'true');
    await tablet.keyboard.press('Escape');
    assert.equal(await tablet.locator('#nav').isVisible(), false);
    await screenshot(tablet, 'tablet-dashboard');
    await tablet.goto(`${app.apiUrl}/messages`);
    await tablet.waitForSelector('[data-row]');
    await screenshot(tablet, 'tablet-messages');
    await tablet.close();
  });
});
