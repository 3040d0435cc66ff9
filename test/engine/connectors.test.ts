import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { freePort, post, startRecorder, startTestEngine, tempDir, waitFor, type TestEngine } from '../helpers/engine';

describe('file connector', () => {
  let t: TestEngine;
  afterEach(async () => t && (await t.cleanup()));

  it('reads files after they are stored, moves them aside, and writes idempotently named files atomically', async () => {
    t = await startTestEngine();
    const inbox = path.join(tempDir(), 'in');
    const outbox = path.join(tempDir(), 'out');
    fs.mkdirSync(inbox, { recursive: true });
    fs.writeFileSync(path.join(inbox, 'a.hl7'), 'MSH|first');
    fs.writeFileSync(path.join(inbox, 'b.hl7'), 'MSH|second');
    fs.writeFileSync(path.join(inbox, 'ignored.txt'), 'not mine');
    await t.engine.deployChannel({
      id: 'files',
      name: 'Files',
      source: { connector: 'file', config: { directory: inbox, pattern: '*.hl7', pollIntervalMs: 50, minAgeMs: 0, contentType: 'application/hl7-v2' } },
      transformer: (m: any) => m.text.toUpperCase(),
      destinations: [{ name: 'out', connector: 'file', config: { directory: outbox, extension: '.hl7' } }],
    } as any);
    await waitFor(() => fs.existsSync(outbox) && fs.readdirSync(outbox).filter((f) => !f.startsWith('.')).length === 2, 5000, 'two output files');
    const written = fs.readdirSync(outbox).sort();
    assert.deepEqual(written.map((f) => fs.readFileSync(path.join(outbox, f), 'utf8')).sort(), ['MSH|FIRST', 'MSH|SECOND']);
    assert.ok(written.every((f) => /^\d+\.0\.out\.hl7$/.test(f)), written.join(','));
    assert.deepEqual(fs.readdirSync(path.join(inbox, 'processed')).map((f) => f.replace(/^\d+-/, '')).sort(), ['a.hl7', 'b.hl7']);
    assert.ok(fs.existsSync(path.join(inbox, 'ignored.txt')));
  });

  it('moves a file whose transformer failed to errored/ and keeps it in the store', async () => {
    t = await startTestEngine();
    const inbox = path.join(tempDir(), 'in');
    fs.mkdirSync(inbox, { recursive: true });
    fs.writeFileSync(path.join(inbox, 'bad.json'), '{not json');
    await t.engine.deployChannel({
      id: 'json-files',
      name: 'JSON files',
      source: { connector: 'file', config: { directory: inbox, pollIntervalMs: 50, minAgeMs: 0, contentType: 'application/json' } },
      transformer: (m: any) => JSON.parse(m.text),
    } as any);
    await waitFor(() => fs.existsSync(path.join(inbox, 'errored')) && fs.readdirSync(path.join(inbox, 'errored')).length === 1, 5000, 'errored file');
    const [errored] = await t.engine.store.search({ status: 'ERROR' });
    assert.match(errored.error ?? '', /JSON/);
    assert.equal((await t.engine.store.rawContent(errored.id))!.data.toString(), '{not json');
  });
});

describe('http connector', () => {
  let t: TestEngine;
  afterEach(async () => t && (await t.cleanup()));

  it('requires the bearer token when one is configured, refuses oversize bodies, and names a taken port', async () => {
    t = await startTestEngine();
    const port = await freePort();
    await t.engine.deployChannel({ id: 'secure', name: 'S', source: { connector: 'http', config: { port, token: 'a-very-long-shared-token', maxBytes: 100 } } } as any);
    assert.equal((await post(`http://127.0.0.1:${port}/`, 'x')).status, 401);
    assert.equal((await post(`http://127.0.0.1:${port}/`, 'x', { authorization: 'Bearer a-very-long-shared-token' })).status, 200);
    assert.equal((await post(`http://127.0.0.1:${port}/`, 'x'.repeat(200), { authorization: 'Bearer a-very-long-shared-token' })).status, 413);
    await assert.rejects(
      t.engine.deployChannel({ id: 'clash', name: 'C', source: { connector: 'http', config: { port } } } as any),
      new RegExp(`port ${port} on 127.0.0.1 is already in use \\(setting: channel clash source.config.port\\)`),
    );
    assert.equal((await post(`http://127.0.0.1:${port}/`, 'x', { authorization: 'Bearer a-very-long-shared-token' })).status, 200, 'the first channel still runs');
  });

  it('refuses a channel whose connector configuration is wrong, naming the field', async () => {
    t = await startTestEngine();
    await assert.rejects(
      t.engine.deployChannel({ id: 'bad', name: 'B', source: { connector: 'http', config: { port: 'eighty' } } } as any),
      /source\.config\.port: .*number/,
    );
    await assert.rejects(t.engine.deployChannel({ id: 'bad2', name: 'B', source: { connector: 'carrier-pigeon' } } as any), /unknown connector type "carrier-pigeon"/);
  });
});

describe('alerts', () => {
  it('raises an alert when a queue grows past its threshold and posts it to the webhook', async () => {
    const { startTestApp } = await import('../helpers/app');
    const hooks: any[] = [];
    const hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        hooks.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const down = await startRecorder(() => 503);
    const port = await freePort();
    const app = await startTestApp({
      overrides: { alerts: { webhookUrl: `http://127.0.0.1:${(hook.address() as any).port}/hook` } },
      channels: {
        'q.channel.ts': `export default { id: 'queue-alert', name: 'Q', alerts: { queueDepth: 3 },
          source: { connector: 'http', config: { port: ${port} } },
          destinations: [{ name: 'down', connector: 'http', config: { url: '${down.url}' }, queue: { initialBackoffMs: 60000 } }] };`,
      },
    });
    try {
      for (let i = 0; i < 5; i++) await post(`http://127.0.0.1:${port}/`, `m${i}`);
      await app.engine.evaluateAlerts();
      const alert = app.engine.listAlerts().find((a) => a.kind === 'queue-depth');
      assert.ok(alert, 'queue-depth alert raised');
      assert.match(alert!.message, /5 deliveries queued \(threshold 3\)/);
      await waitFor(() => hooks.some((h) => h.kind === 'queue-depth'), 5000, 'webhook call');
      const token = await app.tokenFor('operator');
      assert.equal((await app.api('POST', `/api/alerts/${encodeURIComponent(alert!.id)}/ack`, token)).status, 200);
      assert.equal(app.engine.listAlerts().find((a) => a.id === alert!.id)!.acknowledged, true);
    } finally {
      await app.cleanup();
      await down.close();
      hook.close();
    }
  });
});
