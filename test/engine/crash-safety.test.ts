// Acceptance: an engine process killed with SIGKILL at random moments loses no acknowledged message,
// and a destination deduplicating on the idempotency key holds each exactly once.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { freePort, startRecorder, tempDir, waitFor } from '../helpers/engine';

const TOTAL = 20_000;
const KILLS = 5;
const IN_FLIGHT = 64;

function startChild(dataDir: string, port: number, url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../fixtures/engine/crash-child.ts'), dataDir, String(port), url], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('READY') && resolve(child));
    child.once('exit', (code) => reject(new Error(`engine child exited with ${code} before READY`)));
  });
}

describe('engine: crash safety under SIGKILL', function () {
  this.timeout(180_000);

  it(`delivers every acknowledged message of ${TOTAL} across ${KILLS} SIGKILLs, each once after deduplication`, async () => {
    const root = tempDir('hisbridge-crash-');
    const recorder = await startRecorder();
    const port = await freePort();
    const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    let child = await startChild(path.join(root, 'data'), port, recorder.url);
    const killChild = () => child.kill('SIGKILL');
    process.once('exit', killChild);
    const acknowledged = new Set<string>();
    let next = 0;
    const retry: string[] = [];
    let kills = 0;
    let restarting = false;

    const send = (body: string) =>
      new Promise<boolean>((resolve) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'content-type': 'text/plain' } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode === 200));
          res.on('error', () => resolve(false));
        });
        req.on('error', () => resolve(false));
        req.setTimeout(5000, () => req.destroy());
        req.end(body);
      });

    const killer = (async () => {
      while (kills < KILLS) {
        // Kill at evenly spread points of the stream (plus jitter), so the kills happen however
        // fast the engine is: a fixed time between kills let a fast run finish before the fifth.
        const killAt = Math.floor(((kills + 1) / (KILLS + 1)) * TOTAL * (0.85 + Math.random() * 0.3));
        while (acknowledged.size < killAt) await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
        if (acknowledged.size >= TOTAL) break;
        restarting = true;
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        kills++;
        child = await startChild(path.join(root, 'data'), port, recorder.url);
        restarting = false;
      }
    })();

    const worker = async () => {
      for (;;) {
        const body = retry.shift() ?? (next < TOTAL ? `message-${next++}` : undefined);
        if (body === undefined) {
          if (acknowledged.size >= TOTAL) return;
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        if (await send(body)) acknowledged.add(body);
        else {
          retry.push(body); // not acknowledged: the sender must try again, as an analyser would
          if (restarting) await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    await killer;
    assert.ok(kills >= KILLS, `only ${kills} kills happened before the stream ended; raise TOTAL`);

    await waitFor(() => new Set([...recorder.unique.values()].map((r) => r.body)).size >= TOTAL, 60_000, 'all acknowledged messages delivered');
    const deliveredBodies = new Set([...recorder.unique.values()].map((r) => r.body));
    const missing = [...acknowledged].filter((b) => !deliveredBodies.has(b));
    assert.deepEqual(missing, [], 'acknowledged but never delivered');
    // Deduplicated on the idempotency key, each stored message is held exactly once, with its own body.
    const perMessageId = new Map<string, string>();
    for (const record of recorder.received) {
      const seen = perMessageId.get(record.idempotencyKey);
      if (seen !== undefined) assert.equal(seen, record.body, 'one idempotency key, one message');
      perMessageId.set(record.idempotencyKey, record.body);
    }
    assert.equal(recorder.unique.size, perMessageId.size);
    console.log(`      ${acknowledged.size} acknowledged, ${kills} kills, ${recorder.received.length} deliveries (${recorder.received.length - recorder.unique.size} redeliveries removed by the key)`);
    process.off('exit', killChild);
    child.kill('SIGKILL');
    agent.destroy();
    await recorder.close();
    fs.rmSync(root, { recursive: true, force: true });
  });
});
