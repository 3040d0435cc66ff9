// The CLI and the README's start command, run as a person would: real processes, real output.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, tempDir, waitFor } from '../helpers/engine';

const bin = path.join(__dirname, '../../bin/hisbridge.js');
const fixtures = path.join(__dirname, '../fixtures/engine');

function hisbridge(args: string[], env: Record<string, string> = {}, input?: string) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, input, timeout: 60_000 });
}

describe('CLI', function () {
  this.timeout(120_000);

  it('test-channel prints every stage of a message run through a channel file', () => {
    const run = hisbridge(['test-channel', path.join(fixtures, 'uppercase.channel.ts'), path.join(fixtures, 'message.txt')]);
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout);
    assert.equal(report.status, 'QUEUED');
    assert.deepEqual(report.stages.map((s: any) => `${s.stage}:${s.outcome}`), ['filter[0]:passed', 'transformer:transformed']);
    assert.equal(report.deliveries[0].content, 'XIN CHÀO BỆNH VIỆN');
    assert.deepEqual(report.correlation, { patientId: 'BN-7' });
  });

  it('test-channel exits non-zero and names the stage when the transformer throws', () => {
    const bad = path.join(tempDir(), 'bad.txt');
    fs.writeFileSync(bad, 'THROW');
    const run = hisbridge(['test-channel', path.join(fixtures, 'uppercase.channel.ts'), bad]);
    assert.equal(run.status, 1);
    const report = JSON.parse(run.stdout);
    assert.equal(report.status, 'ERROR');
    assert.match(report.error, /^transformer: Error: asked to throw/);
  });

  it('the start command runs the engine, prints the generated admin password once, and the operating commands work against it', async () => {
    const root = tempDir('hisbridge-start-');
    const apiPort = await freePort();
    const demoPort = await freePort();
    const config = path.join(root, 'hisbridge.config.yaml');
    fs.mkdirSync(path.join(root, 'channels'));
    fs.writeFileSync(
      path.join(root, 'channels', 'uppercase.channel.ts'),
      `export default { id: 'uppercase', name: 'Upper case', source: { connector: 'http', config: { port: 0 } }, transformer: (m: { text: string }) => m.text.toUpperCase() };\n`,
    );
    fs.writeFileSync(
      config,
      `api: { port: ${apiPort} }\nlogging: { level: warn }\ndemo: { enabled: false, httpPort: ${demoPort}, mllpPort: 0, dicomPort: 0, astmPort: 0, mqttPort: 0 }\n`,
    );
    const child = spawn(process.execPath, [bin, 'start', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const stop = () => child.kill('SIGKILL');
    process.once('exit', stop);
    try {
      await waitFor(() => /password: (\S+)/.test(output) || child.exitCode !== null, 90_000, 'the first-start banner');
      const password = /password: (\S+)/.exec(output)?.[1];
      assert.ok(password, output);
      await waitFor(async () => (await fetch(`http://127.0.0.1:${apiPort}/ready`).catch(() => undefined))?.status === 200, 60_000, '/ready');
      const env = { HISBRIDGE_CONFIG: config, HISBRIDGE_PASSWORD: 'operator-password-123' };
      assert.equal(hisbridge(['user', 'add', 'ops', '--role', 'operator'], env).status, 0);
      const token = hisbridge(['user', 'token', 'ops', '--name', 'cli'], env).stdout.trim();
      assert.match(token, /^hb_t_/);
      const list = hisbridge(['channel', 'list'], { HISBRIDGE_URL: `http://127.0.0.1:${apiPort}`, HISBRIDGE_TOKEN: token });
      assert.equal(list.status, 0, list.stderr);
      assert.deepEqual(JSON.parse(list.stdout).channels.map((c: any) => c.id), ['uppercase']);
      const denied = hisbridge(['channel', 'list'], { HISBRIDGE_URL: `http://127.0.0.1:${apiPort}`, HISBRIDGE_TOKEN: 'hb_t_wrong' });
      assert.equal(denied.status, 1);
      assert.match(denied.stderr, /401/);
      const login = await fetch(`http://127.0.0.1:${apiPort}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
      assert.equal(login.status, 200);
      // A second engine on the same port stops with a message naming the port and the setting.
      const clash = hisbridge(['start', '--config', config]);
      assert.notEqual(clash.status, 0);
      assert.match(clash.stderr, new RegExp(`port ${apiPort} on 127.0.0.1 is already in use \\(setting: api.port\\)`));
      // Restarting does not print a password again.
      child.kill('SIGTERM');
      const code = await new Promise((r) => child.once('exit', r));
      assert.equal(code, 0, 'a graceful stop exits 0');
    } finally {
      process.off('exit', stop);
      stop();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
