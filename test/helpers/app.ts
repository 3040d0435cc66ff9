// A whole application (engine + API + users) in a temporary folder, with the API on a random port.
import fs from 'node:fs';
import path from 'node:path';
import { startApplication, type ApplicationModule, type RunningApplication } from '../../engine/app';
import type { HistoryTier } from '../../engine/metrics/history';
import { engineConfigSchema, type EngineConfig } from '../../engine/config/config';
import { ensureEngineCertificates } from '../../engine/certs/certificates';
import { tempDir } from './engine';

export interface TestApp extends Omit<RunningApplication, 'api'> {
  root: string;
  config: EngineConfig;
  /** Logs in and returns a bearer token for a new user with this role (admin uses the bootstrap account). */
  tokenFor(role: 'admin' | 'operator' | 'viewer' | 'clinician'): Promise<string>;
  api(method: string, url: string, token?: string, body?: unknown): Promise<{ status: number; body: any }>;
  cleanup(): Promise<void>;
}

// Generating a CA and two certificates costs about a second: do it once per test run and copy.
let sharedCerts: string | undefined;
function copyOfTestCertificates(target: string): void {
  if (!sharedCerts) {
    sharedCerts = path.join(tempDir('hisbridge-certs-'), 'certs');
    ensureEngineCertificates(sharedCerts);
    process.once('exit', () => fs.rmSync(path.dirname(sharedCerts!), { recursive: true, force: true }));
  }
  fs.cpSync(sharedCerts, target, { recursive: true });
}

export async function startTestApp(options: { channels?: Record<string, string>; modules?: ApplicationModule[]; consoleDir?: string; overrides?: Record<string, unknown>; historyTiers?: HistoryTier[] } = {}): Promise<TestApp> {
  const root = tempDir('hisbridge-app-');
  const channelsDir = path.join(root, 'channels');
  fs.mkdirSync(channelsDir, { recursive: true });
  for (const [name, text] of Object.entries(options.channels ?? {})) fs.writeFileSync(path.join(channelsDir, name), text);
  const parsed = engineConfigSchema.parse({ api: { port: 0 }, logging: { level: 'error' }, ...options.overrides });
  const config: EngineConfig = {
    ...parsed,
    dataDir: path.join(root, 'data'),
    certsDir: path.join(root, 'certs'),
    channelsDir,
    logging: { level: 'error', dir: path.join(root, 'logs') },
    baseDir: root,
    file: null,
  };
  copyOfTestCertificates(config.certsDir);
  const app = await startApplication(config, { quiet: true, modules: options.modules, consoleDir: options.consoleDir, statsHistory: options.historyTiers ? { tiers: options.historyTiers } : undefined });
  const api = async (method: string, url: string, token?: string, body?: unknown) => {
    const res = await fetch(app.apiUrl + url, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsedBody: any = text;
    try {
      parsedBody = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsedBody };
  };
  const tokenFor = async (role: 'admin' | 'operator' | 'viewer' | 'clinician') => {
    let username = 'admin';
    let password = app.initialAdminPassword!;
    if (role !== 'admin') {
      username = `${role}-${Math.random().toString(36).slice(2, 8)}`;
      password = 'a-long-test-password-1';
      app.security.addUser(username, password, role);
    }
    const login = await api('POST', '/api/auth/login', undefined, { username, password });
    if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
    return login.body.token as string;
  };
  return Object.assign(app, {
    root,
    config,
    tokenFor,
    api,
    async cleanup() {
      await app.stop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  });
}
