// Channels the channel files define but the engine does not run (undeployed from another browser, or
// refused a deploy) are listed by GET /api/channels as `undeployed`, and the console offers Deploy.
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app';
import { freePort } from '../helpers/engine';
import { requirePeers } from '../helpers/peers';
import { buildConsoleForTest, CHROMIUM, launchBrowser, login, screenshot, type TestBrowser } from './helpers';

const channelFile = (id: string, name: string, port: number) => `
import { defineChannel } from ${JSON.stringify(require.resolve('../../engine/channel/definition'))};
export default defineChannel({ id: '${id}', name: '${name}', source: { connector: 'http', config: { port: ${port} } }, destinations: [] });
`;

describe('undeployed channels in the API and the console', function () {
  this.timeout(60_000);
  let app: TestApp;
  let built: { dir: string; cleanup(): void } | undefined;
  let browser: TestBrowser | undefined;

  before(async () => {
    app = await startTestApp({
      channels: { 'a.channel.ts': channelFile('kenh-a', 'Kênh A', await freePort()), 'b.channel.ts': channelFile('kenh-b', 'Kênh xét nghiệm B', await freePort()) },
    });
  });
  after(async () => {
    await browser?.close();
    await app?.cleanup();
    built?.cleanup();
  });

  it('GET /api/channels lists a channel undeployed through the API, with its name and file, until it is deployed again', async () => {
    const viewer = await app.tokenFor('viewer');
    const admin = await app.tokenFor('admin');
    let list = await app.api('GET', '/api/channels', viewer);
    assert.deepEqual(list.body.undeployed, []);
    assert.equal((await app.api('POST', '/api/channels/kenh-b/undeploy', admin)).status, 200);
    list = await app.api('GET', '/api/channels', viewer);
    assert.deepEqual(list.body.channels.map((c: any) => c.id), ['kenh-a']);
    assert.equal(list.body.undeployed.length, 1);
    assert.equal(list.body.undeployed[0].id, 'kenh-b');
    assert.equal(list.body.undeployed[0].name, 'Kênh xét nghiệm B');
    assert.equal(list.body.undeployed[0].deployed, false);
    assert.match(list.body.undeployed[0].sourceFile, /b\.channel\.ts$/);
    assert.equal((await app.api('POST', '/api/channels/kenh-b/deploy', admin)).status, 200);
    list = await app.api('GET', '/api/channels', viewer);
    assert.deepEqual(list.body.undeployed, []);
    assert.deepEqual(list.body.channels.map((c: any) => c.id), ['kenh-a', 'kenh-b']);
  });

  it('the Channels page shows the undeployed channel with a Deploy button that deploys it (keyboard)', async function () {
    requirePeers(this, CHROMIUM);
    built = await buildConsoleForTest();
    // A second application serving the console, on the same kind of channel folder.
    const withConsole = await startTestApp({ consoleDir: built.dir, channels: { 'b.channel.ts': channelFile('kenh-b', 'Kênh xét nghiệm B', await freePort()) } });
    try {
      const admin = await withConsole.tokenFor('admin');
      assert.equal((await withConsole.api('POST', '/api/channels/kenh-b/undeploy', admin)).status, 200);
      browser = await launchBrowser();
      const page = await browser.newPage();
      await login(page, withConsole.apiUrl, 'admin', withConsole.initialAdminPassword!, '/channels');
      const row = page.locator('tr[data-channel="kenh-b"]');
      await row.waitFor();
      assert.match((await row.textContent()) ?? '', /Kênh xét nghiệm B/);
      await screenshot(page, 'channels-undeployed');
      await row.locator('[data-action="deploy"]').focus();
      await page.keyboard.press('Enter');
      await page.waitForSelector('tr[data-channel="kenh-b"] [data-state="started"]');
      assert.deepEqual(withConsole.engine.channelIds(), ['kenh-b']);
      assert.deepEqual(browser.errors, []);
      await page.close();
    } finally {
      await withConsole.cleanup();
    }
  });
});
