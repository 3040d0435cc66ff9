// Browser tests of the web console: the console built into a temporary folder, a whole application
// serving it, and Debian's Chromium driven by playwright-core (a fresh profile per run).
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildConsole } from '../../console/build';
import { tempDir } from '../helpers/engine';

export const CHROMIUM = '/usr/bin/chromium';
export const artifactsDir = path.resolve(__dirname, '..', '..', 'test-artifacts', 'console');

/** Builds the console into a fresh temporary folder (tests never touch console/dist). */
export async function buildConsoleForTest(): Promise<{ dir: string; cleanup(): void }> {
  const dir = tempDir('hisbridge-console-');
  await buildConsole({ outDir: dir });
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface TestBrowser {
  context: BrowserContext;
  /** Errors the pages threw or logged (a test asserts there are none). */
  errors: string[];
  newPage(options?: { width?: number; height?: number }): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = tempDir('hisbridge-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1366, height: 900 },
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
  });
  const errors: string[] = [];
  const watch = (page: Page) => {
    page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      // A 401/403/404 the test provokes on purpose is logged by Chromium as a failed resource load.
      if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) errors.push(`console: ${message.text()}`);
    });
  };
  context.on('page', watch);
  return {
    context,
    errors,
    async newPage(options = {}) {
      const page = await context.newPage();
      if (options.width) await page.setViewportSize({ width: options.width, height: options.height ?? 1024 });
      return page;
    },
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as a test artefact (test-artifacts/console/<name>.png). */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(artifactsDir, { recursive: true });
  await page.screenshot({ path: path.join(artifactsDir, `${name}.png`), fullPage: true });
}

/** Logs in through the login form and waits for the first page after it. */
export async function login(page: Page, baseUrl: string, username: string, password: string, next = '/'): Promise<void> {
  await page.goto(`${baseUrl}${next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`}`);
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('form.login-form button[type="submit"]').click();
  await page.waitForFunction(() => document.querySelector('main')?.dataset.page !== 'login');
}
