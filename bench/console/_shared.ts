// Shared by the console benchmarks: a whole application (engine, API, built console) in a temporary
// folder, started the way `npm start` does, and small statistics helpers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildConsole } from '../../console/build';
import { startApplication, type RunningApplication } from '../../engine/app';
import { engineConfigSchema, type EngineConfig } from '../../engine/config/config';

export interface BenchApp {
  app: RunningApplication;
  root: string;
  consoleDir: string;
  token: string;
  stop(): Promise<void>;
}

export function benchRoot(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startBenchApp(root: string, channels: Record<string, string> = {}): Promise<BenchApp> {
  const consoleDir = path.join(root, 'console');
  await buildConsole({ outDir: consoleDir });
  const channelsDir = path.join(root, 'channels');
  fs.mkdirSync(channelsDir, { recursive: true });
  for (const [name, text] of Object.entries(channels)) fs.writeFileSync(path.join(channelsDir, name), text);
  const parsed = engineConfigSchema.parse({ api: { port: 0 }, logging: { level: 'error' } });
  const config: EngineConfig = {
    ...parsed,
    dataDir: path.join(root, 'data'),
    certsDir: path.join(root, 'certs'),
    channelsDir,
    logging: { level: 'error', dir: path.join(root, 'logs') },
    baseDir: root,
    file: null,
  };
  const app = await startApplication(config, { quiet: true, consoleDir });
  const login = await fetch(`${app.apiUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: app.initialAdminPassword }) });
  const body = (await login.json()) as { token: string };
  return { app, root, consoleDir, token: body.token, stop: () => app.stop() };
}

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function summary(samples: number[]): { n: number; p50: number; p95: number; max: number } {
  const sorted = samples.slice().sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 10) / 10;
  return { n: sorted.length, p50: round(percentile(sorted, 0.5)), p95: round(percentile(sorted, 0.95)), max: round(sorted[sorted.length - 1]) };
}
