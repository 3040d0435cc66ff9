// Starting a real engine in a test: its own temporary data folder, the built-in connectors, random ports.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { registerBuiltinConnectors } from '../../connectors';
import { ConnectorRegistry } from '../../engine/connectors/registry';
import { Engine, type EngineOptions } from '../../engine/engine';

export interface TestEngine {
  engine: Engine;
  dataDir: string;
  cleanup(): Promise<void>;
}

export function tempDir(prefix = 'hisbridge-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startTestEngine(options: Partial<EngineOptions> = {}): Promise<TestEngine> {
  const root = tempDir();
  const dataDir = path.join(root, 'data');
  const engine = new Engine({
    dataDir,
    certsDir: path.join(root, 'certs'),
    registry: registerBuiltinConnectors(new ConnectorRegistry()),
    retentionIntervalMs: 0,
    alertIntervalMs: 0,
    ...options,
  });
  await engine.start();
  return {
    engine,
    dataDir,
    async cleanup() {
      await engine.stop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface RecordedRequest {
  idempotencyKey: string;
  messageId: string;
  body: string;
  at: number;
}

/** An HTTP server that records what it receives; `respond` decides each answer (default 200). */
export async function startRecorder(respond: (req: RecordedRequest, count: number) => number = () => 200): Promise<{
  url: string;
  received: RecordedRequest[];
  /** Unique by idempotency key: what a deduplicating receiver would hold. */
  unique: Map<string, RecordedRequest>;
  close(): Promise<void>;
}> {
  const received: RecordedRequest[] = [];
  const unique = new Map<string, RecordedRequest>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const record: RecordedRequest = {
        idempotencyKey: String(req.headers['idempotency-key']),
        messageId: String(req.headers['x-hisbridge-message-id']),
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      const status = respond(record, received.length);
      if (status >= 200 && status < 300) {
        received.push(record);
        if (!unique.has(record.idempotencyKey)) unique.set(record.idempotencyKey, record);
      }
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'ok' : 'refused');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/in`,
    received,
    unique,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers: { 'content-type': 'text/plain', ...headers } });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* plain text */
  }
  return { status: res.status, body: parsed };
}
