// `hisbridge claims …`: validate prints every finding with its place and exits non-zero on errors;
// build, submit, list and show work against the demo HIS and the gateway simulator.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { claimsCli } from '../../claims/cli';
import { GatewaySimulator } from '../../claims/gateway/simulator';
import { prepareClaim } from '../../claims/pipeline';
import { createDemoHis } from '../../his/demo';
import { inpatientSource } from './sources';

async function run(verb: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  const saved = { ...process.env };
  Object.assign(process.env, env);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    const code = await claimsCli.commands[verb].run(args);
    return { code, out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
    for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
  }
}

describe('claims CLI', function () {
  this.timeout(120_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'claims-cli-'));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('validate: a clean file exits 0, a file with errors exits 1 and names every place, bad usage exits 2', async () => {
    const good = path.join(dir, 'good.xml');
    const prepared = await prepareClaim(inpatientSource(), { signerHealthId: '0101234567' });
    writeFileSync(good, prepared.envelope!);
    const ok = await run('validate', [good]);
    assert.equal(ok.code, 0);
    assert.equal(ok.out, `${good}: WARNING ENVELOPE [envelope.not-signed]: CHUKYDONVI is empty: the facility signature is missing\n${good}: 1 episode(s): 0 error(s), 1 warning(s)\n`);
    const bad = path.join(dir, 'bad.xml');
    writeFileSync(bad, prepared.envelope!.toString('utf8').replace('<SOLUONGHOSO>1</SOLUONGHOSO>', '<SOLUONGHOSO>2</SOLUONGHOSO>'));
    const r = await run('validate', [bad]);
    assert.equal(r.code, 1);
    assert.match(r.out, /ERROR ENVELOPE \[envelope\.count\]: SOLUONGHOSO is «2» but the envelope holds 1 HOSO/);
    const xxe = path.join(dir, 'xxe.xml');
    writeFileSync(xxe, '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><TONG_HOP>&e;</TONG_HOP>');
    const x = await run('validate', [xxe]);
    assert.equal(x.code, 1);
    assert.match(x.out, /NOT READABLE/);
    assert.equal((await run('validate', [])).code, 2);
    assert.equal((await run('validate', [good, '--version', '999'])).code, 2);
    const json = await run('validate', [good, '--json']);
    assert.equal(JSON.parse(json.out).episodes[0].maLk, 'LK-IN-1');
  });

  it('runs from the hisbridge command line (engine/cli/main.ts)', () => {
    const file = path.join(dir, 'one.xml');
    writeFileSync(file, '<TONG_HOP><MA_LK>X</MA_LK></TONG_HOP>');
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', '..', 'engine', 'cli', 'main.ts'), 'claims', 'validate', file], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /ERROR XML1 record 1 \(MA_LK=X\) MA_BN line 1 \[field\.required\]: required field is missing/);
  });

  it('credentials → build → list → submit → show, against the demo HIS and the simulator', async () => {
    const sim = new GatewaySimulator({ username: '01999_BV', password: 'cli-secret' });
    const url = await sim.start();
    try {
      const his = path.join(dir, 'his.sqlite');
      await createDemoHis({ file: his, visits: 300, seed: 7, today: new Date('2025-03-20T10:00:00+07:00') });
      const claimsConfig = path.join(dir, 'claims.config.yaml');
      writeFileSync(claimsConfig, `signerHealthId: '0101234567'\nmaCskcb: '01999'\ngateway:\n  host: ${url}\n  maxAttempts: 1\n  backoffMs: 10\n`);
      const common = ['--data-dir', path.join(dir, 'data'), '--certs-dir', path.join(dir, 'certs'), '--claims-config', claimsConfig];
      const cred = await run('credentials', ['--username', '01999_BV', ...common], { HISBRIDGE_GATEWAY_PASSWORD: 'cli-secret' });
      assert.equal(cred.code, 0, cred.err);
      const b = await run('build', ['--from', '2025-03-18', '--to', '2025-03-18', '--his-sqlite', his, ...common]);
      assert.match(b.out, /\d+ visit\(s\): \d+ new, 0 updated, 0 unchanged; \d+ with errors, \d+ with warnings only/);
      assert.match(b.out, /LK\d+ v1 created: ok/);
      const list = await run('list', ['--status', 'ready', ...common]);
      const ready = list.out.split('\n').filter((l) => /^LK\d+\tv1\tready/.test(l));
      assert.ok(ready.length > 0, list.out);
      const s = await run('submit', common);
      assert.equal((s.out.match(/: accepted maGiaoDich [0-9A-F]{32}/g) ?? []).length, ready.length, s.out);
      assert.equal(sim.received.length, ready.length);
      const again = await run('submit', common);
      assert.equal(again.out, 'nothing to send\n');
      const maLk = ready[0].split('\t')[0];
      const show = await run('show', [maLk, ...common]);
      assert.match(show.out, new RegExp(`version 1 \\(3176\\): accepted`));
      assert.match(show.out, /receipt #\d+ attempt 1 .* accepted maKetQua 200 maGiaoDich [0-9A-F]{32} — Tiếp nhận thành công/);
    } finally {
      await sim.stop();
    }
  });
});
