// The REST routes (mounted by the engine under /api/claims behind authentication).
import assert from 'node:assert/strict';
import express from 'express';
import { mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createClaimsRouter } from '../../claims/api';
import { GatewaySimulator } from '../../claims/gateway/simulator';
import { prepareClaim, saveClaim } from '../../claims/pipeline';
import { ClaimSigner } from '../../claims/signer/sign';
import { ClaimsService } from '../../claims/service';
import { createTestCa, issueCertificate } from '../../engine/certs/certificates';
import { emergencySource, inpatientSource } from './sources';

describe('claims REST routes', function () {
  this.timeout(60_000);
  let dir: string;
  let server: http.Server;
  let base: string;
  let service: ClaimsService;
  let sim: GatewaySimulator;
  let allowSubmit = true;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'claims-api-'));
    sim = new GatewaySimulator({ username: 'u', password: 'p' });
    const url = await sim.start();
    const ca = createTestCa('api CA');
    service = new ClaimsService({
      dataDir: dir,
      certsDir: path.join(dir, 'certs'),
      config: { maCskcb: '01999', gateway: { host: url, profile: 'default', timeoutMs: 5000, maxAttempts: 1, backoffMs: 10 } },
      signer: new ClaimSigner(issueCertificate(ca, { commonName: 'api', usage: 'signing' })),
    });
    service.setCredentials({ username: 'u', password: 'p' });
    const app = express();
    app.use('/api/claims', createClaimsRouter({ service, requireSubmit: (_req, res, next) => (allowSubmit ? next() : void res.status(403).json({ error: 'lacks claims:submit' })) }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/claims`;
    for (const src of [inpatientSource(), emergencySource()]) saveClaim(service.store, await prepareClaim(src, { signer: service.signer(), signerHealthId: '0101234567', ngayLap: '20250314' }));
  });

  after(async () => {
    await new Promise((r) => server?.close(r));
    service?.close();
    await sim?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const get = async (p: string) => {
    const res = await fetch(base + p);
    return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
  };
  const post = async (p: string, body?: unknown, type = 'application/json') => {
    const res = await fetch(base + p, { method: 'POST', headers: { 'content-type': type }, body: (body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body)) as never });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('lists claims by status and period, with counts', async () => {
    const r = await get('/?status=ready&period=2025-03');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.claims.map((c: { maLk: string }) => c.maLk).sort(), ['LK-ER-1', 'LK-IN-1']);
    assert.deepEqual(r.body.counts, { ready: 2 });
    assert.equal((await get('/?status=nope')).status, 400);
    assert.equal((await get('/?period=2025-3')).body.error, 'period must be yyyy-MM (NAM_QT-THANG_QT)');
  });

  it('validates an uploaded file (streamed) and reports every finding with its place', async () => {
    const env = service.store.envelope('LK-IN-1', 1)!.toString('utf8').replace('<MACSKCB>01999</MACSKCB>', '<MACSKCB>0199</MACSKCB>');
    const r = await post('/validate', env, 'application/xml');
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.findings.map((f: { rule: string; table: string }) => `${f.table} ${f.rule}`),
      ['XML1 link.facility', 'ENVELOPE envelope.header'],
    );
  });

  it('submits one claim, shows its receipts, serves the signed envelope, and refuses without permission', async () => {
    allowSubmit = false;
    assert.equal((await post('/LK-IN-1/submit', {})).status, 403);
    allowSubmit = true;
    const s = await post('/LK-IN-1/submit', {});
    assert.equal(s.body.status, 'accepted');
    const one = await get('/LK-IN-1');
    assert.equal(one.body.versions[0].receipts[0].maGiaoDich, sim.received[0].maGiaoDich);
    const env = await get('/LK-IN-1/1/envelope');
    assert.match(env.body, /<CHUKYDONVI><Signature xmlns="http:\/\/www.w3.org\/2000\/09\/xmldsig#">/);
    assert.equal((await get('/NOPE')).status, 404);
  });

  it('lists rejected claims with the gateway message, and settles an unconfirmed send', async () => {
    sim.options.decide = () => ({ accept: false, maKetQua: '053', thongDiep: 'Mã quyền lợi (ký tự 3) không đúng' });
    await post('/submit');
    const rejected = await get('/rejected');
    assert.deepEqual(rejected.body.map((c: { maLk: string; message: string }) => [c.maLk, c.message]), [['LK-ER-1', 'Mã quyền lợi (ký tự 3) không đúng']]);
    assert.equal((await post('/LK-ER-1/1/confirm', { received: true })).status, 409);
    assert.equal((await post('/LK-ER-1/reopen')).body.version, 2);
    sim.options.decide = undefined;
    sim.dropNext = 1;
    assert.equal((await post('/LK-ER-1/submit', {})).body.status, 'unconfirmed');
    assert.equal((await post('/LK-ER-1/2/confirm', { received: false })).body.status, 'failed');
    assert.equal((await post('/LK-ER-1/submit', {})).body.status, 'accepted');
    assert.equal((await post('/LK-ER-1/2/confirm', {})).status, 400);
  });
});
